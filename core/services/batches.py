"""Contribution batches after HR's check: approve or return, submit, pay, fail and retry.

Recording a payment is where the seed's story turns: the lines' months become paid, the receipt
(缴费凭证) is filed in every employee's record, the branch's alerts close, every claim held
because of those months resumes by itself, and each employee is told "社保缴费成功".
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from core.domain.batches import (
    BatchLine,
    BatchState,
    ContributionBatch,
    FailureCause,
    stuck_cause,
)
from core.domain.claims import require_reason
from core.domain.directory import HR_ROLES, Employee, Role
from core.domain.documents import check_upload, display_name
from core.domain.errors import ConfirmationRequired, InvalidValue
from core.domain.escalation import StepState, SubjectKind
from core.domain.notifications import Button, ChannelKind
from core.domain.records import RecordDocument, RecordKind
from core.domain.settlement import JobKind
from core.services.absences import behalf_params, delegates
from core.services.alerts import close_alerts_for, open_alert
from core.services.cards import close_cards
from core.services.claims import resume_held_claims
from core.services.common import audit, notify
from core.services.context import Context
from core.services.review import ask_finance, batch_for, batch_params
from core.services.scope import on_behalf_of
from core.services.vouchers import receipt_lines, text_pdf

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

__all__ = ["batch_params"]

PAYERS = (Role.FINANCE, *HR_ROLES)
"""Who may mark a batch paid by hand (manual settlement): finance, or HR with the receipt."""

_EXTENSION = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def request_finance_approval(
    ctx: Context, batch_id: int, actor_id: int, channel: str | None = None
) -> ContributionBatch:
    """HR asks the branch's finance approvers to approve (moving a verified batch on first)."""
    with ctx.uow() as uow:
        actor, batch = batch_for(uow, batch_id, actor_id, *HR_ROLES)
        ask_finance(ctx, uow, batch, actor, channel)
        audit(uow, ctx.now(), "batch.remind_finance", ("batch", batch.id), actor, channel=channel)
        uow.commit()
        return batch


def approve_batch(
    ctx: Context,
    batch_id: int,
    actor_id: int,
    channel: str | None = None,
    confirmed: bool = False,
) -> ContributionBatch:
    """Finance approves; above ``confirm_above`` only when ``confirmed`` (a second tap)."""
    with ctx.uow() as uow:
        actor, batch = batch_for(uow, batch_id, actor_id, Role.FINANCE, day=ctx.today())
        threshold = ctx.rules.confirm_above
        if threshold is not None and batch.total > threshold and not confirmed:
            batch.check("approve", actor.id)  # a decided batch or the verifier is refused first
            raise ConfirmationRequired(
                "this amount needs a second confirmation",
                total=str(batch.total),
                threshold=str(threshold),
            )
        moved = batch.move("approve", actor.id)
        audit(
            uow,
            ctx.now(),
            "batch.approve",
            ("batch", batch.id),
            actor,
            moved,
            channel,
            confirmed=confirmed,
            **on_behalf_of(uow, actor, batch.branch_id, ctx.today(), Role.FINANCE),
        )
        close_cards(ctx, uow, ("batch", batch.id), "approved", actor)
        close_alerts_for(ctx, uow, (SubjectKind.BATCH_APPROVAL, batch.id), "batch approved")
        if ctx.rules.settlement == "gateway":
            uow.settlement.queue(
                JobKind.BATCH_SUBMIT, batch.id, batch.idempotency_key("submit"), ctx.now()
            )
            _tell_hr(ctx, uow, batch, "batch.approved", {"finance": actor.name})
        else:
            button = Button("batch.paid", "button.mark_paid", {"batch_id": batch.id}, "primary")
            _tell_hr(ctx, uow, batch, "batch.approved", {"finance": actor.name}, buttons=[button])
        uow.commit()
        return batch


def return_batch(
    ctx: Context, batch_id: int, actor_id: int, reason: str, channel: str | None = None
) -> ContributionBatch:
    with ctx.uow() as uow:
        actor, batch = batch_for(uow, batch_id, actor_id, Role.FINANCE, *HR_ROLES, day=ctx.today())
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
            **on_behalf_of(uow, actor, batch.branch_id, ctx.today()),
        )
        close_cards(ctx, uow, ("batch", batch.id), "returned", actor)
        close_alerts_for(ctx, uow, (SubjectKind.BATCH_APPROVAL, batch.id), "batch returned")
        _tell_hr(ctx, uow, batch, "batch.returned", {"reason": batch.return_reason})
        uow.commit()
        return batch


