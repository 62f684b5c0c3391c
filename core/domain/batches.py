"""Contribution batches: a branch's month of contributions, with its lines, totals and lifecycle.

``draft → hr_verified → finance_pending → approved → submitted → paid``, plus ``returned`` (to HR,
with a reason) and ``failed`` (submission or payment failed, with a cause). Whoever verified a
batch may not approve it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from core.domain.contributions import DelayReason
from core.domain.errors import PermissionDenied
from core.domain.periods import Period
from core.domain.statemachine import TransitionTable


class BatchState(StrEnum):
    DRAFT = "draft"
    HR_VERIFIED = "hr_verified"
    FINANCE_PENDING = "finance_pending"
    APPROVED = "approved"
    SUBMITTED = "submitted"
    PAID = "paid"
    RETURNED = "returned"
    FAILED = "failed"


_BS = BatchState
BATCH_LIFECYCLE = TransitionTable[BatchState](
    name="batch",
    initial=_BS.DRAFT,
    rows={
        (_BS.DRAFT, "verify"): _BS.HR_VERIFIED,
        (_BS.DRAFT, "return"): _BS.RETURNED,
        (_BS.HR_VERIFIED, "request_approval"): _BS.FINANCE_PENDING,
        (_BS.HR_VERIFIED, "return"): _BS.RETURNED,
        (_BS.FINANCE_PENDING, "approve"): _BS.APPROVED,
        (_BS.FINANCE_PENDING, "return"): _BS.RETURNED,
        (_BS.RETURNED, "revise"): _BS.DRAFT,
        (_BS.APPROVED, "submit"): _BS.SUBMITTED,
        (_BS.APPROVED, "fail"): _BS.FAILED,
        (_BS.SUBMITTED, "fail"): _BS.FAILED,
        (_BS.FAILED, "retry"): _BS.APPROVED,
        (_BS.SUBMITTED, "pay"): _BS.PAID,
    },
    finals=frozenset({_BS.PAID}),
)

UNAPPROVED = frozenset({_BS.DRAFT, _BS.RETURNED, _BS.HR_VERIFIED, _BS.FINANCE_PENDING})
"""States in which a rebuilt roster may replace the batch's lines (never once approved)."""


class FailureCause(StrEnum):
    """Where a submission or payment failed; the overdue alert names it as its cause."""

    BUREAU_SYSTEM = "bureau_system"
    BANK_FAILURE = "bank_failure"


def stuck_cause(state: BatchState, failure: str | None = None) -> DelayReason:
    """Why a batch that is not paid yet is late, read from where it is stuck."""
    if state in (_BS.DRAFT, _BS.RETURNED):
        return DelayReason.HR_VERIFICATION
    if state in (_BS.HR_VERIFIED, _BS.FINANCE_PENDING):
        return DelayReason.FINANCE_APPROVAL
    if state is _BS.FAILED and failure == FailureCause.BANK_FAILURE:
        return DelayReason.BANK_FAILURE
    return DelayReason.BUREAU_SYSTEM


@dataclass(eq=False)
class ContributionBatch:
    branch_id: int
    period: Period
    due_date: date
    created_at: datetime
    state: BatchState = BatchState.DRAFT
    version: int = 1
    headcount: int = 0
    total_base: Decimal = Decimal("0")
    total_employer: Decimal = Decimal("0")
    total_employee: Decimal = Decimal("0")
    verified_by: int | None = None
    approved_by: int | None = None
    return_reason: str | None = None
    failure_cause: str | None = None
    failure_message: str | None = None
    paid_date: date | None = None
    joiners: int = 0
    leavers: int = 0
    transfers_in: int = 0
    transfers_out: int = 0
    bureau_reference: str | None = None
    payment_reference: str | None = None
    id: int = field(init=False)

    def check(self, event: str, actor_id: int | None = None) -> BatchState:
        """The state ``event`` would lead to; raises as ``move`` would, changing nothing."""
        if event == "approve" and actor_id is not None and actor_id == self.verified_by:
            raise PermissionDenied("whoever verified a batch cannot approve it", rule="sod")
        return BATCH_LIFECYCLE.apply(self.state, event)

    def move(self, event: str, actor_id: int | None = None) -> tuple[BatchState, BatchState]:
        before = self.state
        self.state = self.check(event, actor_id)
        if event == "verify":
            self.verified_by = actor_id
        elif event == "approve":
            self.approved_by = actor_id
        elif event == "revise":
            self.verified_by = self.approved_by = None
        return before, self.state

    def idempotency_key(self, step: str) -> str:
        """One key per batch version and step: a retried filing or payment is never doubled."""
        return f"batch-{self.id}-v{self.version}-{step}"

    def set_totals(self, lines: list[BatchLine]) -> None:
        self.headcount = len(lines)
        self.total_base = sum((line.base for line in lines), Decimal("0"))
        self.total_employer = sum((line.employer_amount for line in lines), Decimal("0"))
        self.total_employee = sum((line.employee_amount for line in lines), Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.total_employer + self.total_employee


@dataclass(eq=False)
class BatchLine:
    batch_id: int
    employee_id: int
    contribution_id: int
    base: Decimal
    employer_amount: Decimal
    employee_amount: Decimal
    change: str | None = None
    """``joiner`` (增员) or ``transfer_in`` (转入) in the person's first month on this roster."""
    id: int = field(init=False)
