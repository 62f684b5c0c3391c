"""Alerts: open one with its escalation timers, acknowledge, resolve, and fire what is due."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from core.domain.contributions import DelayReason
from core.domain.directory import HR_ROLES, Employee
from core.domain.errors import IllegalTransition
from core.domain.escalation import (
    Alert,
    AlertState,
    EscalationPolicy,
    EscalationStep,
    StepKind,
    StepState,
    SubjectKind,
    end_of_day_utc,
)
from core.domain.notifications import Button, ChannelKind
from core.domain.workclock import CalendarNotCovered, DelayUnit, WorkClock
from core.services.absences import behalf_detail, behalf_params, delegates
from core.services.cards import close_cards
from core.services.common import audit, notify
from core.services.context import Context
from core.services.policies import current_version
from core.services.scope import on_behalf_of, require_scope
from core.services.status import status_of

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    fired: int = 0
    skipped: int = 0


def open_alert(
    ctx: Context,
    uow: UnitOfWork,
    subject: tuple[SubjectKind, int],
    branch_id: int,
    employee_id: int | None = None,
    suspected_cause: DelayReason | None = None,
) -> Alert:
    """Open an alert for ``subject`` (or return the one already open) and tell level 1 now."""
    existing = uow.alerts.unresolved_for(subject[0], subject[1])
    if existing:
        return existing[0]
    now = ctx.now()
    policy, version = current_version(ctx, uow)
    alert = Alert(
        subject_kind=subject[0],
        subject_id=subject[1],
        branch_id=branch_id,
        opened_at=now,
        policy_name=policy.name,
        policy_version=version,
        employee_id=employee_id,
        suspected_cause=suspected_cause,
    )
    uow.alerts.add(alert)
    uow.flush()
    for level, due_at in _schedule(ctx, uow, alert, policy, 1, now):
        uow.alerts.add(EscalationStep(alert_id=alert.id, level=level, due_at=due_at))
    uow.flush()
    audit(
        uow,
        now,
        "alert.open",
        ("alert", alert.id),
        moved=(None, alert.state),
        about=f"{subject[0]}:{subject[1]}",
    )
    _fire_due_of(ctx, uow, alert, now)
    return alert


def acknowledge_alert(
    ctx: Context,
    alert_id: int,
    actor_id: int,
    cause: DelayReason,
    fix_date: date,
    note: str | None = None,
    channel: str | None = None,
) -> Alert:
    """HR gives the cause and a fix date: escalation pauses until that date ends."""
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id)
        alert = uow.alerts.get(alert_id)
        require_scope(uow, actor, alert.branch_id, *HR_ROLES, day=ctx.today())
        now = ctx.now()
        moved = alert.acknowledge(actor.id, cause, fix_date, now, ctx.today())
        alert.cause_note = note
        _cancel_pending(uow, alert, "acknowledged")
        policy = uow.alerts.policy(alert.policy_name, alert.policy_version)
        resume_level = min(alert.level + 1, policy.top) if alert.level else 1
        uow.alerts.add(
            EscalationStep(
                alert_id=alert.id,
                level=resume_level,
                kind=StepKind.REOPEN,
                due_at=end_of_day_utc(fix_date, ctx.rules.timezone),
            )
        )
        audit(
            uow,
            now,
            "alert.acknowledge",
            ("alert", alert.id),
            actor,
            moved,
            channel,
            cause=str(cause),
            fix_date=fix_date.isoformat(),
            **on_behalf_of(uow, actor, alert.branch_id, ctx.today(), *HR_ROLES),
        )
        if alert.employee_id is not None:
            employee = uow.directory.employee(alert.employee_id)
            notify(
                ctx,
                uow,
                employee,
                "alert.cause_found",
                {"cause": str(cause), "fix_date": fix_date.isoformat(), "hr": actor.name},
                f"alert:{alert.id}:ack:{now.isoformat()}",
            )
        close_cards(ctx, uow, ("alert", alert.id), "acknowledged", actor)
        uow.commit()
        return alert


def resolve_alert(
    ctx: Context, alert_id: int, actor_id: int, resolution: str, channel: str | None = None
) -> Alert:
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id)
        alert = uow.alerts.get(alert_id)
        require_scope(uow, actor, alert.branch_id, *HR_ROLES, day=ctx.today())
        behalf = on_behalf_of(uow, actor, alert.branch_id, ctx.today(), *HR_ROLES)
        close_alert(ctx, uow, alert, resolution, actor, channel, **behalf)
        uow.commit()
        return alert


def close_alert(
    ctx: Context,
    uow: UnitOfWork,
    alert: Alert,
    resolution: str,
    actor: Employee | None = None,
    channel: str | None = None,
    **detail: Any,
) -> None:
    """Resolve ``alert`` and cancel its pending timers in the caller's transaction."""
    now = ctx.now()
    moved = alert.resolve(actor.id if actor else None, resolution, now)
    _cancel_pending(uow, alert, "resolved")
    close_cards(ctx, uow, ("alert", alert.id), "resolved", actor)
    audit(
        uow,
        now,
        "alert.resolve",
        ("alert", alert.id),
        actor,
        moved,
        channel,
        resolution=resolution,
        **detail,
    )


