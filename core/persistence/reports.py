"""The SQL behind the analytics reports (core/services/reports.py): aggregates, computed in the
database and portable across SQLite and PostgreSQL.

Contributions (millions of rows) are only ever summed and counted in SQL, each report's in one
pass. Claims and acknowledged alerts come back one row each, because medians and percentiles have
no portable SQL; there are thousands of those, not millions. Dates are compared as dates and
differences are taken in Python on the few aggregated rows, since date arithmetic differs between
the two databases. A parameter is never repeated in a GROUP BY (PostgreSQL would see two
different expressions), so conditions live inside the aggregates instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Date, Select, and_, func, literal, or_, select, true, union_all
from sqlalchemy.orm import Session

from core.domain.escalation import AlertState, StepState
from core.domain.periods import Period
from core.persistence import tables as t
from core.persistence.types import PeriodType

_C, _E = t.contributions, t.employees
Q = TypeVar("Q", bound=Select[Any])


@dataclass(frozen=True)
class BranchRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class DelayGroup:
    """Late contributions of one branch-month sharing a due date and a delay reason."""

    branch_id: int
    period: Period
    due_date: date
    delay_reason: str | None
    late: int
    latest_end: date | None
    """Among the late rows: the latest paid date, today for unpaid ones."""


@dataclass(frozen=True)
class ClaimTiming:
    submitted_at: datetime
    paid_at: datetime | None
    state: str
    held: bool


@dataclass(frozen=True)
class DepartmentRow:
    branch_id: int
    department: str | None
    headcount: int
    employer: Decimal
    employee: Decimal


@dataclass(frozen=True)
class MonthCost:
    period: Period
    people: int
    employer: Decimal


@dataclass(frozen=True)
class AckTiming:
    branch_id: int
    opened_at: datetime
    acknowledged_at: datetime
    level: int


class ReportQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    def branches(self, branch_ids: Collection[int] | None) -> list[BranchRef]:
        query = select(t.branches.c.id, t.branches.c.code, t.branches.c.name)
        if branch_ids is not None:
            query = query.where(t.branches.c.id.in_(sorted(branch_ids)))
        rows = self.session.execute(query.order_by(t.branches.c.code))
        return [BranchRef(r.id, r.code, r.name) for r in rows]

    def delay_groups(
        self, first: Period, last: Period, today: date, branch_ids: Collection[int] | None
    ) -> list[DelayGroup]:
        """The window's late contributions, grouped down to branch-month, due date and reason.

        Only irregular rows are read: the first condition is the predicate of the partial index
        ``ix_contributions_irregular`` (repeated word for word, or SQLite would not use it), so
        the on-time millions are never touched.
        """
        paid, due = _C.c.paid_date, _C.c.due_date
        late = or_(paid > due, and_(paid.is_(None), due < today))
        ended = func.coalesce(paid, literal(today, Date))
        query = (
            select(
                _E.c.branch_id,
                _C.c.period,
                due,
                _C.c.delay_reason,
                func.count().label("late"),
                func.max(ended).label("latest_end"),
            )
            .join_from(_C, _E, _E.c.id == _C.c.employee_id)
            .where(t.IRREGULAR, late, _C.c.period.between(first, last))
            .group_by(_E.c.branch_id, _C.c.period, due, _C.c.delay_reason)
        )
        return [
            DelayGroup(
                r.branch_id,
                r.period,
                r.due_date,
                None if r.delay_reason is None else str(r.delay_reason),
                int(r.late),
                r.latest_end,
            )
            for r in self.session.execute(_scoped(query, branch_ids))
        ]

    def months_on_record(
        self, months: Sequence[Period], branch_ids: Collection[int] | None
    ) -> list[tuple[int, Period]]:
        """Each (branch, month) of ``months`` holding at least one contribution: one probe of
        the (employee, period) key per pair, instead of counting every row of the window."""
        if not months:
            return []
        wanted = union_all(*(select(literal(m, PeriodType).label("period")) for m in months))
        month = wanted.subquery("month")
        probe = (
            select(literal(1))
            .select_from(_C.join(_E, _E.c.id == _C.c.employee_id))
            .where(_E.c.branch_id == t.branches.c.id, _C.c.period == month.c.period)
            .exists()
        )
        every_pair = t.branches.join(month, true())  # a cross join, said explicitly
        query = select(t.branches.c.id, month.c.period).select_from(every_pair)
        query = query.where(probe)
        if branch_ids is not None:
            query = query.where(t.branches.c.id.in_(sorted(branch_ids)))
        return [(r.id, r.period) for r in self.session.execute(query)]

    def claim_timings(
        self, start: datetime, end: datetime, branch_ids: Collection[int] | None
    ) -> list[ClaimTiming]:
        """Claims submitted in ``[start, end)``, and whether each was ever held."""
        claims, log = t.claims, t.audit_log
        held = (
            select(log.c.id)
            .where(
                log.c.subject_kind == "claim",
                log.c.subject_id == claims.c.id,
                log.c.action == "claim.hold",
            )
            .exists()
        )
        query = (
            select(claims.c.submitted_at, claims.c.paid_at, claims.c.state, held.label("held"))
            .join_from(claims, _E, _E.c.id == claims.c.employee_id)
            .where(claims.c.submitted_at >= start, claims.c.submitted_at < end)
        )
        return [
            ClaimTiming(r.submitted_at, r.paid_at, str(r.state), bool(r.held))
            for r in self.session.execute(_scoped(query, branch_ids))
        ]

    def department_costs(
        self, first: Period, last: Period, branch_ids: Collection[int] | None
    ) -> list[DepartmentRow]:
        departments = t.departments
        query = (
            select(
                _E.c.branch_id,
                departments.c.name,
                func.count(_C.c.employee_id.distinct()).label("headcount"),
                func.sum(_C.c.employer_amount).label("employer"),
                func.sum(_C.c.employee_amount).label("employee"),
            )
            .select_from(_C)
            .join(_E, _E.c.id == _C.c.employee_id)
            .outerjoin(departments, departments.c.id == _E.c.department_id)
            .where(_C.c.period.between(first, last))
            .group_by(_E.c.branch_id, _E.c.department_id, departments.c.name)
        )
        return [
            DepartmentRow(r.branch_id, r.name, int(r.headcount), r.employer, r.employee)
            for r in self.session.execute(_scoped(query, branch_ids))
        ]

    def new_hire_costs(
        self, months: Sequence[Period], branch_ids: Collection[int] | None
    ) -> list[MonthCost]:
        """Per month of ``months``: cost of the people hired that month (their first month)."""
        if not months:
            return []
        first_months = [
            and_(_C.c.period == m, _E.c.hire_date.between(m.first_day(), m.last_day()))
            for m in months
        ]
        query = (
            select(
                _C.c.period,
                func.count().label("people"),
                func.sum(_C.c.employer_amount).label("employer"),
            )
            .join_from(_C, _E, _E.c.id == _C.c.employee_id)
            .where(_E.c.hire_date.between(months[0].first_day(), months[-1].last_day()))
            .where(or_(*first_months))
            .group_by(_C.c.period)
        )
        return [
            MonthCost(r.period, int(r.people), r.employer)
            for r in self.session.execute(_scoped(query, branch_ids))
        ]

    def ack_timings(
        self, start: datetime, end: datetime, branch_ids: Collection[int] | None
    ) -> list[AckTiming]:
        """Acknowledged alerts opened in ``[start, end)``, with the level reached by then."""
        alerts, steps = t.alerts, t.escalation_steps
        reached = (
            select(func.max(steps.c.level))
            .where(
                steps.c.alert_id == alerts.c.id,
                steps.c.state == StepState.FIRED,
                steps.c.fired_at <= alerts.c.acknowledged_at,
            )
            .scalar_subquery()
        )
        query = select(
            alerts.c.branch_id,
            alerts.c.opened_at,
            alerts.c.acknowledged_at,
            func.coalesce(reached, 1).label("level"),
        ).where(
            alerts.c.opened_at >= start,
            alerts.c.opened_at < end,
            alerts.c.acknowledged_at.is_not(None),
        )
        if branch_ids is not None:
            query = query.where(alerts.c.branch_id.in_(sorted(branch_ids)))
        return [
            AckTiming(r.branch_id, r.opened_at, r.acknowledged_at, int(r.level))
            for r in self.session.execute(query)
        ]

    def open_alerts(
        self, start: datetime, end: datetime, branch_ids: Collection[int] | None
    ) -> dict[int, int]:
        """Alerts opened in ``[start, end)`` and still open, per branch id."""
        alerts = t.alerts
        query = (
            select(alerts.c.branch_id, func.count().label("open"))
            .where(alerts.c.opened_at >= start, alerts.c.opened_at < end)
            .where(alerts.c.state == AlertState.OPEN)
            .group_by(alerts.c.branch_id)
        )
        if branch_ids is not None:
            query = query.where(alerts.c.branch_id.in_(sorted(branch_ids)))
        return {r.branch_id: int(r.open) for r in self.session.execute(query)}


def _scoped(query: Q, branch_ids: Collection[int] | None) -> Q:
    """Only the employees of ``branch_ids`` (their current branch); every branch for None."""
    return query if branch_ids is None else query.where(_E.c.branch_id.in_(sorted(branch_ids)))
