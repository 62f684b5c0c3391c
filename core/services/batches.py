"""Contribution batches: ask finance, approve or return, submit, record payment.

Recording a payment is where the seed's story turns: the lines' months become paid, the branch's
alerts close, and every claim held because of those months resumes by itself.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from core.domain.batches import BatchState, ContributionBatch
from core.domain.claims import require_reason
from core.domain.directory import HR_ROLES, Role
from core.domain.escalation import StepState, SubjectKind
from core.domain.notifications import Button
from core.services.alerts import close_alerts_for
from core.services.cards import close_cards
from core.services.claims import resume_held_claims
from core.services.common import audit, notify
from core.services.context import Context
from core.services.scope import require_scope

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork


def batch_params(uow: UnitOfWork, batch: ContributionBatch) -> dict[str, Any]:
    branch = uow.directory.branch(batch.branch_id)
    return {
        "batch_id": batch.id,
        "branch": branch.name,
        "branch_code": branch.code,
        "period": str(batch.period),
        "headcount": batch.headcount,
        "total": str(batch.total),
        "due_date": batch.due_date.isoformat(),
        "state": str(batch.state),
    }


def request_finance_approval(
    ctx: Context, batch_id: int, actor_id: int, channel: str | None = None
) -> ContributionBatch:
    """HR asks the branch's finance approvers to approve (moving a verified batch on first)."""
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id)
        batch = uow.batches.get(batch_id)
        require_scope(uow, actor, batch.branch_id, *HR_ROLES)
        if batch.state is BatchState.HR_VERIFIED:
            audit(
                uow,
                ctx.now(),
                "batch.request_approval",
                ("batch", batch.id),
                actor,
                batch.move("request_approval"),
                channel,
            )
        elif batch.state is not BatchState.FINANCE_PENDING:
            batch.move("request_approval")  # raises the named IllegalTransition
        buttons = [
            Button("batch.approve", "button.approve", {"batch_id": batch.id}, "primary"),
            Button("batch.return", "button.return", {"batch_id": batch.id}, "danger"),
        ]
        params = batch_params(uow, batch) | {"hr": actor.name}
        for approver in uow.directory.responsible(batch.branch_id, Role.FINANCE):
            notify(
                ctx,
                uow,
                approver,
                "batch.approval_requested",
                params,
                f"batch:{batch.id}:ask:{ctx.now().isoformat()}",
                buttons=buttons,
                subject=("batch", batch.id),
            )
        audit(uow, ctx.now(), "batch.remind_finance", ("batch", batch.id), actor, channel=channel)
        uow.commit()
        return batch


def approve_batch(
    ctx: Context, batch_id: int, actor_id: int, channel: str | None = None
) -> ContributionBatch:
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id)
        batch = uow.batches.get(batch_id)
        require_scope(uow, actor, batch.branch_id, Role.FINANCE)
        moved = batch.move("approve", actor.id)
        audit(uow, ctx.now(), "batch.approve", ("batch", batch.id), actor, moved, channel)
        close_cards(ctx, uow, ("batch", batch.id), "approved", actor)
        _tell_hr(ctx, uow, batch, "batch.approved", {"finance": actor.name})
        uow.commit()
        return batch


def return_batch(
    ctx: Context, batch_id: int, actor_id: int, reason: str, channel: str | None = None
) -> ContributionBatch:
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id)
        batch = uow.batches.get(batch_id)
        require_scope(uow, actor, batch.branch_id, Role.FINANCE, *HR_ROLES)
        batch.return_reason = require_reason(reason, "return a batch")
        moved = batch.move("return", actor.id)
        audit(
            uow,
            ctx.now(),
            "batch.return",
            ("batch", batch.id),
            actor,
            moved,
            channel,
            reason=batch.return_reason,
        )
        close_cards(ctx, uow, ("batch", batch.id), "returned", actor)
        _tell_hr(ctx, uow, batch, "batch.returned", {"reason": batch.return_reason})
        uow.commit()
        return batch


def submit_batch(ctx: Context, batch_id: int, reference: str) -> ContributionBatch:
    """The approved batch has been filed with the social insurance bureau."""
    with ctx.uow() as uow:
        batch = uow.batches.get(batch_id)
        moved = batch.move("submit")
        audit(uow, ctx.now(), "batch.submit", ("batch", batch.id), moved=moved, reference=reference)
        uow.commit()
        return batch


def record_batch_payment(
    ctx: Context, batch_id: int, paid_on: date, reference: str
) -> ContributionBatch:
    """Paid: mark every line's month paid, close the batch's alerts, resume held claims."""
    with ctx.uow() as uow:
        batch = uow.batches.get(batch_id)
        moved = batch.move("pay")
        batch.paid_date = paid_on
        lines = uow.batches.lines(batch.id)
        for record in uow.contributions.by_ids(line.contribution_id for line in lines):
            record.mark_paid(paid_on)
        audit(
            uow,
            ctx.now(),
            "batch.pay",
            ("batch", batch.id),
            moved=moved,
            reference=reference,
            lines=len(lines),
        )
        close_alerts_for(ctx, uow, (SubjectKind.CONTRIBUTION_BATCH, batch.id), "batch paid")
        for reminder in uow.reminders.for_batch(batch.id):
            if reminder.state is StepState.PENDING:
                reminder.state, reminder.note = StepState.CANCELLED, "batch paid"
        uow.flush()
        resume_held_claims(ctx, uow, {line.employee_id for line in lines})
        _tell_hr(ctx, uow, batch, "batch.paid", {"paid_on": paid_on.isoformat()})
        uow.commit()
        return batch


def _tell_hr(
    ctx: Context, uow: UnitOfWork, batch: ContributionBatch, key: str, extra: dict[str, Any]
) -> None:
    params = batch_params(uow, batch) | extra
    for person in uow.directory.responsible(batch.branch_id, Role.HR):
        notify(ctx, uow, person, key, params, f"batch:{batch.id}:{key}:{ctx.now().isoformat()}")


def confirm_batch_paid(
    ctx: Context, batch_id: int, actor_id: int, reference: str, channel: str | None = None
) -> ContributionBatch:
    """Finance confirms by hand that an approved batch was filed and paid (no bank gateway)."""
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id)
        batch = uow.batches.get(batch_id)
        require_scope(uow, actor, batch.branch_id, Role.FINANCE)
        audit(uow, ctx.now(), "batch.confirm_paid", ("batch", batch.id), actor, channel=channel)
        uow.commit()
    if batch.state is BatchState.APPROVED:
        submit_batch(ctx, batch_id, reference)
    return record_batch_payment(ctx, batch_id, ctx.today(), reference)