def close_alerts_for(
    ctx: Context, uow: UnitOfWork, subject: tuple[SubjectKind, int], why: str
) -> int:
    found = uow.alerts.unresolved_for(subject[0], subject[1])
    for alert in found:
        close_alert(ctx, uow, alert, why)
    return len(found)


def sweep_escalations(
    ctx: Context,
    owner: str | None = None,
    limit: int = 500,
    stop: Callable[[], bool] | None = None,
) -> SweepResult:
    """Fire every timer due by now, oldest first, each in its own transaction.

    Due rows are leased to ``owner`` first, so any number of workers can sweep at once and each
    step fires exactly once; on ``stop`` the leases not yet worked on are handed back.
    """
    owner = owner or f"sweep-{uuid.uuid4().hex[:12]}"
    with ctx.uow() as uow:
        claimed = uow.alerts.claim_due_steps(ctx.now(), owner, ctx.rules.lease, limit)
        uow.commit()
    fired = skipped = 0
    for index, step_id in enumerate(claimed):
        if stop is not None and stop():
            with ctx.uow() as uow:
                uow.alerts.release_steps(claimed[index:], owner)
                uow.commit()
            break
        with ctx.uow() as uow:
            if not uow.alerts.hold_step(step_id, owner, ctx.now(), ctx.rules.lease):
                continue  # the lease ran out and another worker has the step
            step = uow.alerts.step(step_id)
            assert step is not None
            step.lease_owner = step.lease_until = None
            alert = uow.alerts.get(step.alert_id)
            if _earlier_pending(uow, alert, step):
                uow.commit()  # an earlier level fires first (maybe on another worker); next round
                continue
            try:
                fired_now = _fire(ctx, uow, alert, step, ctx.now())
                uow.commit()
            except IllegalTransition:
                continue  # the alert changed under us (acknowledged, resolved): next round
            fired, skipped = fired + fired_now, skipped + (not fired_now)
    return SweepResult(fired, skipped)


def branch_clock(ctx: Context, uow: UnitOfWork, branch_id: int) -> WorkClock:
    """The branch's working-time clock: its calendar, its working hours, the org's timezone."""
    return ctx.work_clock(uow.directory.branch(branch_id).working_hours)


def _schedule(
    ctx: Context,
    uow: UnitOfWork,
    alert: Alert,
    policy: EscalationPolicy,
    level: int,
    start: datetime,
) -> list[tuple[int, datetime]]:
    """The policy's due times on the branch's clock. A year the holiday calendar lacks is never
    guessed: the steps fall back to calendar hours, and the audit trail and the log say so."""
    try:
        return policy.schedule(level, start, branch_clock(ctx, uow, alert.branch_id))
    except CalendarNotCovered as error:
        log.warning(
            "holiday calendar lacks %s: alert %s escalates in calendar hours", error.year, alert.id
        )
        audit(uow, start, "alert.calendar_not_covered", ("alert", alert.id), year=error.year)
        return policy.in_calendar_hours().schedule(level, start)


