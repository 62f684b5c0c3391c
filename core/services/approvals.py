"""Reminders for waiting approvals, and the alert when a wait outlives its deadline.

Each planning round looks at every batch and claim that waits for a tap (core/domain/
approvals.py) and keeps one wait row per subject: started the first time it is seen waiting,
restarted when it waits at another stage, ended (and any alert about it resolved) once
decided. Each due row reminds the approver, or the person standing in for them, with the same
one-tap buttons as the original card, every ``HRBOT_APPROVAL_REMIND_EVERY``; at
``HRBOT_APPROVAL_DEADLINE`` the wait becomes an alert that escalates along the policy, and the
reminders stop (the alert's own timers take over). Intervals count on the branch's clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.domain.approvals import (
    ALERT_SUBJECT,
    BATCH_STAGES,
    CLAIM_STAGES,
    ApprovalWait,
    Stage,
    WaitKind,
)
from core.domain.batches import BatchState, ContributionBatch
from core.domain.claims import Claim
from core.domain.escalation import AlertState, StepState
from core.domain.notifications import Button
from core.domain.workclock import CalendarNotCovered, Delay, DelayUnit
from core.services.absences import behalf_params, delegates
from core.services.alerts import branch_clock, close_alerts_for, open_alert
from core.services.common import audit, notify
from core.services.context import Context
from core.services.leasing import LeasedQueue, fire_round
from core.services.review import batch_params, hr_card_buttons

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    """A subject waiting now: what, at which stage, whose tap, for which branch."""

    kind: WaitKind
    subject_id: int
    stage: str
    branch_id: int
    what: Stage


@dataclass(frozen=True)
class ApprovalRound:
    started: int = 0
    ended: int = 0
    reminded: int = 0
    alerted: int = 0


def plan_approval_waits(ctx: Context) -> ApprovalRound:
    """Start, restart and end wait rows to match what waits now."""
    now, started, ended = ctx.now(), 0, 0
    with ctx.uow() as uow:
        waiting = {(w.kind, w.subject_id): w for w in _waiting(uow)}
        rows = {(WaitKind(r.subject_kind), r.subject_id): r for r in uow.approvals.all()}
        for key, item in waiting.items():
            row = rows.get(key)
            if row is None:
                due, deadline = _times(ctx, uow, item.branch_id, now)
                started += uow.approvals.start(
                    ApprovalWait(item.kind, item.subject_id, item.stage, now, deadline, due)
                )
            elif row.stage != item.stage or row.state is StepState.CANCELLED:
                due, deadline = _times(ctx, uow, item.branch_id, now)
                row.restart(item.stage, now, due, deadline)
                started += 1
            elif row.state is StepState.FIRED and _alert_resolved(uow, row):
                # Someone resolved the overdue alert by hand, yet the tap still has not come:
                # the chase starts over from now (reminders, then a new alert at the deadline)
                # rather than nobody ever asking again.
                alert_id = row.alert_id
                due, deadline = _times(ctx, uow, item.branch_id, now)
                row.restart(item.stage, now, due, deadline)
                subject = (str(item.kind), item.subject_id)
                audit(uow, now, "approval.rearmed", subject, stage=item.stage, alert=alert_id)
                started += 1
        for key, row in rows.items():
            if key not in waiting and row.state in (StepState.PENDING, StepState.FIRED):
                _end(ctx, uow, row, "decided")
                ended += 1
        uow.commit()
    return ApprovalRound(started=started, ended=ended)


def remind_due_approvals(
    ctx: Context, owner: str, limit: int = 200, stop: Callable[[], bool] | None = None
) -> ApprovalRound:
    """Fire the wait rows now due: a reminder, or the alert once the deadline has passed."""

    def queue(uow: UnitOfWork) -> LeasedQueue[ApprovalWait]:
        return uow.approvals

    def fire(uow: UnitOfWork, wait: ApprovalWait) -> str:
        return _fire(ctx, uow, wait)

    outcomes = fire_round(ctx, queue, owner, limit, stop, fire)
    return ApprovalRound(reminded=outcomes["reminded"], alerted=outcomes["alerted"])


def _fire(ctx: Context, uow: UnitOfWork, wait: ApprovalWait) -> str:
    now = ctx.now()
    wait.lease_owner = wait.lease_until = None
    item = _still_waiting(uow, wait)
    if item is None:
        _end(ctx, uow, wait, "decided")
        return "ended"
    overdue = wait.overdue(now)
    _remind(ctx, uow, wait, item, overdue)
    wait.reminded += 1
    if overdue:
        alert = open_alert(
            ctx,
            uow,
            (ALERT_SUBJECT[item.kind], item.subject_id),
            item.branch_id,
            suspected_cause=item.what.cause,
        )
        wait.alert_id, wait.state, wait.fired_at = alert.id, StepState.FIRED, now
        audit(
            uow,
            now,
            "approval.overdue",
            (str(item.kind), item.subject_id),
            stage=item.stage,
            since=wait.since.isoformat(),
            alert=alert.id,
        )
        return "alerted"
    following, _ = _times(ctx, uow, item.branch_id, now)
    wait.due_at = min(following, wait.deadline_at)
    return "reminded"


def _remind(
    ctx: Context, uow: UnitOfWork, wait: ApprovalWait, item: Waiting, overdue: bool
) -> None:
    params, buttons = _card(uow, item)
    params |= {
        "since": wait.since.isoformat(),
        "deadline": wait.deadline_at.isoformat(),
        "overdue": overdue,
        "times": wait.reminded + 1,
    }
    approvers = uow.directory.responsible(item.branch_id, item.what.role)
    chosen = delegates(ctx, uow, approvers)
    for person, absent in chosen:
        notify(
            ctx,
            uow,
            person,
            f"approval.reminder.{item.kind}",
            params | behalf_params(person, absent),
            f"approval:{wait.id}:{wait.since.isoformat()}:{wait.reminded}",
            buttons=buttons,
            subject=(str(item.kind), item.subject_id),
        )
    audit(
        uow,
        ctx.now(),
        "approval.remind",
        (str(item.kind), item.subject_id),
        stage=item.stage,
        times=wait.reminded + 1,
        notified=[p.employee_no for p, _ in chosen],
    )


def _card(uow: UnitOfWork, item: Waiting) -> tuple[dict[str, Any], list[Button]]:
    """What the reminder says and the buttons it carries: the original card's own taps."""
    if item.kind is WaitKind.BATCH:
        batch = uow.batches.get(item.subject_id)
        if batch.state is BatchState.DRAFT:
            return batch_params(uow, batch) | {"step": "verify"}, hr_card_buttons(batch)
        return batch_params(uow, batch) | {"step": "approve"}, [
            Button("batch.approve", "button.approve", {"batch_id": batch.id}, "primary"),
            Button("batch.return", "button.return", {"batch_id": batch.id}, "danger"),
        ]
    claim = uow.claims.get(item.subject_id)
    employee = uow.directory.employee(claim.employee_id)
    params = {
        "claim": claim.reference,
        "claim_type": str(claim.claim_type),
        "employee": employee.name,
    }
    return params, [
        Button("claim.approve", "button.approve", {"claim_id": claim.id}, "primary"),
        Button("claim.return", "button.return", {"claim_id": claim.id}),
        Button("claim.reject", "button.reject", {"claim_id": claim.id}, "danger"),
    ]


