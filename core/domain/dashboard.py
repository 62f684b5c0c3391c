"""What the HR dashboard shows, as frozen values, and the rules that only the dashboard needs.

A branch's progress for the month (done, pending, late, none) is read from its latest batch and
its due day; everything about an employee's own standing comes from the status rules in
``core.domain.contributions`` and is never restated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from core.domain.batches import BatchState
from core.domain.contributions import Status
from core.domain.periods import Period


class Progress(StrEnum):
    DONE = "done"
    """已完成: the month's batch is paid."""
    PENDING = "pending"
    """待审批: a batch is on its way and its due date has not passed."""
    LATE = "late"
    """延迟: past the due date unpaid, or the filing or payment failed."""
    NONE = "none"
    """No batch yet, and the branch's due day is still ahead."""


STATUS_SEVERITY = {Status.LAPSED: 0, Status.DELAYED: 1, Status.NORMAL: 2}
"""Order of the branch page: the people who need help first."""


@dataclass(frozen=True)
class BranchFacts:
    id: int
    code: str
    name: str
    region: str
    city: str
    due_day: int


@dataclass(frozen=True)
class BatchFacts:
    id: int
    state: BatchState
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class AlertFigures:
    open_alerts: int = 0
    top_level: int = 0
    next_escalation_at: datetime | None = None


def progress_of(batch: BatchFacts | None, due_date: date, today: date) -> Progress:
    """The month's progress from the latest batch (or none) and the date it is due by."""
    if batch is None:
        return Progress.LATE if due_date < today else Progress.NONE
    if batch.state is BatchState.PAID:
        return Progress.DONE
    if batch.state is BatchState.FAILED or batch.due_date < today:
        return Progress.LATE
    return Progress.PENDING


@dataclass(frozen=True)
class BranchRow:
    branch_id: int
    code: str
    name: str
    region: str
    city: str
    batch_id: int | None
    batch_state: str | None
    progress: str
    amount: Decimal | None
    due_date: date | None
    days_left: int | None
    headcount: int
    affected: int
    open_alerts: int
    top_level: int
    next_escalation_at: datetime | None

    def sort_key(self) -> tuple[int, int, str]:
        """Late first, then the nearest deadline, then the code."""
        days = self.days_left if self.days_left is not None else 10**6
        return (0 if self.progress == Progress.LATE else 1, days, self.code)


def branch_row(
    branch: BranchFacts,
    batch: BatchFacts | None,
    period: Period,
    today: date,
    people: tuple[int, int],
    alerts: AlertFigures,
) -> BranchRow:
    """One branch's line on the overview; ``people`` is (headcount, affected)."""
    due = batch.due_date if batch is not None else period.day(branch.due_day)
    return BranchRow(
        branch_id=branch.id,
        code=branch.code,
        name=branch.name,
        region=branch.region,
        city=branch.city,
        batch_id=batch.id if batch else None,
        batch_state=str(batch.state) if batch else None,
        progress=str(progress_of(batch, due, today)),
        amount=batch.amount if batch else None,
        due_date=due,
        days_left=(due - today).days,
        headcount=people[0],
        affected=people[1],
        open_alerts=alerts.open_alerts,
        top_level=alerts.top_level,
        next_escalation_at=alerts.next_escalation_at,
    )


@dataclass(frozen=True)
class Overview:
    today: date
    period: Period
    regions: tuple[str, ...]
    rows: tuple[BranchRow, ...]


@dataclass(frozen=True)
class EmployeeLine:
    employee_no: str
    name: str
    department: str | None
    status: str
    problem_periods: tuple[str, ...]


@dataclass(frozen=True)
class BatchLineRow:
    employee_no: str
    name: str
    base: Decimal
    employer_amount: Decimal
    employee_amount: Decimal
    change: str | None


@dataclass(frozen=True)
class BranchPage:
    branch: BranchRow
    counts: dict[str, int]
    """Employees employed in the status window, by status (normal, delayed, lapsed)."""
    employees: tuple[EmployeeLine, ...]
    total: int
    """Employees matching the status filter, across all pages."""
    page: int
    per_page: int
    lines: tuple[BatchLineRow, ...]


@dataclass(frozen=True)
class NoticeRow:
    recipient: str
    role: str
    channel: str
    created_at: datetime
    sent_at: datetime | None
    state: str


@dataclass(frozen=True)
class AlertRow:
    id: int
    branch_id: int
    branch_code: str
    branch_name: str
    subject_kind: str
    subject_id: int
    employee_name: str | None
    level: int
    state: str
    cause: str | None
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    expected_fix_date: date | None
    next_escalation_at: datetime | None
    notified: tuple[NoticeRow, ...]


@dataclass(frozen=True)
class ClaimRow:
    id: int
    reference: str
    employee_no: str
    employee_name: str
    branch_code: str
    claim_type: str
    state: str
    amount: Decimal | None
    created_at: datetime
    submitted_at: datetime | None
    paid_at: datetime | None
    hold_reason: str | None


@dataclass(frozen=True)
class DocumentRow:
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    action: str
    actor: str
    channel: str | None
    from_state: str | None
    to_state: str | None


@dataclass(frozen=True)
class ClaimDetail:
    claim: ClaimRow
    documents: tuple[DocumentRow, ...]
    timeline: tuple[TimelineRow, ...]