def time_left(ctx: Context, uow: UnitOfWork, alert: Alert, due: datetime) -> timedelta:
    """What is left until ``due`` on the alert's own clock: wall-clock time for a policy in
    calendar hours, working time on the branch's calendar otherwise ("23 h left" means 23
    working hours then). Never negative."""
    now = ctx.now()
    policy = uow.alerts.policy(alert.policy_name, alert.policy_version)
    if policy.unit is not DelayUnit.HOURS:
        try:
            return branch_clock(ctx, uow, alert.branch_id).working_time_left(now, due)
        except CalendarNotCovered:
            pass  # the steps fell back to calendar hours: so does the countdown
    return max(due - now, timedelta(0))


def counts_working_time(uow: UnitOfWork, alert: Alert) -> bool:
    """Whether the alert's countdown is in working time (its policy's unit), so people are
    told "23 working hours left" rather than "23 h left"."""
    policy = uow.alerts.policy(alert.policy_name, alert.policy_version)
    return policy.unit is not DelayUnit.HOURS


def _earlier_pending(uow: UnitOfWork, alert: Alert, step: EscalationStep) -> bool:
    return any(
        (other.due_at, other.id) < (step.due_at, step.id)
        for other in uow.alerts.pending_steps(alert.id)
        if other.id != step.id
    )


def _fire_due_of(ctx: Context, uow: UnitOfWork, alert: Alert, now: datetime) -> None:
    for step in uow.alerts.pending_steps(alert.id):
        if step.due_at <= now:
            _fire(ctx, uow, alert, step, now)


def _fire(ctx: Context, uow: UnitOfWork, alert: Alert, step: EscalationStep, now: datetime) -> bool:
    """Fire one timer; False when its level had nobody to notify (recorded, not retried)."""
    fired = _fire_step(ctx, uow, alert, step, now)
    if step.state is not StepState.CANCELLED:
        _flag_when_policy_ran_out(uow, alert, now)
    return fired


def _flag_when_policy_ran_out(uow: UnitOfWork, alert: Alert, now: datetime) -> None:
    """Once the last level has been told, repeats included, and the alert is still open, it
    goes on the weekly management list (flagged once; resolving takes it off)."""
    if alert.state is not AlertState.OPEN or alert.flagged_at is not None:
        return
    if any(s.kind is StepKind.ESCALATE for s in uow.alerts.pending_steps(alert.id)):
        return
    alert.flagged_at = now
    audit(uow, now, "alert.flag", ("alert", alert.id), level=alert.level)


