"""Medical claims: types, the document checklist per type, and the claim lifecycle.

Lifecycle: ``draft → submitted → on_hold → under_review → approved → paid``, plus ``returned``
(more information needed), ``rejected`` (reason required) and ``withdrawn``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from core.domain.errors import InvalidValue
from core.domain.statemachine import TransitionTable


class ClaimType(StrEnum):
    HOSPITALIZATION = "hospitalization"
    OUTPATIENT = "outpatient"


class DocumentKind(StrEnum):
    ADMISSION_CERTIFICATE = "admission_certificate"
    ITEMIZED_BILL = "itemized_bill"
    ID_COPY = "id_copy"
    INVOICE = "invoice"
    DISCHARGE_SUMMARY = "discharge_summary"
    OUTPATIENT_RECORD = "outpatient_record"
    VOUCHER = "voucher"
    """The reimbursement voucher hrbot files after payout; never uploaded by the employee."""


REQUIRED_DOCUMENTS: dict[ClaimType, tuple[DocumentKind, ...]] = {
    ClaimType.HOSPITALIZATION: (
        DocumentKind.ADMISSION_CERTIFICATE,
        DocumentKind.ITEMIZED_BILL,
        DocumentKind.ID_COPY,
    ),
    ClaimType.OUTPATIENT: (
        DocumentKind.OUTPATIENT_RECORD,
        DocumentKind.ITEMIZED_BILL,
        DocumentKind.ID_COPY,
    ),
}

OPTIONAL_DOCUMENTS: dict[ClaimType, tuple[DocumentKind, ...]] = {
    ClaimType.HOSPITALIZATION: (DocumentKind.INVOICE, DocumentKind.DISCHARGE_SUMMARY),
    ClaimType.OUTPATIENT: (DocumentKind.INVOICE,),
}


class ClaimState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ON_HOLD = "on_hold"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    PAID = "paid"
    RETURNED = "returned"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


_CS = ClaimState
CLAIM_LIFECYCLE = TransitionTable[ClaimState](
    name="claim",
    initial=_CS.DRAFT,
    rows={
        (_CS.DRAFT, "submit"): _CS.SUBMITTED,
        (_CS.SUBMITTED, "hold"): _CS.ON_HOLD,
        (_CS.SUBMITTED, "review"): _CS.UNDER_REVIEW,
        (_CS.ON_HOLD, "resume"): _CS.UNDER_REVIEW,
        (_CS.UNDER_REVIEW, "approve"): _CS.APPROVED,
        (_CS.UNDER_REVIEW, "reject"): _CS.REJECTED,
        (_CS.UNDER_REVIEW, "return"): _CS.RETURNED,
        (_CS.ON_HOLD, "return"): _CS.RETURNED,
        (_CS.RETURNED, "resubmit"): _CS.SUBMITTED,
        (_CS.APPROVED, "pay"): _CS.PAID,
        (_CS.DRAFT, "withdraw"): _CS.WITHDRAWN,
        (_CS.SUBMITTED, "withdraw"): _CS.WITHDRAWN,
        (_CS.ON_HOLD, "withdraw"): _CS.WITHDRAWN,
        (_CS.UNDER_REVIEW, "withdraw"): _CS.WITHDRAWN,
        (_CS.RETURNED, "withdraw"): _CS.WITHDRAWN,
    },
    finals=frozenset({_CS.PAID, _CS.REJECTED, _CS.WITHDRAWN}),
)

DECISIONS = frozenset({"approve", "reject"})


@dataclass(eq=False)
class Claim:
    employee_id: int
    claim_type: ClaimType
    created_at: datetime
    state: ClaimState = ClaimState.DRAFT
    amount: Decimal | None = None
    hold_reason: str | None = None
    decision_reason: str | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    paid_at: datetime | None = None
    payout_reference: str | None = None
    id: int = field(init=False)

    def check(self, event: str) -> ClaimState:
        """The state ``event`` would lead to; raises ``IllegalTransition``, changing nothing."""
        return CLAIM_LIFECYCLE.apply(self.state, event)

    def move(self, event: str) -> tuple[ClaimState, ClaimState]:
        """Apply ``event``; returns (from, to) so the caller can audit it."""
        before = self.state
        self.state = CLAIM_LIFECYCLE.apply(before, event)
        return before, self.state

    @property
    def reference(self) -> str:
        return f"C{self.id:06d}"


@dataclass(eq=False)
class ClaimDocument:
    claim_id: int
    kind: DocumentKind
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    uploaded_at: datetime
    id: int = field(init=False)


@dataclass(frozen=True)
class ChecklistItem:
    kind: DocumentKind
    required: bool
    received: bool


def checklist(claim_type: ClaimType, received: set[DocumentKind]) -> tuple[ChecklistItem, ...]:
    items = [ChecklistItem(k, True, k in received) for k in REQUIRED_DOCUMENTS[claim_type]]
    items += [ChecklistItem(k, False, k in received) for k in OPTIONAL_DOCUMENTS[claim_type]]
    return tuple(items)


def missing_documents(
    claim_type: ClaimType, received: set[DocumentKind]
) -> tuple[DocumentKind, ...]:
    return tuple(k for k in REQUIRED_DOCUMENTS[claim_type] if k not in received)


def accepted_kinds(claim_type: ClaimType) -> frozenset[DocumentKind]:
    return frozenset(REQUIRED_DOCUMENTS[claim_type] + OPTIONAL_DOCUMENTS[claim_type])


def require_reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidValue(f"a reason is required to {what}", field="reason")
    return text
