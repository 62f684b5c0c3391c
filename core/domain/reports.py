"""The analytics reports as plain data: the statistics they share and the results they return.

Four reports, each over a window of months ``[first, last]`` (both inclusive):

- **delays**: the unit is the branch-month (one branch's contributions for one period, the branch
  being the employee's current one). It is *overdue* when one of its contributions was paid after
  its due date or is unpaid once its due date has ended. Its *reason* is the most frequent
  ``delay_reason`` among its late rows, mapped by :func:`map_reason`; ties go to the reason first
  in :data:`REASONS`. Days late = the largest (paid date, or today) − due date among its rows.
- **durations**: claims submitted in the window (local months) and paid: days from submission to
  payout, split into *delayed* (held once because contributions were unpaid) and *normal*.
- **costs**: employer cost (and the employee's part) per department, with its share of the
  window's employer total; and per month the employer cost of people hired that month.
- **escalations**: hours from an alert opening to its acknowledgement, per branch and per the
  escalation level reached when it was acknowledged; and the alerts still unacknowledged.

Statistics: the median of an even count is the mean of the two middle values; p90 is the
nearest rank, the value at position ⌈0.9·n⌉ of the sorted list (1-based). Shares are percentages
with one decimal (half up), so they sum to 100 give or take the rounding.

Every result renders as neutral :class:`ReportTable` s (for the CLI's table and CSV and the
dashboard's HTML) and as JSON-safe data (``to_json``: Decimal → str, dates → ISO).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar, TypeVar

from core.domain.periods import Period

K = TypeVar("K")
Cell = str | int | Decimal | None
Row = tuple[Cell, ...]
TOTAL_CODE = "TOTAL"
TOTAL_NAME = "全集团"
NO_DEPARTMENT = "(无部门)"
TENTH = Decimal("0.1")

REASONS = ("finance_approval", "hr_verification", "bureau", "bank", "other")
"""Report reasons, in the order that breaks ties."""
_REASON_OF = {
    "finance_approval": "finance_approval",
    "hr_verification": "hr_verification",
    "bureau_system": "bureau",
    "bank_failure": "bank",
}


def map_reason(delay_reason: str | None) -> str:
    """A stored ``delay_reason`` as a report reason (data_error, other and none → ``other``)."""
    return _REASON_OF.get(delay_reason or "", "other")


def main_reason(counts: Mapping[str, int]) -> str:
    """The most frequent report reason; a tie goes to the one listed first in ``REASONS``."""
    return max(REASONS, key=lambda reason: (counts.get(reason, 0), -REASONS.index(reason)))


def median(values: Iterable[Decimal | int]) -> Decimal | None:
    ordered = sorted(Decimal(v) for v in values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def p90(values: Iterable[Decimal | int]) -> Decimal | None:
    """Nearest rank: the value at position ⌈0.9·n⌉ of the sorted list, counting from 1."""
    ordered = sorted(Decimal(v) for v in values)
    if not ordered:
        return None
    rank = (9 * len(ordered) + 9) // 10  # ⌈9n/10⌉ in integers: no float rounding at n = 10, 20…
    return ordered[rank - 1]


def one_decimal(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(TENTH, rounding=ROUND_HALF_UP)


def shares(counts: Mapping[K, Decimal | int]) -> dict[K, Decimal | None]:
    """Each value as a percentage of their sum, one decimal; None for all when the sum is 0."""
    total = sum((Decimal(v) for v in counts.values()), Decimal(0))
    return {k: one_decimal(Decimal(v) * 100 / total) if total else None for k, v in counts.items()}


def growth(previous: Decimal, current: Decimal) -> Decimal | None:
    """Change in % from ``previous`` to ``current``; None when there was nothing before."""
    return one_decimal((current - previous) * 100 / previous) if previous else None


def months_between(first: Period, last: Period) -> list[Period]:
    """Every month from ``first`` to ``last``, both included."""
    span = (last.year - first.year) * 12 + last.month - first.month
    return [first.shift(i) for i in range(span + 1)]


def jsonable(value: Any) -> Any:
    """Dataclasses, tuples and dicts as JSON-safe data: Decimal → str, dates and periods → text."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal | Period):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


