"""Read-only views for the conversation and the dashboard: progress cards, work lists.

Each view is built in one unit of work and returned as plain frozen data, scoped to the asker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.domain.audit import AuditEntry
from core.domain.batches import BatchState, ContributionBatch
from core.domain.claims import Claim, ClaimDocument, ClaimState, DocumentKind
from core.domain.contributions import DelayReason
from core.domain.directory import Employee, Locale, Role
from core.domain.escalation import Alert, AlertState, StepKind, SubjectKind
from core.services.absences import standing_in_for
from core.services.alerts import counts_working_time, time_left
from core.services.common import audit
from core.services.context import Context
from core.services.scope import branches_in_scope, may_act_for_branch

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

OPEN_CLAIM_STATES = frozenset({ClaimState.DRAFT, ClaimState.RETURNED})


@dataclass(frozen=True)
class ClaimProgress:
    claim: Claim
    documents: tuple[ClaimDocument, ...]
    cause: DelayReason | None = None
    hr_deadline: datetime | None = None
    alert_state: AlertState | None = None
    hr_time_left: timedelta | None = None
    """Until ``hr_deadline`` on the alert's clock (working time under a working-time policy)."""
    hr_working_time: bool = False
    """``hr_time_left`` counts working hours (say so: "23 working hours")."""

    @property
    def voucher(self) -> ClaimDocument | None:
        return next((d for d in self.documents if d.kind is DocumentKind.VOUCHER), None)


@dataclass(frozen=True)
class AlertSummary:
    alert: Alert
    branch: str
    about: str
    next_escalation: datetime | None
    time_left: timedelta | None = None
    """Until ``next_escalation`` on the alert's clock."""
    working_time: bool = False
    """``time_left`` counts working hours."""


def draft_claim(ctx: Context, employee_id: int) -> Claim | None:
    """The claim the employee was filling in when they stopped, if any."""
    with ctx.uow() as uow:
        found = [c for c in uow.claims.of_employee(employee_id) if c.state in OPEN_CLAIM_STATES]
        return found[-1] if found else None


def my_claims(ctx: Context, employee_id: int) -> list[ClaimProgress]:
    with ctx.uow() as uow:
        return [_progress(ctx, uow, claim) for claim in uow.claims.of_employee(employee_id)]


def claim_progress(ctx: Context, claim_id: int) -> ClaimProgress:
    with ctx.uow() as uow:
        return _progress(ctx, uow, uow.claims.get(claim_id))


def _progress(ctx: Context, uow: UnitOfWork, claim: Claim) -> ClaimProgress:
    documents = tuple(uow.claims.documents(claim.id))
    alerts = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim.id)
    if not alerts:
        return ClaimProgress(claim, documents)
    alert = alerts[0]
    pending = [s.due_at for s in uow.alerts.pending_steps(alert.id) if s.kind is StepKind.ESCALATE]
    deadline = min(pending) if pending else None
    return ClaimProgress(
        claim,
        documents,
        alert.cause or alert.suspected_cause,
        deadline,
        alert.state,
        time_left(ctx, uow, alert, deadline) if deadline else None,
        counts_working_time(uow, alert),
    )


def open_alerts_for(ctx: Context, actor_id: int, limit: int | None = None) -> list[AlertSummary]:
    """The unresolved alerts in the actor's scope, oldest first; the first ``limit`` only when
    given (each summary costs a few queries: the chat shows ten)."""
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id)
        scope = branches_in_scope(uow, actor, ctx.today())
        summaries: list[AlertSummary] = []
        for alert in uow.alerts.unresolved():
            if scope is not None and alert.branch_id not in scope:
                continue
            if limit is not None and len(summaries) >= limit:
                break
            steps = [s.due_at for s in uow.alerts.pending_steps(alert.id)]
            branch = uow.directory.branch(alert.branch_id).name
            due = min(steps) if steps else None
            left = time_left(ctx, uow, alert, due) if due else None
            working = counts_working_time(uow, alert)
            about = _about(uow, alert)
            summaries.append(AlertSummary(alert, branch, about, due, left, working))
        return summaries


