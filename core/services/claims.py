"""Claims: open, attach documents, submit (with the contribution check), decide, pay out."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.domain.claims import (
    Claim,
    ClaimDocument,
    ClaimState,
    ClaimType,
    DocumentKind,
    accepted_kinds,
    checklist,
    missing_documents,
    require_reason,
)
from core.domain.contributions import MonthState, Status, StatusReport
from core.domain.directory import STAFF_ROLES, Employee, Role
from core.domain.documents import check_upload, display_name
from core.domain.errors import ClaimIncomplete, DocumentRejected, InvalidValue, PermissionDenied
from core.domain.escalation import SubjectKind
from core.domain.notifications import Button, ChannelKind
from core.domain.records import RecordDocument, RecordKind
from core.domain.settlement import JobKind
from core.services.absences import behalf_params, delegates
from core.services.alerts import close_alerts_for, open_alert
from core.services.cards import close_cards
from core.services.common import audit, notify
from core.services.consents import require_consent
from core.services.context import Context
from core.services.scope import may_act_for_branch, on_behalf_of, require_scope
from core.services.status import status_of
from core.services.vouchers import voucher_pdf

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

_EXTENSION = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/heic": ".heic",
    "image/webp": ".webp",
}

_DECISION_KEYS = {
    "approve": "claim.approved",
    "reject": "claim.rejected",
    "return": "claim.returned",
}
_DECIDED = {"approve": "approved", "reject": "rejected", "return": "returned"}


@dataclass(frozen=True)
class ClaimView:
    claim: Claim
    documents: tuple[ClaimDocument, ...]

    @property
    def received(self) -> set[DocumentKind]:
        return {d.kind for d in self.documents}

    def checklist(self) -> Any:
        return checklist(self.claim.claim_type, self.received)


def open_claim(
    ctx: Context, employee_id: int, claim_type: ClaimType, channel: str | None = None
) -> Claim:
    with ctx.uow() as uow:
        employee = uow.directory.employee(employee_id)
        claim = Claim(employee_id=employee.id, claim_type=claim_type, created_at=ctx.now())
        uow.claims.add(claim)
        uow.flush()
        audit(
            uow,
            ctx.now(),
            "claim.open",
            ("claim", claim.id),
            employee,
            (None, claim.state),
            channel,
            claim_type=str(claim_type),
        )
        uow.commit()
        return claim


def attach_document(
    ctx: Context,
    claim_id: int,
    actor_id: int,
    kind: DocumentKind,
    filename: str,
    content: bytes,
    channel: str | None = None,
) -> ClaimView:
    """Store one uploaded document after checking its owner, kind, content and that it is new.

    Every check comes before the document store is written to: a refusal stores nothing.
    """
    with ctx.uow() as uow:
        claim = uow.claims.get(claim_id)
        actor = _owner(uow, claim, actor_id)
        require_consent(ctx, uow, actor)  # PIPL: separate consent before any document
        if claim.state not in (ClaimState.DRAFT, ClaimState.RETURNED):
            raise InvalidValue("documents can only be added before submitting", state=claim.state)
        if kind not in accepted_kinds(claim.claim_type):
            raise DocumentRejected(
                f"{kind} is not part of a {claim.claim_type} claim", reason="wrong_kind"
            )
        rules = ctx.rules
        sniffed = check_upload(
            filename, content, rules.max_upload_bytes, max_pixels=rules.max_image_pixels
        )
        digest = hashlib.sha256(content).hexdigest()
        for existing in uow.claims.documents(claim.id):
            if existing.sha256 == digest:
                raise DocumentRejected(
                    "this file is already attached to the claim",
                    reason="duplicate",
                    kind=str(existing.kind),
                )
        key = f"claims/{claim.id}/{secrets.token_hex(16)}{_EXTENSION[sniffed.content_type]}"
        document = ClaimDocument(
            claim_id=claim.id,
            kind=kind,
            filename=display_name(filename),
            content_type=sniffed.content_type,
            size=sniffed.size,
            sha256=digest,
            storage_key=key,
            uploaded_at=ctx.now(),
        )
        uow.claims.add(document)
        audit(
            uow,
            ctx.now(),
            "claim.attach",
            ("claim", claim.id),
            actor,
            channel=channel,
            kind=str(kind),
            size=sniffed.size,
            content_type=sniffed.content_type,
        )
        uow.flush()  # the database has accepted the row before the file is written
        ctx.documents.put(key, content)
        uow.commit()
        return ClaimView(claim, tuple(uow.claims.documents(claim.id)))


def claim_view(ctx: Context, claim_id: int) -> ClaimView:
    with ctx.uow() as uow:
        claim = uow.claims.get(claim_id)
        return ClaimView(claim, tuple(uow.claims.documents(claim.id)))


def submit_claim(ctx: Context, claim_id: int, actor_id: int, channel: str | None = None) -> Claim:
    """Submit: a clean 3-month record goes to review; otherwise the claim is held, HR alerted."""
    with ctx.uow() as uow:
        claim = uow.claims.get(claim_id)
        employee = _owner(uow, claim, actor_id)
        missing = missing_documents(
            claim.claim_type, {d.kind for d in uow.claims.documents(claim.id)}
        )
        if missing:
            raise ClaimIncomplete(
                "required documents are missing", missing=[str(k) for k in missing]
            )
        now = ctx.now()
        audit(
            uow,
            now,
            "claim.submit",
            ("claim", claim.id),
            employee,
            claim.move("resubmit" if claim.state is ClaimState.RETURNED else "submit"),
            channel,
        )
        claim.submitted_at = now
        report = status_of(
            uow, employee, ctx.today(), ctx.rules.claim_check_months, ctx.rules.lapse_after
        )
        if report.status is Status.NORMAL:
            _start_review(ctx, uow, claim, employee, "claim.submitted")
        else:
            _hold(ctx, uow, claim, employee, report)
        uow.commit()
        return claim


def resume_held_claims(ctx: Context, uow: UnitOfWork, employee_ids: Iterable[int]) -> list[Claim]:
    """Re-check held claims after contributions change; resume those now in good standing."""
    resumed = []
    for claim in uow.claims.held_for(employee_ids):
        employee = uow.directory.employee(claim.employee_id)
        report = status_of(
            uow, employee, ctx.today(), ctx.rules.claim_check_months, ctx.rules.lapse_after
        )
        if report.status is not Status.NORMAL:
            continue
        audit(
            uow,
            ctx.now(),
            "claim.resume",
            ("claim", claim.id),
            moved=claim.move("resume"),
            reason="contributions paid",
        )
        claim.hold_reason = None
        close_alerts_for(ctx, uow, (SubjectKind.HELD_CLAIM, claim.id), "contributions paid")
        _start_review(ctx, uow, claim, employee, "claim.resumed")
        resumed.append(claim)
    return resumed


def approve_claim(
    ctx: Context,
    claim_id: int,
    actor_id: int,
    amount: Decimal | None = None,
    channel: str | None = None,
) -> Claim:
    """Approve for ``amount``, or for the amount the employee claimed when none is given."""
    if amount is not None:
        check_amount(amount)
    return _decide(ctx, claim_id, actor_id, "approve", None, channel, amount)


def check_amount(amount: Decimal) -> Decimal:
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidValue(
            "the amount must be positive, in yuan with at most 2 decimals", field="amount"
        )
    if amount > Decimal("10000000"):
        raise InvalidValue("the amount is implausibly large", field="amount")
    return amount


def set_claimed_amount(ctx: Context, claim_id: int, actor_id: int, amount: Decimal) -> Claim:
    """The amount the employee claims (from the itemized bill), before submitting."""
    check_amount(amount)
    with ctx.uow() as uow:
        claim = uow.claims.get(claim_id)
        employee = _owner(uow, claim, actor_id)
        if claim.state not in (ClaimState.DRAFT, ClaimState.RETURNED):
            raise InvalidValue("the amount can only change before submitting", state=claim.state)
        claim.amount = amount
        audit(uow, ctx.now(), "claim.amount", ("claim", claim.id), employee, amount=str(amount))
        uow.commit()
        return claim


def reject_claim(
    ctx: Context, claim_id: int, actor_id: int, reason: str, channel: str | None = None
) -> Claim:
    return _decide(ctx, claim_id, actor_id, "reject", require_reason(reason, "reject"), channel)


def return_claim(
    ctx: Context, claim_id: int, actor_id: int, reason: str, channel: str | None = None
) -> Claim:
    return _decide(ctx, claim_id, actor_id, "return", require_reason(reason, "return"), channel)


def withdraw_claim(ctx: Context, claim_id: int, actor_id: int, channel: str | None = None) -> Claim:
    with ctx.uow() as uow:
        claim = uow.claims.get(claim_id)
        employee = _owner(uow, claim, actor_id)
        audit(
            uow,
            ctx.now(),
            "claim.withdraw",
            ("claim", claim.id),
            employee,
            claim.move("withdraw"),
            channel,
        )
        close_alerts_for(ctx, uow, (SubjectKind.HELD_CLAIM, claim.id), "claim withdrawn")
        uow.commit()
        return claim


def record_payout(
    ctx: Context, claim_id: int, actor_id: int, reference: str, channel: str | None = None
) -> Claim:
    """Finance says the money has left (manual settlement)."""
    with ctx.uow() as uow:
        claim = uow.claims.get(claim_id)
        actor = uow.directory.employee(actor_id)
        _require_reviewer(uow, actor, claim, ctx.today())
        pay_out(ctx, uow, claim, actor, reference, channel)
        uow.commit()
        return claim


def retry_payout(ctx: Context, claim_id: int, actor_id: int, channel: str | None = None) -> Claim:
    """Queue a failed payout again, with the same idempotency key (never paid twice)."""
    with ctx.uow() as uow:
        claim = uow.claims.get(claim_id)
        actor = uow.directory.employee(actor_id)
        _require_reviewer(uow, actor, claim, ctx.today())
        claim.check("pay")
        if ctx.rules.settlement != "gateway":
            raise InvalidValue("payouts are recorded by hand here", field="settlement")
        uow.settlement.queue(JobKind.CLAIM_PAY, claim.id, f"claim-{claim.id}-pay", ctx.now())
        audit(uow, ctx.now(), "claim.retry_payout", ("claim", claim.id), actor, channel=channel)
        uow.commit()
        return claim


def pay_out(
    ctx: Context,
    uow: UnitOfWork,
    claim: Claim,
    actor: Employee | None,
    reference: str,
    channel: str | None,
) -> None:
    """The money has left: mark paid, file the voucher in the claim and the employee's record,
    tell the employee (chat and SMS)."""
    now = ctx.now()
    moved = claim.move("pay")
    claim.paid_at, claim.payout_reference = now, reference.strip()[:64] or None
    employee = uow.directory.employee(claim.employee_id)
    content = voucher_pdf(claim, employee, ctx.rules.timezone)
    key = f"claims/{claim.id}/voucher-{secrets.token_hex(8)}.pdf"
    ctx.documents.put(key, content)
    voucher = ClaimDocument(
        claim_id=claim.id,
        kind=DocumentKind.VOUCHER,
        filename=f"voucher-{claim.reference}.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        storage_key=key,
        uploaded_at=now,
    )
    uow.claims.add(voucher)
    uow.records.file_for(
        [employee.id],
        RecordDocument(
            employee_id=employee.id,
            kind=RecordKind.CLAIM_VOUCHER,
            filename=voucher.filename,
            content_type=voucher.content_type,
            size=voucher.size,
            sha256=voucher.sha256,
            storage_key=key,
            filed_at=now,
            claim_id=claim.id,
        ),
    )
    audit(
        uow,
        now,
        "claim.pay",
        ("claim", claim.id),
        actor,
        moved,
        channel,
        reference=claim.payout_reference,
    )
    notify(
        ctx,
        uow,
        employee,
        "claim.paid",
        {"claim": claim.reference, "amount": str(claim.amount), "reference": reference},
        f"claim:{claim.id}:paid",
        channels=(ChannelKind.CHAT, ChannelKind.SMS),
        buttons=[Button("claim.voucher", "button.download_voucher", {"claim_id": claim.id})],
    )


def read_document(
    ctx: Context, document_id: int, actor_id: int, channel: str | None = None
) -> tuple[ClaimDocument, bytes]:
    """A document's bytes, for its owner and the HR and finance staff of the claimant's branch
    only; every read is audited."""
    with ctx.uow() as uow:
        document = uow.claims.document(document_id)
        claim = uow.claims.get(document.claim_id)
        actor = uow.directory.employee(actor_id)
        claimant = uow.directory.employee(claim.employee_id)
        staff = actor.role in STAFF_ROLES and may_act_for_branch(
            uow, actor, claimant.branch_id, ctx.today()
        )
        if actor.id != claim.employee_id and not staff:
            raise PermissionDenied("only the claimant and their branch's HR and finance")
        audit(
            uow,
            ctx.now(),
            "document.read",
            ("claim", claim.id),
            actor,
            channel=channel,
            document_id=document.id,
            kind=str(document.kind),
        )
        uow.commit()
        return document, ctx.documents.get(document.storage_key)


def _decide(
    ctx: Context,
    claim_id: int,
    actor_id: int,
    event: str,
    reason: str | None,
    channel: str | None,
    amount: Decimal | None = None,
) -> Claim:
    with ctx.uow() as uow:
        claim = uow.claims.get(claim_id)
        actor = uow.directory.employee(actor_id)
        branch_id = _require_reviewer(uow, actor, claim, ctx.today())
        now = ctx.now()
        moved = claim.move(event)
        if event == "approve" and amount is None:
            amount = claim.amount
            if amount is None:
                raise InvalidValue("the claim has no amount: give one to approve", field="amount")
        claim.decision_reason = reason
        if event in ("approve", "reject"):
            claim.decided_at = now
        if amount is not None:
            claim.amount = amount
        audit(
            uow,
            now,
            f"claim.{event}",
            ("claim", claim.id),
            actor,
            moved,
            channel,
            reason=reason,
            amount=str(amount) if amount is not None else None,
            **on_behalf_of(uow, actor, branch_id, ctx.today(), Role.FINANCE),
        )
        close_alerts_for(ctx, uow, (SubjectKind.HELD_CLAIM, claim.id), f"claim {event}")
        close_alerts_for(ctx, uow, (SubjectKind.CLAIM_APPROVAL, claim.id), f"claim {event}")
        close_cards(ctx, uow, ("claim", claim.id), _DECIDED[event], actor)
        employee = uow.directory.employee(claim.employee_id)
        notify(
            ctx,
            uow,
            employee,
            _DECISION_KEYS[event],
            {"claim": claim.reference, "reason": reason, "amount": str(amount) if amount else None},
            f"claim:{claim.id}:{event}:{now.isoformat()}",
        )
        if event == "approve" and ctx.rules.settlement == "gateway":
            uow.settlement.queue(JobKind.CLAIM_PAY, claim.id, f"claim-{claim.id}-pay", now)
        uow.commit()
        return claim


def _start_review(
    ctx: Context, uow: UnitOfWork, claim: Claim, employee: Employee, key: str
) -> None:
    if claim.state is ClaimState.SUBMITTED:
        audit(uow, ctx.now(), "claim.review", ("claim", claim.id), moved=claim.move("review"))
    params = {
        "claim": claim.reference,
        "claim_type": str(claim.claim_type),
        "employee": employee.name,
    }
    notify(ctx, uow, employee, key, params, f"claim:{claim.id}:{key}:{ctx.now().isoformat()}")
    buttons = [
        Button("claim.approve", "button.approve", {"claim_id": claim.id}, "primary"),
        Button("claim.return", "button.return", {"claim_id": claim.id}),
        Button("claim.reject", "button.reject", {"claim_id": claim.id}, "danger"),
    ]
    reviewers = uow.directory.responsible(employee.branch_id, Role.FINANCE)
    for reviewer, absent in delegates(ctx, uow, reviewers):
        notify(
            ctx,
            uow,
            reviewer,
            "claim.review_requested",
            params | behalf_params(reviewer, absent),
            f"claim:{claim.id}:review:{ctx.now().isoformat()}",
            buttons=buttons,
            subject=("claim", claim.id),
        )


def _hold(
    ctx: Context, uow: UnitOfWork, claim: Claim, employee: Employee, report: StatusReport
) -> None:
    months = [str(m.period) for m in report.problem_months]
    claim.hold_reason = "contributions not paid: " + ", ".join(months)
    audit(
        uow,
        ctx.now(),
        "claim.hold",
        ("claim", claim.id),
        moved=claim.move("hold"),
        status=str(report.status),
        months=months,
    )
    causes = [
        m.delay_reason
        for m in report.months
        if m.state is MonthState.OVERDUE and m.delay_reason is not None
    ]
    open_alert(
        ctx,
        uow,
        (SubjectKind.HELD_CLAIM, claim.id),
        employee.branch_id,
        employee.id,
        causes[0] if causes else None,
    )
    notify(
        ctx,
        uow,
        employee,
        "claim.held",
        {"claim": claim.reference, "months": months, "status": str(report.status)},
        f"claim:{claim.id}:held:{ctx.now().isoformat()}",
    )


def _require_reviewer(
    uow: UnitOfWork, actor: Employee, claim: Claim, day: date | None = None
) -> int:
    """Finance answering for the claimant's branch (or standing in on ``day`` for finance who
    does), and never for their own claim; returns the branch."""
    claimant = uow.directory.employee(claim.employee_id)
    require_scope(uow, actor, claimant.branch_id, Role.FINANCE, day=day)
    if actor.id == claim.employee_id:
        raise PermissionDenied("nobody may decide their own claim", rule="own_claim")
    return claimant.branch_id


def _owner(uow: UnitOfWork, claim: Claim, actor_id: int) -> Employee:
    if claim.employee_id != actor_id:
        raise PermissionDenied("only the claimant may change this claim")
    return uow.directory.employee(actor_id)