class _Report:
    """What every report result offers: tables to render and JSON-safe data."""

    name: ClassVar[str]

    def tables(self) -> list[ReportTable]:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {"report": self.name, **jsonable(self)}


@dataclass(frozen=True)
class ReportTable:
    """A titled table of plain cells, rendered alike as terminal text, CSV and HTML."""

    title: str
    columns: tuple[str, ...]
    rows: list[Row]


# Delays ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueMonth:
    period: Period
    late_people: int
    days_late: int
    reason: str


@dataclass(frozen=True)
class BranchDelays:
    branch_code: str
    branch_name: str
    months: int
    """Branch-months in the window (periods with at least one contribution)."""
    overdue_months: int
    overdue: tuple[OverdueMonth, ...]
    """The overdue months themselves (listed per branch; empty for the group's row)."""
    reasons: dict[str, int]
    """Overdue branch-months per report reason (every reason present, maybe 0)."""
    shares: dict[str, Decimal | None]

    def row(self) -> Row:
        return (
            self.branch_code,
            self.branch_name,
            self.months,
            self.overdue_months,
            *(self.reasons[r] for r in REASONS),
            *(self.shares[r] for r in REASONS),
        )


@dataclass(frozen=True)
class DelayReport(_Report):
    name: ClassVar[str] = "delays"
    first: Period
    last: Period
    today: date
    branches: tuple[BranchDelays, ...]
    group: BranchDelays

    def tables(self) -> list[ReportTable]:
        overdue: list[Row] = [
            (b.branch_code, b.branch_name, str(m.period), m.late_people, m.days_late, m.reason)
            for b in self.branches
            for m in b.overdue
        ]
        columns = ("branch_code", "branch_name", "period", "late_people", "days_late", "reason")
        reasons = (
            "branch_code",
            "branch_name",
            "branch_months",
            "overdue_months",
            *REASONS,
            *(f"{r}_pct" for r in REASONS),
        )
        rows = [b.row() for b in self.branches] + [self.group.row()]
        return [
            ReportTable("overdue batches per branch per month", columns, overdue),
            ReportTable("delay reasons per branch", reasons, rows),
        ]

    def late_people_chart(self) -> tuple[list[str], list[tuple[str, list[float]]]]:
        """Chart data: per month (categories), one series per branch of its late people."""
        months = months_between(self.first, self.last)
        series = []
        for b in self.branches:
            late = {m.period: m.late_people for m in b.overdue}
            series.append((b.branch_code, [float(late.get(p, 0)) for p in months]))
        return [str(p) for p in months], series

    def overdue_chart(self) -> tuple[list[str], list[tuple[str, list[float]]]]:
        """Chart data: per branch, how many of its months were overdue."""
        codes = [b.branch_code for b in self.branches]
        return codes, [("overdue_months", [float(b.overdue_months) for b in self.branches])]

    def reason_chart(self) -> tuple[list[str], list[tuple[str, list[float]]]]:
        """Chart data: per branch with overdue months, its count per reason (for 100% bars)."""
        late = [b for b in self.branches if b.overdue]
        series = [(r, [float(b.reasons[r]) for b in late]) for r in REASONS]
        return [b.branch_code for b in late], series


# Durations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DurationStats:
    group: str
    """``normal``, or ``delayed`` when the claim was once held for unpaid contributions."""
    paid: int
    median_days: Decimal | None
    p90_days: Decimal | None
    min_days: Decimal | None
    max_days: Decimal | None
    unpaid: int
    """Claims submitted in the window and still waiting for their payout."""

    @classmethod
    def of(cls, group: str, days: Sequence[Decimal], unpaid: int) -> DurationStats:
        return cls(
            group,
            len(days),
            one_decimal(median(days)),
            one_decimal(p90(days)),
            one_decimal(min(days, default=None)),
            one_decimal(max(days, default=None)),
            unpaid,
        )