def _about(uow: UnitOfWork, alert: Alert) -> str:
    if alert.subject_kind in (SubjectKind.HELD_CLAIM, SubjectKind.CLAIM_APPROVAL):
        claim = uow.claims.get(alert.subject_id)
        return f"{uow.directory.employee(claim.employee_id).name} {claim.reference}"
    if alert.subject_kind in (SubjectKind.CONTRIBUTION_BATCH, SubjectKind.BATCH_APPROVAL):
        return str(uow.batches.get(alert.subject_id).period)
    return uow.directory.employee(alert.subject_id).name


@dataclass(frozen=True)
class Approvals:
    claims: tuple[tuple[Claim, Employee], ...]
    batches: tuple[tuple[ContributionBatch, str], ...]
    standing_in_for: tuple[str, ...] = ()
    """Names of approvers away today whose items are listed too (the actor stands in)."""


def pending_approvals(ctx: Context, actor_id: int) -> Approvals:
    """What waits for a finance approver: claims under review and batches to approve, their
    own and those of any approver away today for whom they stand in."""
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id)
        if actor.role is not Role.FINANCE:
            return Approvals((), ())
        absent = [p for p in standing_in_for(uow, actor, ctx.today()) if p.role is Role.FINANCE]
        branch_ids = set(uow.directory.branches_of(actor.id))
        for person in absent:
            branch_ids |= set(uow.directory.branches_of(person.id))
        # One query for the claims and one for their people, whatever the branches' size.
        found = uow.claims.in_state_for_branches(ClaimState.UNDER_REVIEW, branch_ids)
        people = uow.directory.employees(c.employee_id for c in found)
        claims = [(c, people[c.employee_id]) for c in found if c.employee_id != actor.id]
        batches = [
            (b, uow.directory.branch(b.branch_id).name)
            for b in uow.batches.unpaid()
            if b.state is BatchState.FINANCE_PENDING and may_act_for_branch(uow, actor, b.branch_id)
        ]
        return Approvals(tuple(claims), tuple(batches), tuple(p.name for p in absent))


def last_decision(ctx: Context, subject: tuple[str, int]) -> AuditEntry | None:
    """The latest state change of a subject, to tell a late clicker who decided and when."""
    with ctx.uow() as uow:
        moves = [e for e in uow.audit.for_subject(*subject) if e.to_state and e.actor_id]
        return moves[-1] if moves else None


def actor_name(ctx: Context, employee_id: int | None) -> str | None:
    if employee_id is None:
        return None
    with ctx.uow() as uow:
        return uow.directory.employee(employee_id).name


def set_locale(ctx: Context, employee_id: int, locale: Locale) -> None:
    with ctx.uow() as uow:
        uow.directory.employee(employee_id).locale = locale
        uow.commit()


def record_refusal(ctx: Context, actor_id: int | None, action: str, reason: str) -> None:
    """A refused click or command is audited, whoever tried it."""
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id) if actor_id is not None else None
        audit(
            uow,
            ctx.now(),
            "action.refused",
            ("employee", actor_id or 0),
            actor,
            refused_action=action,
            reason=reason,
        )
        uow.commit()


def responsible_staff(ctx: Context, branch_id: int, role: Role) -> list[Employee]:
    with ctx.uow() as uow:
        return list(uow.directory.responsible(branch_id, role))


def branch_codes_for(ctx: Context, actor_id: int) -> list[str]:
    """The codes of the branches the actor answers for (every branch for group-wide HR)."""
    with ctx.uow() as uow:
        scope = branches_in_scope(uow, uow.directory.employee(actor_id))
        return sorted(b.code for b in uow.directory.branches() if scope is None or b.id in scope)
