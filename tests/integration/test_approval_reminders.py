"""Waiting approvals: a batch or claim waiting for a tap reminds its approver (or the stand-in)
every ``approval_remind_every`` on the branch's working clock, with the card's own one-tap
buttons, until decided; past ``approval_deadline`` it becomes an alert that escalates along
the policy, and the decision resolves that alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.domain.batches import BatchState
from core.domain.contributions import DelayReason
from core.domain.directory import Role
from core.domain.escalation import AlertState, StepState, SubjectKind
from core.ports import ManualClock
from core.services.absences import set_away
from core.services.alerts import resolve_alert, sweep_escalations
from core.services.approvals import plan_approval_waits, remind_due_approvals
from core.services.batches import approve_batch
from core.services.claims import approve_claim, submit_claim
from core.services.context import Context
from core.services.review import verify_batch
from tests.factories import (
    Org,
    add_branch,
    add_employee,
    add_records,
    audit_trail,
    make_batch,
    make_org,
    notices,
    open_complete_claim,
)

# The tests start on Monday 12 October 2026, 09:00 in Shanghai (01:00 UTC); weekends are off.
MON_17 = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)  # 17:00 local: 8 working hours later
TUE_16 = datetime(2026, 10, 13, 8, 0, tzinfo=UTC)  # 16:00 local: 1 h Monday + 7 h Tuesday
THU_18 = datetime(2026, 10, 15, 10, 0, tzinfo=UTC)  # end of the 3rd workday after Monday
AMOUNT = Decimal("8650.00")


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


def tick(ctx: Context, clock: ManualClock, at: datetime, owner: str = "w1") -> None:
    clock.set(at)
    plan_approval_waits(ctx)
    remind_due_approvals(ctx, owner)
    sweep_escalations(ctx, owner)


def clean_claim(ctx: Context, org: Org) -> int:
    add_records(ctx, org.employee, ["2026-08", "2026-09", "2026-10"], unpaid=["2026-10"])
    claim_id = open_complete_claim(ctx, org.employee)
    submit_claim(ctx, claim_id, org.employee.id)
    return claim_id


def test_a_claim_under_review_reminds_finance_every_8_working_hours_until_decided(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    claim_id = clean_claim(ctx, org)
    tick(ctx, clock, clock.now())
    assert notices(ctx, "approval.reminder.claim") == []  # the card itself has just gone

    tick(ctx, clock, MON_17 - _minute())
    assert notices(ctx, "approval.reminder.claim") == []
    tick(ctx, clock, MON_17)
    (first,) = notices(ctx, "approval.reminder.claim")
    assert first.to == "SH01-F001"
    assert [b["action"] for b in first.buttons] == ["claim.approve", "claim.return", "claim.reject"]
    assert first.params["times"] == 1 and first.params["overdue"] is False

    tick(ctx, clock, TUE_16 - _minute())
    assert len(notices(ctx, "approval.reminder.claim")) == 1
    tick(ctx, clock, TUE_16)  # a second worker would find nothing more to send
    remind_due_approvals(ctx, "w2")
    assert [n.params["times"] for n in notices(ctx, "approval.reminder.claim")] == [1, 2]

    approve_claim(ctx, claim_id, org.finance.id, AMOUNT)
    tick(ctx, clock, THU_18)
    assert len(notices(ctx, "approval.reminder.claim")) == 2  # decided: no more reminders
    with ctx.uow() as uow:
        (wait,) = uow.approvals.all()
        assert (wait.state, wait.note) == (StepState.CANCELLED, "decided")
        assert uow.alerts.unresolved_for(SubjectKind.CLAIM_APPROVAL, claim_id) == []


def test_a_batch_past_its_approval_deadline_opens_an_alert_that_escalates_and_ends_on_approval(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    batch_id = make_batch(ctx, org, "2026-09", BatchState.FINANCE_PENDING)
    tick(ctx, clock, clock.now())
    for at in (MON_17, TUE_16, datetime(2026, 10, 14, 7, 0, tzinfo=UTC)):
        tick(ctx, clock, at)
    reminders = notices(ctx, "approval.reminder.batch")
    assert [n.to for n in reminders] == ["SH01-F001"] * 3
    assert [b["action"] for b in reminders[0].buttons] == ["batch.approve", "batch.return"]
    assert notices(ctx, "alert.approval.batch.level1") == []

    tick(ctx, clock, THU_18)
    last = notices(ctx, "approval.reminder.batch")[-1]
    assert last.params["overdue"] is True
    (alert_card,) = notices(ctx, "alert.approval.batch.level1")
    assert alert_card.to == "SH01-H001"  # HR chases the late approval
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.BATCH_APPROVAL, batch_id)
        assert alert.suspected_cause is DelayReason.FINANCE_APPROVAL
    overdue = [e for e in audit_trail(ctx, "batch", batch_id) if e.action == "approval.overdue"]
    assert len(overdue) == 1

    tick(ctx, clock, datetime(2026, 10, 16, 10, 0, tzinfo=UTC))  # 24 h later: the HR manager
    assert [n.to for n in notices(ctx, "alert.approval.batch.level2")] == ["SH01-M001"]
    assert len(notices(ctx, "approval.reminder.batch")) == 4  # the alert took over

    approve_batch(ctx, batch_id, org.finance.id)
    with ctx.uow() as uow:
        assert uow.alerts.get(alert.id).state is AlertState.RESOLVED
    tick(ctx, clock, datetime(2026, 10, 20, 10, 0, tzinfo=UTC))
    assert notices(ctx, "alert.approval.batch.level3") == []


def test_a_verified_batch_starts_a_new_wait_for_finance(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    batch_id = make_batch(ctx, org, "2026-09", BatchState.DRAFT)
    tick(ctx, clock, clock.now())
    tick(ctx, clock, MON_17)
    (hr_reminder,) = notices(ctx, "approval.reminder.batch")
    assert hr_reminder.to == "SH01-H001" and hr_reminder.params["step"] == "verify"
    assert [b["action"] for b in hr_reminder.buttons] == ["batch.verify", "batch.return"]

    verify_batch(ctx, batch_id, org.hr.id)
    tick(ctx, clock, MON_17)
    with ctx.uow() as uow:
        (wait,) = uow.approvals.all()
        assert wait.stage == "finance_pending:v1" and wait.since == MON_17
    tick(ctx, clock, TUE_16 + _hours(1))  # Tuesday 17:00: 8 working hours after Monday 17:00
    finance_reminder = notices(ctx, "approval.reminder.batch")[-1]
    assert finance_reminder.to == "SH01-F001" and finance_reminder.params["step"] == "approve"


def test_the_reminder_goes_to_the_stand_in_of_an_approver_who_is_away(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    beijing = add_branch(ctx, "BJ01", "北京分公司")
    add_employee(ctx, beijing, "BJ01-F001", "周九", Role.FINANCE, responsible_for=[beijing])
    set_away(ctx, org.finance.id, clock.now().date(), datetime(2026, 10, 20).date(), "BJ01-F001")
    clean_claim(ctx, org)
    tick(ctx, clock, clock.now())
    tick(ctx, clock, MON_17)
    (reminder,) = notices(ctx, "approval.reminder.claim")
    assert (reminder.to, reminder.params["on_behalf_of"]) == ("BJ01-F001", "王五")


def _minute() -> timedelta:
    return timedelta(minutes=1)


def _hours(n: int) -> timedelta:
    return timedelta(hours=n)


def test_an_overdue_alert_resolved_by_hand_while_the_batch_still_waits_starts_the_chase_again(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    """Resolving the alert says its cause was dealt with; if the approval still does not come,
    reminders and, at the next deadline, a new alert follow (before, nobody asked again)."""
    batch_id = make_batch(ctx, org, "2026-09", BatchState.FINANCE_PENDING)
    tick(ctx, clock, clock.now())
    tick(ctx, clock, THU_18)
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.BATCH_APPROVAL, batch_id)
    resolve_alert(ctx, alert.id, org.hr.id, "finance promised it for today")
    reminded = len(notices(ctx, "approval.reminder.batch"))

    friday_9 = datetime(2026, 10, 16, 1, 0, tzinfo=UTC)  # 09:00 local, the next workday
    tick(ctx, clock, friday_9)
    with ctx.uow() as uow:
        (wait,) = uow.approvals.all()
        assert wait.state is StepState.PENDING and wait.alert_id is None
    assert [e.action for e in audit_trail(ctx, "batch", batch_id)].count("approval.rearmed") == 1

    tick(ctx, clock, friday_9 + _hours(8))  # 17:00: 8 working hours after the resolution
    again = notices(ctx, "approval.reminder.batch")
    assert len(again) == reminded + 1 and again[-1].params["times"] == 1
    tick(ctx, clock, datetime(2026, 10, 21, 10, 0, tzinfo=UTC))  # 3 workdays on: a new alert
    with ctx.uow() as uow:
        (second,) = uow.alerts.unresolved_for(SubjectKind.BATCH_APPROVAL, batch_id)
    assert second.id != alert.id
