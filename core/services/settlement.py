"""Running the settlement jobs: file approved batches, pay filed ones, pay out approved claims.

Each job is leased like an outbox row. The gateway is called outside any transaction, with the
job's idempotency key; the answer is recorded only while the lease is still ours. A failure
keeps the batch ``failed`` with its cause (bureau or bank), alerts HR and waits for a retry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.domain.batches import BatchState, FailureCause
from core.domain.claims import ClaimState
from core.domain.directory import Role
from core.domain.documents import check_upload
from core.domain.errors import DocumentRejected
from core.domain.notifications import Button
from core.domain.settlement import JobKind, JobState, SettlementJob
from core.ports import (
    BatchPayment,
    BatchSubmission,
    ClaimPayout,
    GatewayError,
    GatewayReceipt,
    PaymentGateway,
    SocialInsuranceGateway,
    SubmissionLine,
)
from core.services.batches import fail_batch, mark_paid, mark_submitted
from core.services.claims import pay_out
from core.services.common import audit, notify
from core.services.context import Context
from core.services.leasing import LeasedQueue, work_round

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

Request = BatchSubmission | BatchPayment | ClaimPayout


@dataclass(frozen=True)
class SettlementResult:
    done: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass
class Gateways:
    bureau: SocialInsuranceGateway
    bank: PaymentGateway


def run_settlement(
    ctx: Context,
    gateways: Gateways,
    owner: str,
    limit: int = 20,
    stop: Callable[[], bool] | None = None,
) -> SettlementResult:
    """Work through the queued jobs once; a job added meanwhile (payment after filing) waits
    for the next round."""

    def queue(uow: UnitOfWork) -> LeasedQueue[SettlementJob]:
        return uow.settlement

    outcomes = work_round(
        ctx, queue, owner, limit, stop, lambda job_id: _run_one(ctx, gateways, job_id, owner)
    )
    return SettlementResult(outcomes["done"], outcomes["failed"], outcomes["skipped"])


def _run_one(ctx: Context, gateways: Gateways, job_id: int, owner: str) -> str:
    with ctx.uow() as uow:
        if not uow.settlement.hold(job_id, owner, ctx.now(), ctx.rules.lease):
            return "skipped"
        job = uow.settlement.get(job_id)
        job.attempts += 1
        request = _request(uow, job)
        uow.commit()
    if request is None:
        return _finish(ctx, job_id, owner, None, "skipped")
    try:
        receipt = _call(gateways, request)
    except GatewayError as error:
        return _finish(ctx, job_id, owner, None, str(error) or type(error).__name__)
    return _finish(ctx, job_id, owner, receipt, None)


def _call(gateways: Gateways, request: Request) -> GatewayReceipt:
    if isinstance(request, BatchSubmission):
        return gateways.bureau.submit_batch(request)
    if isinstance(request, BatchPayment):
        return gateways.bank.pay_batch(request)
    return gateways.bank.pay_claim(request)


def _request(uow: UnitOfWork, job: SettlementJob) -> Request | None:
    """What to send for the job, or None when its subject has moved on (nothing to do)."""
    key = job.idempotency_key
    if job.kind is JobKind.CLAIM_PAY:
        claim = uow.claims.get(job.subject_id)
        if claim.state is not ClaimState.APPROVED or claim.amount is None:
            return None
        employee = uow.directory.employee(claim.employee_id)
        return ClaimPayout(key, claim.reference, employee.employee_no, claim.amount)
    batch = uow.batches.get(job.subject_id)
    branch = uow.directory.branch(batch.branch_id)
    if job.kind is JobKind.BATCH_PAY:
        if batch.state is not BatchState.SUBMITTED:
            return None
        reference = batch.bureau_reference or ""
        return BatchPayment(key, branch.code, str(batch.period), batch.total, reference)
    if batch.state is not BatchState.APPROVED:
        return None
    lines = uow.batches.lines(batch.id)
    people = uow.directory.employees(line.employee_id for line in lines)
    return BatchSubmission(
        key,
        branch.code,
        str(batch.period),
        batch.total,
        tuple(
            SubmissionLine(
                people[line.employee_id].employee_no,
                people[line.employee_id].name,
                people[line.employee_id].id_number,
                line.base,
                line.employer_amount,
                line.employee_amount,
            )
            for line in lines
        ),
    )


def _finish(
    ctx: Context, job_id: int, owner: str, receipt: GatewayReceipt | None, error: str | None
) -> str:
    with ctx.uow() as uow:
        if not uow.settlement.hold(job_id, owner, ctx.now(), ctx.rules.lease):
            return "skipped"  # the lease expired meanwhile: the next holder repeats the key
        job = uow.settlement.get(job_id)
        job.lease_owner, job.lease_until, job.finished_at = None, None, ctx.now()
        if error == "skipped":
            job.state, job.last_error = JobState.DONE, "nothing to do"
            uow.commit()
            return "skipped"
        if receipt is None:
            job.state, job.last_error = JobState.FAILED, (error or "")[:500]
            _failed(ctx, uow, job)
            outcome = "failed"
        else:
            job.state, job.reference = JobState.DONE, receipt.reference[:64]
            _succeeded(ctx, uow, job, receipt)
            outcome = "done"
        audit(
            uow,
            ctx.now(),
            f"settlement.{outcome}",
            ("settlement_job", job.id),
            kind=str(job.kind),
            subject_id=job.subject_id,
            attempts=job.attempts,
            reference=job.reference,
            error=job.last_error,
        )
        uow.commit()
        return outcome


def _succeeded(ctx: Context, uow: UnitOfWork, job: SettlementJob, receipt: GatewayReceipt) -> None:
    if job.kind is JobKind.CLAIM_PAY:
        pay_out(ctx, uow, uow.claims.get(job.subject_id), None, receipt.reference, "gateway")
        return
    batch = uow.batches.get(job.subject_id)
    if job.kind is JobKind.BATCH_SUBMIT:
        mark_submitted(ctx, uow, batch, receipt.reference)
        uow.settlement.queue(JobKind.BATCH_PAY, batch.id, batch.idempotency_key("pay"), ctx.now())
        return
    paid_on = receipt.paid_on or ctx.today()
    document = _bank_receipt(ctx, uow, batch.id, receipt)
    mark_paid(ctx, uow, batch, paid_on, receipt.reference, document, channel="gateway")


def _bank_receipt(
    ctx: Context, uow: UnitOfWork, batch_id: int, receipt: GatewayReceipt
) -> tuple[str, bytes] | None:
    """The bank's receipt if it passes the upload checks; otherwise hrbot files its own.

    The money has moved: a receipt we will not keep (active content, not a PDF) must never stop
    the payment from being recorded, or the job would repeat forever.
    """
    if not receipt.document:
        return None
    name = f"receipt-{batch_id}-{receipt.reference}.pdf"
    try:
        check_upload(name, receipt.document, ctx.rules.max_upload_bytes)
    except DocumentRejected as refused:
        reason = str(refused.params.get("reason", "refused"))
        audit(uow, ctx.now(), "batch.receipt_refused", ("batch", batch_id), reason=reason)
        return None
    return name, receipt.document


def _failed(ctx: Context, uow: UnitOfWork, job: SettlementJob) -> None:
    message = job.last_error or ""
    if job.kind is JobKind.CLAIM_PAY:
        claim = uow.claims.get(job.subject_id)
        employee = uow.directory.employee(claim.employee_id)
        button = Button("claim.retry_payout", "button.retry", {"claim_id": claim.id}, "primary")
        for person in uow.directory.responsible(employee.branch_id, Role.FINANCE):
            notify(
                ctx,
                uow,
                person,
                "claim.payout_failed",
                {"claim": claim.reference, "message": message},
                f"claim:{claim.id}:payout_failed:{job.attempts}",
                buttons=[button],
                subject=("claim", claim.id),
            )
        return
    batch = uow.batches.get(job.subject_id)
    cause = FailureCause.BUREAU_SYSTEM
    if job.kind is JobKind.BATCH_PAY:
        cause = FailureCause.BANK_FAILURE
    fail_batch(ctx, uow, batch, cause, message)