@dataclass(frozen=True)
class DurationReport(_Report):
    name: ClassVar[str] = "durations"
    first: Period
    last: Period
    groups: tuple[DurationStats, ...]

    def tables(self) -> list[ReportTable]:
        columns = ("group", "paid_claims", "median_days", "p90_days", "min_days", "max_days")
        rows: list[Row] = [
            (g.group, g.paid, g.median_days, g.p90_days, g.min_days, g.max_days, g.unpaid)
            for g in self.groups
        ]
        return [ReportTable("claim payout time in days", (*columns, "unpaid_claims"), rows)]


# Costs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentCost:
    branch_code: str
    department: str
    headcount: int
    employer: Decimal
    employee: Decimal
    share: Decimal | None
    """Percent of the window's employer total."""


@dataclass(frozen=True)
class NewHireMonth:
    period: Period
    hires: int
    employer: Decimal
    growth: Decimal | None
    """Percent change of ``employer`` from the month before; None when that was 0."""


@dataclass(frozen=True)
class CostReport(_Report):
    name: ClassVar[str] = "costs"
    first: Period
    last: Period
    departments: tuple[DepartmentCost, ...]
    headcount: int
    employer: Decimal
    employee: Decimal
    new_hires: tuple[NewHireMonth, ...]

    def tables(self) -> list[ReportTable]:
        columns = ("branch_code", "department", "headcount", "employer_cost", "employee_amount")
        rows: list[Row] = [
            (d.branch_code, d.department, d.headcount, d.employer, d.employee, d.share)
            for d in self.departments
        ]
        share = Decimal("100.0") if self.employer else None
        rows.append((TOTAL_CODE, TOTAL_NAME, self.headcount, self.employer, self.employee, share))
        hires = [(str(m.period), m.hires, m.employer, m.growth) for m in self.new_hires]
        return [
            ReportTable("employer cost per department", (*columns, "share_pct"), rows),
            ReportTable(
                "new-hire cost per month",
                ("period", "new_hires", "employer_cost", "growth_pct"),
                list(hires),
            ),
        ]


# Escalations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AckStats:
    branch_code: str
    branch_name: str
    level: int
    """The highest level that had fired when the alert was acknowledged (1 if none)."""
    count: int
    median_hours: Decimal | None
    p90_hours: Decimal | None

    @classmethod
    def of(cls, code: str, name: str, level: int, hours: Sequence[Decimal]) -> AckStats:
        return cls(
            code, name, level, len(hours), one_decimal(median(hours)), one_decimal(p90(hours))
        )


@dataclass(frozen=True)
class OpenAlerts:
    branch_code: str
    branch_name: str
    open: int


@dataclass(frozen=True)
class EscalationReport(_Report):
    name: ClassVar[str] = "escalations"
    first: Period
    last: Period
    branches: tuple[AckStats, ...]
    group: tuple[AckStats, ...]
    unacknowledged: tuple[OpenAlerts, ...]

    def tables(self) -> list[ReportTable]:
        columns = ("branch_code", "branch_name", "level", "acknowledged")
        rows: list[Row] = [
            (s.branch_code, s.branch_name, s.level, s.count, s.median_hours, s.p90_hours)
            for s in (*self.branches, *self.group)
        ]
        waiting = [(o.branch_code, o.branch_name, o.open) for o in self.unacknowledged]
        return [
            ReportTable(
                "time to acknowledge in hours", (*columns, "median_hours", "p90_hours"), rows
            ),
            ReportTable(
                "alerts not yet acknowledged",
                ("branch_code", "branch_name", "open_alerts"),
                list(waiting),
            ),
        ]