def submit_batch(ctx: Context, batch_id: int, reference: str) -> ContributionBatch:
    """The approved batch has been filed with the social insurance bureau."""
    with ctx.uow() as uow:
        batch = uow.batches.get(batch_id)
        mark_submitted(ctx, uow, batch, reference)
        uow.commit()
        return batch


def mark_submitted(ctx: Context, uow: UnitOfWork, batch: ContributionBatch, reference: str) -> None:
    moved = batch.move("submit")
    batch.bureau_reference = reference[:64]
    audit(uow, ctx.now(), "batch.submit", ("batch", batch.id), moved=moved, reference=reference)


def record_batch_payment(
    ctx: Context,
    batch_id: int,
    paid_on: date,
    reference: str,
    receipt: tuple[str, bytes] | None = None,
    actor_id: int | None = None,
    channel: str | None = None,
) -> ContributionBatch:
    """Paid: mark every line's month paid, file the receipt, close alerts, resume held claims."""
    with ctx.uow() as uow:
        batch = uow.batches.get(batch_id)
        actor = uow.directory.employee(actor_id) if actor_id is not None else None
        mark_paid(ctx, uow, batch, paid_on, reference, receipt, actor, channel)
        uow.commit()
        return batch


def mark_paid(
    ctx: Context,
    uow: UnitOfWork,
    batch: ContributionBatch,
    paid_on: date,
    reference: str,
    receipt: tuple[str, bytes] | None,
    actor: Employee | None = None,
    channel: str | None = None,
) -> None:
    moved = batch.move("pay")
    batch.paid_date, batch.payment_reference = paid_on, reference[:64]
    lines = uow.batches.lines(batch.id)
    for record in uow.contributions.by_ids(line.contribution_id for line in lines):
        record.mark_paid(paid_on)
    audit(
        uow,
        ctx.now(),
        "batch.pay",
        ("batch", batch.id),
        actor,
        moved,
        channel,
        reference=reference,
        lines=len(lines),
    )
    close_alerts_for(ctx, uow, (SubjectKind.CONTRIBUTION_BATCH, batch.id), "batch paid")
    for reminder in uow.reminders.for_batch(batch.id):
        if reminder.state is StepState.PENDING:
            reminder.state, reminder.note = StepState.CANCELLED, "batch paid"
    people = [line.employee_id for line in lines]
    file_receipt(ctx, uow, batch, people, receipt or _own_receipt(uow, batch))
    uow.flush()
    resume_held_claims(ctx, uow, set(people))
    _tell_hr(ctx, uow, batch, "batch.paid", {"paid_on": paid_on.isoformat()})
    _tell_employees(ctx, uow, batch, lines)


def _own_receipt(uow: UnitOfWork, batch: ContributionBatch) -> tuple[str, bytes]:
    branch = uow.directory.branch(batch.branch_id)
    lines = receipt_lines(
        branch.code,
        str(batch.period),
        batch.headcount,
        str(batch.total),
        batch.paid_date.isoformat() if batch.paid_date else "-",
        batch.payment_reference or "",
    )
    return f"receipt-{branch.code}-{batch.period}.pdf", text_pdf(lines)


def file_receipt(
    ctx: Context,
    uow: UnitOfWork,
    batch: ContributionBatch,
    people: list[int],
    receipt: tuple[str, bytes],
) -> int:
    """Store the receipt once and file it in every record on the batch."""
    filename, content = receipt
    sniffed = check_upload(
        filename, content, ctx.rules.max_upload_bytes, max_pixels=ctx.rules.max_image_pixels
    )
    extension = _EXTENSION.get(sniffed.content_type, ".bin")
    key = f"receipts/{batch.id}/{secrets.token_hex(16)}{extension}"
    document = RecordDocument(
        employee_id=0,
        kind=RecordKind.CONTRIBUTION_RECEIPT,
        filename=display_name(filename),
        content_type=sniffed.content_type,
        size=sniffed.size,
        sha256=hashlib.sha256(content).hexdigest(),
        storage_key=key,
        filed_at=ctx.now(),
        period=batch.period,
        batch_id=batch.id,
    )
    filed = uow.records.file_for(people, document)
    ctx.documents.put(key, content)
    audit(uow, ctx.now(), "batch.receipt", ("batch", batch.id), filed=filed)
    return filed