def _fire_step(
    ctx: Context, uow: UnitOfWork, alert: Alert, step: EscalationStep, now: datetime
) -> bool:
    if alert.state is AlertState.RESOLVED:
        step.state, step.note = StepState.CANCELLED, "alert resolved"
        return False
    policy = uow.alerts.policy(alert.policy_name, alert.policy_version)
    if step.kind is StepKind.REOPEN:
        moved = alert.move("reopen")
        audit(
            uow,
            now,
            "alert.reopen",
            ("alert", alert.id),
            moved=moved,
            missed_fix_date=alert.expected_fix_date.isoformat()
            if alert.expected_fix_date
            else None,
        )
        for number, due_at in _schedule(ctx, uow, alert, policy, step.level, now)[1:]:
            uow.alerts.add(EscalationStep(alert_id=alert.id, level=number, due_at=due_at))
        uow.flush()
        if alert.acknowledged_by is not None:
            acknowledger = uow.directory.employee(alert.acknowledged_by)
            for person, absent in delegates(ctx, uow, [acknowledger]):  # their stand-in if away
                notify(
                    ctx,
                    uow,
                    person,
                    "alert.fix_date_missed",
                    _alert_params(ctx, uow, alert) | behalf_params(person, absent),
                    f"alert:{alert.id}:step:{step.id}:missed",
                )
    level = policy.level(step.level)
    responsible = uow.directory.responsible(alert.branch_id, level.role)
    recipients = delegates(ctx, uow, responsible)  # stand-ins for people away
    step.fired_at = now
    if not recipients:
        nobody = "everyone away" if responsible else f"nobody with role {level.role} to notify"
        step.state, step.note = StepState.SKIPPED, nobody
        away: dict[str, Any] = {"note": nobody} if responsible else {}
        audit(
            uow,
            now,
            "alert.level_skipped",
            ("alert", alert.id),
            level=step.level,
            role=str(level.role),
            **away,
        )
        return False
    before = alert.level
    alert.level = max(alert.level, step.level)
    step.state = StepState.FIRED
    params = _alert_params(ctx, uow, alert)
    buttons = [
        Button("alert.acknowledge", "button.acknowledge", {"alert_id": alert.id}, "primary"),
        Button("alert.resolve", "button.resolve", {"alert_id": alert.id}),
    ]
    for person, absent in recipients:
        notify(
            ctx,
            uow,
            person,
            f"{_KEY_PREFIX[alert.subject_kind]}.level{min(step.level, 3)}",
            params | behalf_params(person, absent),
            f"alert:{alert.id}:step:{step.id}",
            channels=[ChannelKind(c) for c in level.channels],
            buttons=buttons,
            subject=("alert", alert.id),
        )
    audit(
        uow,
        now,
        "alert.escalate",
        ("alert", alert.id),
        moved=(before, alert.level),
        role=str(level.role),
        notified=[p.employee_no for p, _ in recipients],
        **behalf_detail(recipients),
    )
    return True


def _cancel_pending(uow: UnitOfWork, alert: Alert, why: str) -> None:
    for step in uow.alerts.pending_steps(alert.id):
        step.state, step.note = StepState.CANCELLED, why


def _alert_params(ctx: Context, uow: UnitOfWork, alert: Alert) -> dict[str, Any]:
    branch = uow.directory.branch(alert.branch_id)
    pending = [s for s in uow.alerts.pending_steps(alert.id) if s.kind is StepKind.ESCALATE]
    params: dict[str, Any] = {
        "alert_id": alert.id,
        "level": alert.level,
        "subject": str(alert.subject_kind),
        "branch": branch.name,
        "suspected_cause": str(alert.suspected_cause) if alert.suspected_cause else None,
        "deadline": min(s.due_at for s in pending).isoformat() if pending else None,
        "opened_at": alert.opened_at.isoformat(),
    }
    if alert.employee_id is not None:
        employee = uow.directory.employee(alert.employee_id)
        params["employee"] = employee.name
        params["employee_no"] = employee.employee_no
        report = status_of(
            uow, employee, ctx.today(), ctx.rules.claim_check_months, ctx.rules.lapse_after
        )
        params["months"] = [str(m.period) for m in report.problem_months]
    if alert.subject_kind in (SubjectKind.HELD_CLAIM, SubjectKind.CLAIM_APPROVAL):
        params["claim"] = uow.claims.get(alert.subject_id).reference
    if alert.subject_kind in (SubjectKind.CONTRIBUTION_BATCH, SubjectKind.BATCH_APPROVAL):
        batch = uow.batches.get(alert.subject_id)
        params |= {
            "period": str(batch.period),
            "due_date": batch.due_date.isoformat(),
            "total": str(batch.total),
            "headcount": batch.headcount,
            "batch_state": str(batch.state),
        }
    return params


# Held claims keep the plain keys (the seed's alert); other subjects say what they are about.
_KEY_PREFIX = {
    SubjectKind.HELD_CLAIM: "alert",
    SubjectKind.CONTRIBUTION_BATCH: "alert.batch",
    SubjectKind.EMPLOYEE_STATUS: "alert.status",
    SubjectKind.BATCH_APPROVAL: "alert.approval.batch",
    SubjectKind.CLAIM_APPROVAL: "alert.approval.claim",
}
