"""The monthly roster: who is on which branch's contributions for a month, and what changed.

Rules (pure functions over the directory, so a year of rosters can be checked by property):
- a person is on a month's roster when employed at any time in the month (hire month through
  leave month), so a leaver is stopped from the month after leaving (减员);
- the branch paying a month is the one the person belongs to on the month's last day of
  employment (the month's last day, or the leave date): a transfer moves the person to the new
  branch's roster from the month it takes effect, off the old one, never on both or neither;
- a line is flagged 增员 (``joiner``) in the hire month and 转入 (``transfer_in``) in the first
  month on a new branch; the batch also counts those removed since last month: leavers (减员)
  and transfers out (转出).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NamedTuple

from core.domain.directory import Employee
from core.domain.periods import Period

CENT = Decimal("0.01")


class LineChange(StrEnum):
    JOINER = "joiner"
    TRANSFER_IN = "transfer_in"


@dataclass(frozen=True)
class Rates:
    """Contribution rates on the base: the employer's and the employee's share, all insurances."""

    employer: Decimal = Decimal("0.26")
    employee: Decimal = Decimal("0.105")
    base_min: Decimal | None = None
    base_max: Decimal | None = None
    """Lines whose base falls outside these bounds are shown to HR before verifying."""

    def amounts(self, base: Decimal) -> tuple[Decimal, Decimal]:
        return (
            (base * self.employer).quantize(CENT, ROUND_HALF_UP),
            (base * self.employee).quantize(CENT, ROUND_HALF_UP),
        )

    def outside_bounds(self, base: Decimal) -> bool:
        return (self.base_min is not None and base < self.base_min) or (
            self.base_max is not None and base > self.base_max
        )


class Placement(NamedTuple):
    """What the roster needs of a person: employment dates, base, and branch history (a tuple:
    a build reads one per person on file)."""

    employee_id: int
    hire_date: date
    leave_date: date | None
    branch_id: int
    """The current branch, used for every month when there is no history."""
    base: Decimal | None
    history: tuple[tuple[date, int], ...] = ()
    """``(start date, branch id)`` pairs, oldest first."""

    @classmethod
    def of(cls, person: Employee, history: tuple[tuple[date, int], ...] = ()) -> Placement:
        return cls(
            person.id,
            person.hire_date,
            person.leave_date,
            person.branch_id,
            person.contribution_base,
            history,
        )

    def branch_on(self, day: date) -> int:
        if not self.history:
            return self.branch_id
        index = bisect.bisect_right(self.history, (day, 2**62)) - 1
        return self.history[max(index, 0)][1]

    def branch_for(self, period: Period) -> int | None:
        """The branch paying ``period`` for this person, or None when not employed in it."""
        return self.branch_between(period.first_day(), period.last_day())

    def branch_between(self, first: date, last: date) -> int | None:
        """``branch_for`` a month given by its first and last day (computed once per build)."""
        leave = self.leave_date
        if self.hire_date > last or (leave is not None and leave < first):
            return None  # not employed at any time in the month
        if leave is not None and leave < last:
            last = leave
        return self.branch_on(last) if self.history else self.branch_id


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A contribution record as the roster compares it with a line."""

    id: int
    base: Decimal
    employer_amount: Decimal
    employee_amount: Decimal
    due_date: date
    paid: bool


class RosterLine(NamedTuple):
    """One person on one roster (a tuple: a group's roster makes 100k of them)."""

    employee_id: int
    base: Decimal
    employer_amount: Decimal
    employee_amount: Decimal
    change: LineChange | None = None


@dataclass(frozen=True)
class Roster:
    branch_id: int
    period: Period
    lines: tuple[RosterLine, ...]
    leavers: int = 0
    transfers_out: int = 0
    missing_base: tuple[int, ...] = field(default=())
    """Employees with no contribution base on record: on the roster at 0, for HR to correct."""

    def count(self, change: LineChange) -> int:
        return sum(1 for line in self.lines if line.change is change)


def build_rosters(
    period: Period, placements: Iterable[Placement], rates: Rates
) -> dict[int, Roster]:
    """Every branch's roster for ``period`` (a branch appears only when it has a line or a
    removal)."""
    previous = period.shift(-1)
    month = (period.first_day(), period.last_day())
    month_before = (previous.first_day(), previous.last_day())
    shares: dict[Decimal, tuple[Decimal, Decimal]] = {}  # many people share a base
    lines: dict[int, list[RosterLine]] = {}
    missing: dict[int, list[int]] = {}
    leavers: dict[int, int] = {}
    transfers_out: dict[int, int] = {}
    for placement in placements:
        now_at = placement.branch_between(*month)
        before_at = placement.branch_between(*month_before)
        if before_at is not None and now_at != before_at:
            counter = leavers if now_at is None else transfers_out
            counter[before_at] = counter.get(before_at, 0) + 1
        if now_at is None:
            continue
        change = None
        if before_at is None and placement.hire_date >= month[0]:
            change = LineChange.JOINER
        elif before_at is not None and before_at != now_at:
            change = LineChange.TRANSFER_IN
        base = placement.base
        if base is None:
            missing.setdefault(now_at, []).append(placement.employee_id)
            base = Decimal("0")
        if base not in shares:
            shares[base] = rates.amounts(base)
        employer, employee = shares[base]
        line = RosterLine(placement.employee_id, base, employer, employee, change)
        lines.setdefault(now_at, []).append(line)
    branches = set(lines) | set(leavers) | set(transfers_out)
    return {
        branch: Roster(
            branch,
            period,
            tuple(lines.get(branch, ())),
            leavers.get(branch, 0),
            transfers_out.get(branch, 0),
            tuple(missing.get(branch, ())),
        )
        for branch in branches
    }


def same_lines(roster: Roster, stored: Sequence[tuple[int, Decimal, Decimal, Decimal]]) -> bool:
    """Whether a stored batch already holds exactly these lines (employee, base, amounts)."""
    wanted = sorted(
        (line.employee_id, line.base, line.employer_amount, line.employee_amount)
        for line in roster.lines
    )
    return wanted == sorted(stored)