def attach_batch_receipt(
    ctx: Context,
    batch_id: int,
    actor_id: int,
    filename: str,
    content: bytes,
    channel: str | None = None,
) -> int:
    """HR uploads the bureau's receipt for a paid batch; it is filed in every record on it."""
    with ctx.uow() as uow:
        actor, batch = batch_for(uow, batch_id, actor_id, *PAYERS)
        if batch.state is not BatchState.PAID:
            raise InvalidValue("a receipt can be filed once the batch is paid", state=batch.state)
        people = uow.batches.employee_ids(batch.id)
        filed = file_receipt(ctx, uow, batch, people, (filename, content))
        audit(uow, ctx.now(), "batch.receipt_upload", ("batch", batch.id), actor, channel=channel)
        uow.commit()
        return filed


def confirm_batch_paid(
    ctx: Context,
    batch_id: int,
    actor_id: int,
    reference: str,
    channel: str | None = None,
    receipt: tuple[str, bytes] | None = None,
) -> ContributionBatch:
    """Manual settlement: finance or HR says the approved batch was filed and paid."""
    with ctx.uow() as uow:
        actor, batch = batch_for(uow, batch_id, actor_id, *PAYERS)
        audit(uow, ctx.now(), "batch.confirm_paid", ("batch", batch.id), actor, channel=channel)
        if batch.state is BatchState.APPROVED:
            mark_submitted(ctx, uow, batch, reference)
        mark_paid(ctx, uow, batch, ctx.today(), reference, receipt, actor, channel)
        uow.commit()
        return batch


def fail_batch(
    ctx: Context, uow: UnitOfWork, batch: ContributionBatch, cause: FailureCause, message: str
) -> None:
    """Submission or payment failed: the batch waits in ``failed``; HR is alerted with a retry."""
    moved = batch.move("fail")
    batch.failure_cause, batch.failure_message = str(cause), message[:500]
    audit(uow, ctx.now(), "batch.fail", ("batch", batch.id), moved=moved, cause=str(cause))
    open_alert(
        ctx,
        uow,
        (SubjectKind.CONTRIBUTION_BATCH, batch.id),
        batch.branch_id,
        suspected_cause=stuck_cause(batch.state, batch.failure_cause),
    )
    button = Button("batch.retry", "button.retry", {"batch_id": batch.id}, "primary")
    _tell_hr(
        ctx,
        uow,
        batch,
        "batch.failed",
        {"cause": str(cause), "message": batch.failure_message},
        buttons=[button],
    )


def retry_batch(
    ctx: Context, batch_id: int, actor_id: int, channel: str | None = None
) -> ContributionBatch:
    """Try a failed batch again, with the same idempotency keys (never filed or paid twice)."""
    with ctx.uow() as uow:
        actor, batch = batch_for(uow, batch_id, actor_id, *PAYERS)
        moved = batch.move("retry")
        audit(uow, ctx.now(), "batch.retry", ("batch", batch.id), actor, moved, channel)
        close_cards(ctx, uow, ("batch", batch.id), "retried", actor)
        if ctx.rules.settlement == "gateway":
            uow.settlement.queue(
                JobKind.BATCH_SUBMIT, batch.id, batch.idempotency_key("submit"), ctx.now()
            )
        uow.commit()
        return batch


def _tell_hr(
    ctx: Context,
    uow: UnitOfWork,
    batch: ContributionBatch,
    key: str,
    extra: dict[str, object],
    buttons: list[Button] | None = None,
) -> None:
    params = batch_params(uow, batch) | extra
    hr = uow.directory.responsible(batch.branch_id, Role.HR)
    for person, absent in delegates(ctx, uow, hr):  # a stand-in for HR away
        notify(
            ctx,
            uow,
            person,
            key,
            params | behalf_params(person, absent),
            f"batch:{batch.id}:{key}:{ctx.now().isoformat()}",
            buttons=buttons or (),
            subject=("batch", batch.id) if buttons else None,
        )


def _tell_employees(
    ctx: Context, uow: UnitOfWork, batch: ContributionBatch, lines: Sequence[BatchLine]
) -> None:
    """ "社保缴费成功" to everyone on the batch, in chat and by SMS where configured."""
    branch = uow.directory.branch(batch.branch_id)
    people = uow.directory.employees(line.employee_id for line in lines)
    for line in lines:
        person = people[line.employee_id]
        notify(
            ctx,
            uow,
            person,
            "contribution.paid",
            {
                "period": str(batch.period),
                "branch": branch.name,
                "amount": str(line.employer_amount + line.employee_amount),
            },
            f"batch:{batch.id}:v{batch.version}:paid",
            channels=(ChannelKind.CHAT, ChannelKind.SMS),
        )
