"""The analytics reports for the CLI (``hrbot report …``) and the dashboard, scoped by branch.

Each report reads one unit of work, a few aggregate queries (core/persistence/reports.py), and
returns a frozen result from core/domain/reports.py, where the definitions are written down.
The window is two months ``first`` ≤ ``last``, both included; ``branch_ids`` None means every
branch (the dashboard passes the viewer's scope). Timestamps (claims, alerts) fall in a month by
their local date in ``HRBOT_TIMEZONE``; a contribution by its ``period``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING

from core.domain.claims import ClaimState
from core.domain.errors import InvalidValue, NotFound
from core.domain.periods import Period
from core.domain.reports import (
    NO_DEPARTMENT,
    REASONS,
    TOTAL_CODE,
    TOTAL_NAME,
    AckStats,
    BranchDelays,
    CostReport,
    DelayReport,
    DepartmentCost,
    DurationReport,
    DurationStats,
    EscalationReport,
    NewHireMonth,
    OpenAlerts,
    OverdueMonth,
    growth,
    main_reason,
    map_reason,
    months_between,
    shares,
)
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.reports import BranchRef, DelayGroup, DepartmentRow, MonthCost

Scope = Collection[int] | None
WINDOW_MONTHS = 12
NEVER_PAID = frozenset({ClaimState.REJECTED, ClaimState.WITHDRAWN})
"""Claims that will not be paid are not counted as waiting for their payout."""
_DAY, _HOUR, _MICROSECOND = timedelta(days=1), timedelta(hours=1), timedelta(microseconds=1)


def default_window(ctx: Context) -> tuple[Period, Period]:
    """The twelve months ending with the current one (in ``HRBOT_TIMEZONE``)."""
    last = Period.of(ctx.today())
    return last.shift(1 - WINDOW_MONTHS), last


def branch_ids_for_codes(ctx: Context, codes: Iterable[str]) -> set[int]:
    with ctx.uow() as uow:
        found = set()
        for code in codes:
            branch = uow.directory.branch_by_code(code)
            if branch is None:
                raise NotFound(f"no branch with code {code!r}", kind="branch", code=code)
            found.add(branch.id)
        return found


def delays(ctx: Context, first: Period, last: Period, branch_ids: Scope) -> DelayReport:
    _check(first, last)
    today = ctx.today()
    with ctx.uow() as uow:
        branches = uow.reports.branches(branch_ids)
        groups = uow.reports.delay_groups(first, last, today, branch_ids)
        on_record = uow.reports.months_on_record(months_between(first, last), branch_ids)
    months: dict[int, dict[Period, _Month]] = defaultdict(dict)
    for branch_id, period in on_record:
        months[branch_id][period] = _Month()
    for group in groups:
        months[group.branch_id].setdefault(group.period, _Month()).add(group)
    rows = tuple(_branch_delays(b.code, b.name, months[b.id]) for b in branches)
    return DelayReport(first, last, today, rows, _group_delays(rows))


@dataclass
class _Month:
    late: int = 0
    days: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, group: DelayGroup) -> None:
        if not group.late or group.latest_end is None:
            return
        self.late += group.late
        self.days = max(self.days, (group.latest_end - group.due_date).days)
        self.reasons[map_reason(group.delay_reason)] += group.late


def _branch_delays(code: str, name: str, months: dict[Period, _Month]) -> BranchDelays:
    overdue = tuple(
        OverdueMonth(period, m.late, m.days, main_reason(m.reasons))
        for period, m in sorted(months.items())
        if m.late
    )
    counts = Counter(m.reason for m in overdue)
    return _with_shares(code, name, len(months), overdue, counts)


def _group_delays(branches: Sequence[BranchDelays]) -> BranchDelays:
    counts = Counter({r: sum(b.reasons[r] for b in branches) for r in REASONS})
    months = sum(b.months for b in branches)
    late = sum(b.overdue_months for b in branches)
    return _with_shares(TOTAL_CODE, TOTAL_NAME, months, (), counts, late)


def _with_shares(
    code: str,
    name: str,
    months: int,
    overdue: tuple[OverdueMonth, ...],
    counts: Counter[str],
    late: int | None = None,
) -> BranchDelays:
    reasons = {r: counts[r] for r in REASONS}
    late = len(overdue) if late is None else late
    return BranchDelays(code, name, months, late, overdue, reasons, shares(reasons))


def durations(ctx: Context, first: Period, last: Period, branch_ids: Scope) -> DurationReport:
    start, end = _bounds(ctx, first, last)
    with ctx.uow() as uow:
        timings = uow.reports.claim_timings(start, end, branch_ids)
    days: dict[str, list[Decimal]] = {"normal": [], "delayed": []}
    unpaid: Counter[str] = Counter()
    for claim in timings:
        group = "delayed" if claim.held else "normal"
        if claim.paid_at is not None:
            days[group].append(_in(claim.paid_at - claim.submitted_at, _DAY))
        elif claim.state not in NEVER_PAID:
            unpaid[group] += 1
    stats = tuple(DurationStats.of(g, days[g], unpaid[g]) for g in ("normal", "delayed"))
    return DurationReport(first, last, stats)


def costs(ctx: Context, first: Period, last: Period, branch_ids: Scope) -> CostReport:
    _check(first, last)
    months = months_between(first.shift(-1), last)  # the month before: growth for the first one
    with ctx.uow() as uow:
        codes = {b.id: b.code for b in uow.reports.branches(branch_ids)}
        rows = uow.reports.department_costs(first, last, branch_ids)
        hired = uow.reports.new_hire_costs(months, branch_ids)
    return CostReport(
        first,
        last,
        _departments(rows, codes),
        sum(r.headcount for r in rows),
        sum((r.employer for r in rows), Decimal("0.00")),
        sum((r.employee for r in rows), Decimal("0.00")),
        _new_hires(months, hired),
    )


def _departments(rows: list[DepartmentRow], codes: dict[int, str]) -> tuple[DepartmentCost, ...]:
    """By branch code, then department name, those without a department last."""
    rows = sorted(
        rows, key=lambda r: (codes[r.branch_id], r.department is None, r.department or "")
    )
    share = shares({i: r.employer for i, r in enumerate(rows)})
    return tuple(
        DepartmentCost(
            codes[r.branch_id],
            r.department or NO_DEPARTMENT,
            r.headcount,
            r.employer,
            r.employee,
            share[i],
        )
        for i, r in enumerate(rows)
    )


def _new_hires(months: list[Period], found: list[MonthCost]) -> tuple[NewHireMonth, ...]:
    """Every month after the first of ``months``, with its growth from the month before."""
    hired = {m.period: m for m in found}
    cost = {m: hired[m].employer if m in hired else Decimal("0.00") for m in months}
    return tuple(
        NewHireMonth(
            m, hired[m].people if m in hired else 0, cost[m], growth(cost[before], cost[m])
        )
        for before, m in pairwise(months)
    )


def escalations(ctx: Context, first: Period, last: Period, branch_ids: Scope) -> EscalationReport:
    start, end = _bounds(ctx, first, last)
    with ctx.uow() as uow:
        branches = uow.reports.branches(branch_ids)
        acks = uow.reports.ack_timings(start, end, branch_ids)
        waiting = uow.reports.open_alerts(start, end, branch_ids)
    hours: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    by_level: dict[int, list[Decimal]] = defaultdict(list)
    for ack in acks:
        taken = _in(ack.acknowledged_at - ack.opened_at, _HOUR)
        hours[ack.branch_id, ack.level].append(taken)
        by_level[ack.level].append(taken)
    rows = tuple(
        AckStats.of(b.code, b.name, level, hours[b.id, level])
        for b in branches
        for level in sorted(lvl for branch_id, lvl in hours if branch_id == b.id)
    )
    group = tuple(
        AckStats.of(TOTAL_CODE, TOTAL_NAME, level, by_level[level]) for level in sorted(by_level)
    )
    return EscalationReport(first, last, rows, group, _waiting(branches, waiting))


def _waiting(branches: Sequence[BranchRef], open_alerts: dict[int, int]) -> tuple[OpenAlerts, ...]:
    rows = [OpenAlerts(b.code, b.name, open_alerts.get(b.id, 0)) for b in branches]
    rows.append(OpenAlerts(TOTAL_CODE, TOTAL_NAME, sum(r.open for r in rows)))
    return tuple(rows)


def _check(first: Period, last: Period) -> None:
    if first > last:
        raise InvalidValue(f"the window starts ({first}) after it ends ({last})", first=str(first))


def _bounds(ctx: Context, first: Period, last: Period) -> tuple[datetime, datetime]:
    """The window as UTC instants ``[start, end)``: local midnight to local midnight."""
    _check(first, last)
    return _midnight(ctx, first.first_day()), _midnight(ctx, last.shift(1).first_day())


def _midnight(ctx: Context, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.rules.timezone).astimezone(UTC)


def _in(elapsed: timedelta, unit: timedelta) -> Decimal:
    """An elapsed time in days or hours, exactly (whole microseconds, no float rounding)."""
    return Decimal(elapsed // _MICROSECOND) / Decimal(unit // _MICROSECOND)
