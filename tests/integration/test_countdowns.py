"""Deadline countdowns: reminders at T−3 and T−1 days, 09:00 in Shanghai, and the alarm when the
due date ends unpaid; paying stops them, planning is idempotent, and stale reminders are not sent.

The October batch of the test branch is due on 2026-10-15 (the branch's due day).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import CatalogRenderer
from core.domain.batches import BatchState
from core.domain.escalation import AlertState, StepState, SubjectKind
from core.domain.reminders import ReminderKind
from core.persistence.repositories import ReminderRepository
from core.ports import ManualClock
from core.services.alerts import sweep_escalations
from core.services.batches import record_batch_payment
from core.services.context import Context
from core.services.countdowns import CountdownResult, fire_due_reminders, plan_countdowns
from tests.factories import Org, add_records, audit_trail, make_batch, make_org, notices

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECOND = timedelta(seconds=1)
CREATED = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
T3 = datetime(2026, 10, 12, 9, 0, tzinfo=SHANGHAI)  # 09:00 local, three days before the 15th
T1 = datetime(2026, 10, 14, 9, 0, tzinfo=SHANGHAI)
DUE_ENDS = datetime(2026, 10, 16, 0, 0, tzinfo=SHANGHAI)  # the 15th has ended: 16:00 UTC


@pytest.fixture
def org(ctx: Context) -> Org:
    org = make_org(ctx)
    add_records(ctx, org.employee, ["2026-10"], unpaid=["2026-10"])
    return org


def october(ctx: Context, org: Org, state: BatchState = BatchState.DRAFT) -> int:
    batch_id = make_batch(ctx, org, "2026-10", state)
    with ctx.uow() as uow:
        assert uow.batches.get(batch_id).due_date == date(2026, 10, 15)
    return batch_id


def at(ctx: Context, clock: ManualClock, instant: datetime) -> CountdownResult:
    """What a worker does each round at ``instant``: plan, then fire what is due."""
    clock.set(instant)
    planned = plan_countdowns(ctx)
    fired = fire_due_reminders(ctx, owner="worker-1")
    return dataclasses.replace(fired, planned=planned)


def reminded(ctx: Context) -> list[tuple[str, int]]:
    return [(n.to, n.params["days"]) for n in notices(ctx, "batch.deadline_soon")]


def reminders(ctx: Context, batch_id: int) -> list[tuple[ReminderKind, int, StepState]]:
    with ctx.uow() as uow:
        return [(r.kind, r.days_before, r.state) for r in uow.reminders.for_batch(batch_id)]


def test_hr_and_finance_are_reminded_at_nine_three_days_and_one_day_before(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    batch_id = october(ctx, org)
    assert at(ctx, clock, CREATED).planned == 3
    with ctx.uow() as uow:
        due = [(r.kind, r.days_before, r.due_at) for r in uow.reminders.for_batch(batch_id)]
    assert due == [
        (ReminderKind.DEADLINE_SOON, 3, T3.astimezone(UTC)),
        (ReminderKind.DEADLINE_SOON, 1, T1.astimezone(UTC)),
        (ReminderKind.DEADLINE_PASSED, 0, DUE_ENDS.astimezone(UTC)),
    ]
    assert T3.astimezone(UTC) == datetime(2026, 10, 12, 1, 0, tzinfo=UTC)

    assert at(ctx, clock, T3 - SECOND) == CountdownResult()
    assert reminded(ctx) == []

    assert at(ctx, clock, T3).reminded == 1
    hr, finance = org.hr.employee_no, org.finance.employee_no
    assert reminded(ctx) == [(hr, 3), (finance, 3)]

    assert at(ctx, clock, T1 - SECOND) == CountdownResult()
    assert at(ctx, clock, T1).reminded == 1
    assert reminded(ctx) == [(hr, 3), (finance, 3), (hr, 1), (finance, 1)]
    # Nobody else: not the employee, not the managers.
    assert {n.to for n in notices(ctx)} == {hr, finance}

    # In the recipient's language, with the wording.
    first = notices(ctx, "batch.deadline_soon")[0]
    with ctx.uow() as uow:
        notice, person = uow.outbox.get(first.id), uow.directory.employee(org.hr.id)
    text = CatalogRenderer("zh-CN", SHANGHAI).render(notice, person).text
    assert "距离社保缴费截止日还有 3 天" in text and "2026-10-15" in text
    trail = [a for a in audit_trail(ctx, "batch", batch_id) if a.action == "batch.reminder"]
    assert [a.detail["days_before"] for a in trail] == [3, 1]


def test_the_overdue_alert_opens_the_moment_the_due_date_ends_unpaid(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    batch_id = october(ctx, org, BatchState.FINANCE_PENDING)
    for instant in (CREATED, T3, T1):
        at(ctx, clock, instant)
    assert at(ctx, clock, DUE_ENDS - SECOND) == CountdownResult()
    assert notices(ctx, "alert.batch.level1") == []

    assert at(ctx, clock, DUE_ENDS).alerted == 1
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.CONTRIBUTION_BATCH, batch_id)
        assert (alert.state, alert.level, alert.opened_at) == (
            AlertState.OPEN,
            1,
            DUE_ENDS.astimezone(UTC),
        )
    (level1,) = notices(ctx, "alert.batch.level1")
    assert level1.to == org.hr.employee_no
    assert level1.params["due_date"] == "2026-10-15"
    assert level1.params["batch_state"] == "finance_pending"
    assert [a.action for a in audit_trail(ctx, "batch", batch_id)][-1] == "batch.overdue"

    # From here it is an alert like any other: the HR manager is chased a day later, once.
    assert at(ctx, clock, DUE_ENDS + timedelta(hours=30)) == CountdownResult()
    assert sweep_escalations(ctx).fired == 1
    assert org.hr_manager is not None
    assert [n.to for n in notices(ctx, "alert.batch.level2")] == [org.hr_manager.employee_no]
    assert len(notices(ctx, "alert.batch.level1")) == 1


def test_paying_the_batch_cancels_the_pending_reminders_and_the_alarm(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    batch_id = october(ctx, org, BatchState.SUBMITTED)
    at(ctx, clock, CREATED)
    assert at(ctx, clock, T3).reminded == 1

    clock.set(T3 + timedelta(hours=26))
    record_batch_payment(ctx, batch_id, date(2026, 10, 13), "BANK-1013")
    assert reminders(ctx, batch_id) == [
        (ReminderKind.DEADLINE_SOON, 3, StepState.FIRED),
        (ReminderKind.DEADLINE_SOON, 1, StepState.CANCELLED),
        (ReminderKind.DEADLINE_PASSED, 0, StepState.CANCELLED),
    ]
    for instant in (T1, DUE_ENDS, DUE_ENDS + timedelta(days=3)):
        assert at(ctx, clock, instant) == CountdownResult()
    assert [days for _, days in reminded(ctx)] == [3, 3]
    assert notices(ctx, "alert.batch.level1") == []
    with ctx.uow() as uow:
        assert uow.alerts.unresolved() == []
        (row,) = [r for r in uow.reminders.for_batch(batch_id) if r.days_before == 1]
        assert row.note == "batch paid"


def test_planning_again_adds_nothing(ctx: Context, org: Org, clock: ManualClock) -> None:
    batch_id = october(ctx, org)
    clock.set(CREATED)
    assert plan_countdowns(ctx) == 3
    assert plan_countdowns(ctx) == 0
    clock.set(T3 + timedelta(hours=1))
    assert plan_countdowns(ctx) == 0
    assert fire_due_reminders(ctx, owner="w").reminded == 1
    assert plan_countdowns(ctx) == 0  # a fired reminder is not planned again either
    assert len(reminders(ctx, batch_id)) == 3
    assert fire_due_reminders(ctx, owner="w") == CountdownResult()
    assert len(reminded(ctx)) == 2


def test_a_batch_created_two_days_before_gets_no_stale_three_day_reminder(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 10, 13, 10, 0, tzinfo=SHANGHAI))  # T−2
    batch_id = october(ctx, org)
    assert at(ctx, clock, clock.now()) == CountdownResult(planned=2)
    assert [(kind, days) for kind, days, _ in reminders(ctx, batch_id)] == [
        (ReminderKind.DEADLINE_SOON, 1),
        (ReminderKind.DEADLINE_PASSED, 0),
    ]
    assert at(ctx, clock, T1).reminded == 1
    assert sorted(days for _, days in reminded(ctx)) == [1, 1]


def test_the_reminder_days_come_from_the_rules(ctx: Context, org: Org, clock: ManualClock) -> None:
    weekly = dataclasses.replace(ctx, rules=dataclasses.replace(ctx.rules, reminder_days=(7, 2)))
    october(ctx, org)
    assert at(weekly, clock, CREATED).planned == 3
    assert at(weekly, clock, datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI) - SECOND).reminded == 0
    assert at(weekly, clock, datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)).reminded == 1
    assert at(weekly, clock, T3).reminded == 0
    assert at(weekly, clock, datetime(2026, 10, 13, 9, 0, tzinfo=SHANGHAI)).reminded == 1
    assert sorted({days for _, days in reminded(ctx)}) == [2, 7]


def test_two_workers_planning_at_once_do_not_trip_over_each_other(
    ctx: Context, org: Org, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every worker plans each round; a fleet starting together plans the same batch at once.
    Here worker B reads the batch's reminders (none yet), then worker A plans and commits, then
    B writes what it planned from its stale read."""
    batch_id = october(ctx, org)
    clock.set(CREATED)
    stale_read = ReminderRepository.for_batch
    others_turn = [True]

    def read_then_let_the_other_plan(self: ReminderRepository, batch: int) -> Any:
        found = stale_read(self, batch)
        if others_turn.pop() if others_turn else False:
            assert plan_countdowns(ctx) == 3  # worker A, in its own unit of work
        return found

    monkeypatch.setattr(ReminderRepository, "for_batch", read_then_let_the_other_plan)
    assert plan_countdowns(ctx) == 0  # worker B: nothing left to add, and no error
    monkeypatch.undo()
    assert len(reminders(ctx, batch_id)) == 3
    assert at(ctx, clock, T3).reminded == 1
    assert len(reminded(ctx)) == 2
