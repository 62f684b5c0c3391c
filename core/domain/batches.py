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
    paid_date: date | None = None
    id: int = field(init=False)

    def move(self, event: str, actor_id: int | None = None) -> tuple[BatchState, BatchState]:
        if event == "approve" and actor_id is not None and actor_id == self.verified_by:
            raise PermissionDenied("whoever verified a batch cannot approve it", rule="sod")
        before = self.state
        self.state = BATCH_LIFECYCLE.apply(before, event)
        if event == "verify":
            self.verified_by = actor_id
        elif event == "approve":
            self.approved_by = actor_id
        return before, self.state

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
    id: int = field(init=False)
