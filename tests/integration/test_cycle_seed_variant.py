"""The seed scenario, variant: finance does not approve September's batch.

The roster is built and verified by HR, then waits for finance past its due date: the overdue
alert says the cause is finance approval and escalates to the HR manager at 24 h and the HR
director at 48 h. 张三 is hospitalised meanwhile and his claim is held. Finance finally approves,
the batch is paid, and the held claim resumes by itself; 张三 is told both things.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.domain.claims import ClaimState
from core.domain.contributions import DelayReason
from core.domain.escalation import AlertState, SubjectKind
from core.domain.periods import Period
from core.ports import ManualClock
from core.services.alerts import sweep_escalations
from core.services.batches import approve_batch, confirm_batch_paid
from core.services.claims import submit_claim
from core.services.context import Context
from core.services.countdowns import fire_due_reminders, plan_countdowns
from core.services.review import verify_batch
from core.services.roster import build_roster
from tests.factories import add_records, make_org, notices, open_complete_claim

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEPTEMBER = Period(2026, 9)
DUE_ENDS = datetime(2026, 9, 16, 0, 0, tzinfo=SHANGHAI)


def round_at(ctx: Context, clock: ManualClock, instant: datetime) -> None:
    clock.set(instant)
    plan_countdowns(ctx)
    fire_due_reminders(ctx, owner="w1")
    sweep_escalations(ctx, owner="w1")


def test_an_unapproved_batch_escalates_with_its_cause_and_payment_releases_the_claim(
    ctx: Context, clock: ManualClock
) -> None:
    org = make_org(ctx)
    add_records(ctx, org.employee, ["2026-07", "2026-08"])
    clock.set(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    (built,) = build_roster(ctx, SEPTEMBER)
    batch_id = built.batch_id or 0
    verify_batch(ctx, batch_id, org.hr.id, channel="web")  # … and finance never approves

    round_at(ctx, clock, DUE_ENDS - timedelta(minutes=1))
    with ctx.uow() as uow:
        assert uow.alerts.unresolved_for(SubjectKind.CONTRIBUTION_BATCH, batch_id) == []
    round_at(ctx, clock, DUE_ENDS)
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.CONTRIBUTION_BATCH, batch_id)
        assert alert.suspected_cause is DelayReason.FINANCE_APPROVAL and alert.level == 1
        (september,) = [
            r for r in uow.contributions.for_employee(org.employee.id) if r.period == SEPTEMBER
        ]
        assert september.delay_reason is DelayReason.FINANCE_APPROVAL
    assert [n.to for n in notices(ctx, "alert.batch.level1")] == [org.hr.employee_no]

    round_at(ctx, clock, DUE_ENDS + timedelta(hours=23, minutes=59))
    assert notices(ctx, "alert.batch.level2") == []
    round_at(ctx, clock, DUE_ENDS + timedelta(hours=24))
    assert [n.to for n in notices(ctx, "alert.batch.level2")] == [org.hr_manager.employee_no]

    # 张三 is hospitalised on day 2 of the escalation: September is overdue, his claim is held.
    claim_id = open_complete_claim(ctx, org.employee)
    assert submit_claim(ctx, claim_id, org.employee.id).state is ClaimState.ON_HOLD
    (held,) = notices(ctx, "claim.held", to=org.employee)
    assert held.params["months"] == ["2026-09"]

    round_at(ctx, clock, DUE_ENDS + timedelta(hours=48))
    assert [n.to for n in notices(ctx, "alert.batch.level3")] == [org.hr_director.employee_no]

    approve_batch(ctx, batch_id, org.finance.id, channel="slack")
    confirm_batch_paid(ctx, batch_id, org.finance.id, "BANK-0918", channel="slack")
    with ctx.uow() as uow:
        assert uow.claims.get(claim_id).state is ClaimState.UNDER_REVIEW
        (alert,) = [a for a in uow.alerts.unresolved() if a.subject_id == batch_id] or [None]
    assert alert is None
    assert notices(ctx, "claim.resumed", to=org.employee)
    (paid,) = notices(ctx, "contribution.paid", to=org.employee)
    assert paid.params["period"] == "2026-09" and paid.channel == "chat"
    # No further escalation once paid.
    round_at(ctx, clock, DUE_ENDS + timedelta(hours=96))
    with ctx.uow() as uow:
        assert all(
            a.state is AlertState.RESOLVED
            for a in uow.alerts.unresolved_for(SubjectKind.CONTRIBUTION_BATCH, batch_id)
        )
    with ctx.uow() as uow:
        receipts = uow.records.of_employee(org.employee.id)
        assert [r.period for r in receipts] == [SEPTEMBER]
