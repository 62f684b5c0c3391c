"""The dashboard's reads: few statements per page, figures aggregated in the database.

Every query takes the viewer's branch scope (``None`` = every branch) and filters by it in SQL.
Contributions are never loaded wholesale: the overview counts overdue people with one grouped
query, and a branch page loads only that branch's status window (for the shared status rules).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from core.domain.batches import ContributionBatch
from core.domain.claims import Claim, ClaimState
from core.domain.contributions import ContributionRecord
from core.domain.dashboard import (
    AlertFigures,
    AlertRow,
    BatchFacts,
    BatchLineRow,
    BranchFacts,
    ClaimRow,
    DocumentRow,
    NoticeRow,
    TimelineRow,
)
from core.domain.directory import Employee
from core.domain.escalation import AlertState, StepState
from core.domain.periods import Period
from core.persistence import tables as t

Scope = Collection[int] | None
UNRESOLVED = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


def _within(column: ColumnElement[Any], scope: Scope) -> list[ColumnElement[bool]]:
    """No condition for "every branch"; else the branch column must be one of ``scope``."""
    return [] if scope is None else [column.in_(sorted(scope))]


def _employed_between(since: Period, until: Period) -> ColumnElement[bool]:
    """Employed at some time from the first day of ``since`` to the last day of ``until``
    (the months ``Employee.employed_in`` counts)."""
    e = t.employees
    return and_(
        e.c.hire_date <= until.last_day(),
        or_(e.c.leave_date.is_(None), e.c.leave_date >= since.first_day()),
    )


def _alert_row(row: Any, notified: tuple[NoticeRow, ...]) -> AlertRow:
    """An alert row, its columns labelled as the fields; the cause HR gave, else the guess."""
    fields = dict(row._mapping)
    suspected = fields.pop("suspected_cause")
    cause = fields["cause"] or suspected
    fields |= {"subject_kind": str(row.subject_kind), "state": str(row.state)}
    fields["cause"] = str(cause) if cause else None
    return AlertRow(**fields, notified=notified)


class DashboardQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    # Overview -------------------------------------------------------------------------------

    def branches(self, scope: Scope) -> list[BranchFacts]:
        b = t.branches
        query = select(b.c.id, b.c.code, b.c.name, b.c.region, b.c.city, b.c.due_day)
        query = query.where(*_within(b.c.id, scope)).order_by(b.c.code)
        return [BranchFacts(*row) for row in self.session.execute(query)]

    def latest_batches(self, period: Period, scope: Scope) -> dict[int, BatchFacts]:
        """Each branch's latest batch version for ``period``, by branch id."""
        b = t.batches
        query = select(ContributionBatch).where(
            b.c.period == period, *_within(b.c.branch_id, scope)
        )
        found: dict[int, BatchFacts] = {}
        for batch in self.session.scalars(query.order_by(b.c.version)):
            found[batch.branch_id] = BatchFacts(batch.id, batch.state, batch.due_date, batch.total)
        return found

    def headcounts(self, today: date, scope: Scope) -> dict[int, int]:
        """People employed on ``today`` (hired by then and not yet left), by branch."""
        e = t.employees
        query = (
            select(e.c.branch_id, func.count())
            .where(e.c.hire_date <= today, or_(e.c.leave_date.is_(None), e.c.leave_date >= today))
            .where(*_within(e.c.branch_id, scope))
            .group_by(e.c.branch_id)
        )
        return {int(branch): int(n) for branch, n in self.session.execute(query)}

    def affected(self, since: Period, until: Period, today: date, scope: Scope) -> dict[int, int]:
        """People with a month from ``since`` to ``until`` unpaid past its due date, by branch."""
        c, e = t.contributions, t.employees
        query = (
            select(e.c.branch_id, func.count(distinct(c.c.employee_id)))
            .join(e, e.c.id == c.c.employee_id)
            .where(c.c.paid_date.is_(None), c.c.due_date < today)
            .where(c.c.period >= since, c.c.period <= until, *_within(e.c.branch_id, scope))
            .group_by(e.c.branch_id)
        )
        return {int(branch): int(n) for branch, n in self.session.execute(query)}

    def alert_figures(self, scope: Scope) -> dict[int, AlertFigures]:
        """Unresolved alerts per branch: how many, the highest level, the next pending timer."""
        a, s = t.alerts, t.escalation_steps
        pending = and_(s.c.alert_id == a.c.id, s.c.state == StepState.PENDING)
        query = (
            select(
                a.c.branch_id,
                func.count(distinct(a.c.id)),
                func.max(a.c.level),
                func.min(s.c.due_at),
            )
            .select_from(a.outerjoin(s, pending))
            .where(a.c.state.in_(UNRESOLVED), *_within(a.c.branch_id, scope))
            .group_by(a.c.branch_id)
        )
        return {
            int(branch): AlertFigures(int(n), int(top or 0), next_at)
            for branch, n, top, next_at in self.session.execute(query)
        }

    # Branch page ----------------------------------------------------------------------------

    def people(
        self, branch_id: int, since: Period, until: Period
    ) -> list[tuple[Employee, str | None]]:
        """The branch's people employed in the window, with their department's name."""
        e, d = t.employees, t.departments
        query = (
            select(Employee, d.c.name)
            .outerjoin(d, d.c.id == e.c.department_id)
            .where(e.c.branch_id == branch_id, _employed_between(since, until))
            .order_by(e.c.employee_no)
        )
        return [(employee, department) for employee, department in self.session.execute(query)]

    def records(
        self, branch_id: int, since: Period, until: Period
    ) -> dict[int, list[ContributionRecord]]:
        """The window's contribution records of the branch's people, in one query, by person."""
        c, e = t.contributions, t.employees
        query = (
            select(ContributionRecord)
            .join(e, e.c.id == c.c.employee_id)
            .where(e.c.branch_id == branch_id, _employed_between(since, until))
            .where(c.c.period >= since, c.c.period <= until)
            .order_by(c.c.employee_id, c.c.period)
        )
        found: dict[int, list[ContributionRecord]] = {}
        for record in self.session.scalars(query):
            found.setdefault(record.employee_id, []).append(record)
        return found

    def batch_lines(self, batch_id: int) -> tuple[BatchLineRow, ...]:
        lines, e = t.batch_lines, t.employees
        query = (
            select(
                e.c.employee_no,
                e.c.name,
                lines.c.base,
                lines.c.employer_amount,
                lines.c.employee_amount,
                lines.c.change,
            )
            .join(e, e.c.id == lines.c.employee_id)
            .where(lines.c.batch_id == batch_id)
            .order_by(e.c.employee_no, lines.c.id)
        )
        return tuple(BatchLineRow(*row) for row in self.session.execute(query))

    # Alerts ---------------------------------------------------------------------------------

    def alerts(
        self, scope: Scope, states: Sequence[AlertState] | None, alert_id: int | None = None
    ) -> list[AlertRow]:
        """Alerts in ``states`` (all when None), highest level first, each with who was told."""
        a = t.alerts
        where = [*_within(a.c.branch_id, scope)]
        if states is not None:
            where.append(a.c.state.in_(list(states)))
        if alert_id is not None:
            where.append(a.c.id == alert_id)
        notified = self._notified(select(a.c.id).where(*where))
        return [
            _alert_row(row, notified.get(row.id, ()))
            for row in self.session.execute(self._alert_query().where(*where))
        ]

    def _alert_query(self) -> Select[Any]:
        a, b, s = t.alerts, t.branches, t.escalation_steps
        subject, acker = t.employees.alias("subject"), t.employees.alias("acker")
        upcoming = (
            select(s.c.alert_id, func.min(s.c.due_at).label("due_at"))
            .where(s.c.state == StepState.PENDING)
            .group_by(s.c.alert_id)
            .subquery()
        )
        return (
            select(
                a.c.id,
                a.c.branch_id,
                b.c.code.label("branch_code"),
                b.c.name.label("branch_name"),
                a.c.subject_kind,
                a.c.subject_id,
                subject.c.name.label("employee_name"),
                a.c.level,
                a.c.state,
                a.c.cause,
                a.c.suspected_cause,
                a.c.opened_at,
                a.c.acknowledged_at,
                acker.c.name.label("acknowledged_by"),
                a.c.expected_fix_date,
                upcoming.c.due_at.label("next_escalation_at"),
            )
            .join(b, b.c.id == a.c.branch_id)
            .outerjoin(subject, subject.c.id == a.c.employee_id)
            .outerjoin(acker, acker.c.id == a.c.acknowledged_by)
            .outerjoin(upcoming, upcoming.c.alert_id == a.c.id)
            .order_by(a.c.level.desc(), a.c.opened_at, a.c.id)
        )

    def _notified(self, alert_ids: Select[Any]) -> dict[int, tuple[NoticeRow, ...]]:
        """The escalation notices of the alerts ``alert_ids`` selects, oldest first.

        Each level's notice is queued with the subject ("alert", id); the card updates sent
        when an alert is acknowledged or resolved carry it too but replace an earlier notice,
        so they are left out: they tell nobody new.
        """
        o, r = t.outbox, t.employees
        query = (
            select(o.c.subject_id, r.c.name, r.c.role, o.c.channel)
            .add_columns(o.c.created_at, o.c.sent_at, o.c.state)
            .join(r, r.c.id == o.c.recipient_id)
            .where(o.c.subject_kind == "alert", o.c.subject_id.in_(alert_ids))
            .where(o.c.replaces_id.is_(None))
            .order_by(o.c.id)
        )
        found: dict[int, list[NoticeRow]] = {}
        for alert_id, name, role, channel, created, sent, state in self.session.execute(query):
            row = NoticeRow(name, str(role), str(channel), created, sent, str(state))
            found.setdefault(int(alert_id), []).append(row)
        return {alert_id: tuple(rows) for alert_id, rows in found.items()}

    # Claims ---------------------------------------------------------------------------------

    def claims(
        self,
        scope: Scope,
        state: ClaimState | None = None,
        limit: int = 200,
        claim_id: int | None = None,
    ) -> list[ClaimRow]:
        """Claims of people in scope (through the claimant's branch), newest first."""
        c, e, b = t.claims, t.employees, t.branches
        query = (
            select(Claim, e.c.employee_no, e.c.name, b.c.code)
            .join(e, e.c.id == c.c.employee_id)
            .join(b, b.c.id == e.c.branch_id)
            .where(*_within(e.c.branch_id, scope))
        )
        if state is not None:
            query = query.where(c.c.state == state)
        if claim_id is not None:
            query = query.where(c.c.id == claim_id)
        query = query.order_by(c.c.created_at.desc(), c.c.id.desc()).limit(limit)
        return [
            ClaimRow(
                claim.id,
                claim.reference,
                number,
                name,
                code,
                str(claim.claim_type),
                str(claim.state),
                claim.amount,
                claim.created_at,
                claim.submitted_at,
                claim.paid_at,
                claim.hold_reason,
            )
            for claim, number, name, code in self.session.execute(query)
        ]

    def documents(self, claim_id: int) -> tuple[DocumentRow, ...]:
        d = t.claim_documents
        query = (
            select(d.c.id, d.c.kind, d.c.filename, d.c.content_type, d.c.size, d.c.uploaded_at)
            .where(d.c.claim_id == claim_id)
            .order_by(d.c.uploaded_at, d.c.id)
        )
        return tuple(
            DocumentRow(i, str(kind), *rest) for i, kind, *rest in self.session.execute(query)
        )

    def timeline(self, subject_kind: str, subject_id: int) -> tuple[TimelineRow, ...]:
        """The audit trail of one subject, oldest first, naming people rather than numbers."""
        log, e = t.audit_log, t.employees
        query = (
            select(log.c.at, log.c.action, func.coalesce(e.c.name, log.c.actor))
            .add_columns(log.c.channel, log.c.from_state, log.c.to_state)
            .outerjoin(e, e.c.id == log.c.actor_id)
            .where(log.c.subject_kind == subject_kind, log.c.subject_id == subject_id)
            .order_by(log.c.at, log.c.id)
        )
        return tuple(TimelineRow(*row) for row in self.session.execute(query))