def _end(ctx: Context, uow: UnitOfWork, wait: ApprovalWait, why: str) -> None:
    wait.state, wait.note, wait.lease_owner, wait.lease_until = StepState.CANCELLED, why, None, None
    subject = (ALERT_SUBJECT[WaitKind(wait.subject_kind)], wait.subject_id)
    close_alerts_for(ctx, uow, subject, "approval given")


def _waiting(uow: UnitOfWork) -> list[Waiting]:
    found = [_batch_wait(b) for b in uow.approvals.waiting_batches()]
    claims = uow.approvals.waiting_claims()
    people = uow.directory.employees(c.employee_id for c in claims)
    found += [_claim_wait(c, people[c.employee_id].branch_id) for c in claims]
    return found


def _alert_resolved(uow: UnitOfWork, wait: ApprovalWait) -> bool:
    return wait.alert_id is not None and uow.alerts.get(wait.alert_id).state is AlertState.RESOLVED


def _still_waiting(uow: UnitOfWork, wait: ApprovalWait) -> Waiting | None:
    if WaitKind(wait.subject_kind) is WaitKind.BATCH:
        batch = uow.batches.get(wait.subject_id)
        item = _batch_wait(batch) if batch.state in BATCH_STAGES else None
    else:
        claim = uow.claims.get(wait.subject_id)
        branch_id = uow.directory.employee(claim.employee_id).branch_id
        item = _claim_wait(claim, branch_id) if claim.state in CLAIM_STAGES else None
    return item if item is not None and item.stage == wait.stage else None


def _batch_wait(batch: ContributionBatch) -> Waiting:
    stage = f"{batch.state}:v{batch.version}"
    return Waiting(WaitKind.BATCH, batch.id, stage, batch.branch_id, BATCH_STAGES[batch.state])


def _claim_wait(claim: Claim, branch_id: int) -> Waiting:
    return Waiting(WaitKind.CLAIM, claim.id, str(claim.state), branch_id, CLAIM_STAGES[claim.state])


def _times(
    ctx: Context, uow: UnitOfWork, branch_id: int, start: datetime
) -> tuple[datetime, datetime]:
    """The next reminder and the deadline from ``start`` on the branch's clock (calendar hours
    for a year the holiday data lacks, as escalation does)."""
    every, deadline = ctx.rules.approval_remind_every, ctx.rules.approval_deadline
    try:
        clock = branch_clock(ctx, uow, branch_id)
        return clock.add(start, every), clock.add(start, deadline)
    except CalendarNotCovered as error:
        log.warning("holiday calendar lacks %s: approval reminders in calendar hours", error.year)
        return start + _wall(every).span, start + _wall(deadline).span


def _wall(delay: Delay) -> Delay:
    per = 24 if delay.unit is DelayUnit.WORKING_DAYS else 1
    return Delay.calendar(delay.amount * per)
