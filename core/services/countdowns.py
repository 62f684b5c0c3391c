"""Deadline countdowns: plan reminder rows for unpaid batches, and fire those now due.

Planning is idempotent (one row per batch, kind and day), so the scheduler can run it every
round; firing uses the same leases as escalation steps, so many workers fire each row once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.domain.batches import BatchState, stuck_cause
from core.domain.directory import Role
from core.domain.escalation import StepState, SubjectKind
from core.domain.reminders import Reminder, ReminderKind, countdown
from core.services.absences import behalf_detail, behalf_params, delegates
from core.services.alerts import open_alert
from core.services.batches import batch_params
from core.services.common import audit, notify
from core.services.context import Context
from core.services.leasing import LeasedQueue, fire_round

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork


@dataclass(frozen=True)
class CountdownResult:
    planned: int = 0
    reminded: int = 0
    alerted: int = 0
    cancelled: int = 0


def plan_countdowns(ctx: Context) -> int:
    """Add the reminder rows every unpaid batch should have; returns how many were added."""
    now, added = ctx.now(), 0
    with ctx.uow() as uow:
        for batch in uow.batches.unpaid():
            have = {(r.kind, r.days_before) for r in uow.reminders.for_batch(batch.id)}
            for kind, days, due_at in countdown(
                batch.due_date, ctx.rules.reminder_days, ctx.rules.timezone
            ):
                # A reminder whose moment has passed is no use; the due-date alarm always is.
                stale = kind is ReminderKind.DEADLINE_SOON and due_at <= now
                if (kind, days) in have or stale:
                    continue
                added += uow.reminders.plan(
                    Reminder(batch_id=batch.id, kind=kind, days_before=days, due_at=due_at)
                )
        uow.commit()
    return added


def fire_due_reminders(
    ctx: Context, owner: str, limit: int = 200, stop: Callable[[], bool] | None = None
) -> CountdownResult:
    def queue(uow: UnitOfWork) -> LeasedQueue[Reminder]:
        return uow.reminders

    def fire(uow: UnitOfWork, reminder: Reminder) -> str:
        return _fire(ctx, uow, reminder)

    outcomes = fire_round(ctx, queue, owner, limit, stop, fire)
    return CountdownResult(0, outcomes["reminded"], outcomes["alerted"], outcomes["cancelled"])


def _fire(ctx: Context, uow: UnitOfWork, reminder: Reminder) -> str:
    batch = uow.batches.get(reminder.batch_id)
    now = ctx.now()
    reminder.lease_owner, reminder.lease_until, reminder.fired_at = None, None, now
    if batch.state is BatchState.PAID:
        reminder.state, reminder.note = StepState.CANCELLED, "batch paid"
        return "cancelled"
    reminder.state = StepState.FIRED
    if reminder.kind is ReminderKind.DEADLINE_PASSED:
        cause = stuck_cause(batch.state, batch.failure_cause)
        # The months of everyone on the batch are now overdue for this reason: their status
        # and any claim held because of it say why, and who can fix it.
        lines = uow.batches.lines(batch.id)
        for record in uow.contributions.by_ids(line.contribution_id for line in lines):
            if record.paid_date is None and record.delay_reason is None:
                record.delay_reason = cause
        open_alert(
            ctx,
            uow,
            (SubjectKind.CONTRIBUTION_BATCH, batch.id),
            batch.branch_id,
            suspected_cause=cause,
        )
        audit(
            uow,
            now,
            "batch.overdue",
            ("batch", batch.id),
            state=str(batch.state),
            cause=str(cause),
        )
        return "alerted"
    params = batch_params(uow, batch) | {"days": reminder.days_before}
    people = [
        *uow.directory.responsible(batch.branch_id, Role.HR),
        *uow.directory.responsible(batch.branch_id, Role.FINANCE),
    ]
    chosen = delegates(ctx, uow, people)  # a stand-in for anyone away
    for person, absent in chosen:
        notify(
            ctx,
            uow,
            person,
            "batch.deadline_soon",
            params | behalf_params(person, absent),
            f"reminder:{reminder.id}",
        )
    audit(
        uow,
        now,
        "batch.reminder",
        ("batch", batch.id),
        days_before=reminder.days_before,
        notified=[p.employee_no for p, _ in chosen],
        **behalf_detail(chosen),
    )
    return "reminded"
