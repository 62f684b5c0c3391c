"""Bulk reads and writes for the monthly roster, in SQLAlchemy Core.

A group's roster is 100k lines: loading people as ORM objects and adding lines one by one would
cost 20× more than a Core executemany (PERFORMANCE.md), so the roster service reads plain rows
here and writes lines and contribution records in bulk. Batches themselves (a hundred rows) stay
ORM objects, so their state changes keep the compare-and-set of the mapping.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from core.domain.periods import Period
from core.domain.roster import Placement, RosterLine, StoredRecord
from core.persistence import tables as t

LineKey = tuple[int, Decimal, Decimal, Decimal]
"""A stored line as the roster compares it: employee, base, employer and employee amounts."""


class RosterStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def placements(self, period: Period) -> list[Placement]:
        """Everyone employed in ``period`` or the month before, with their branch history."""
        e = t.employees
        first_needed = period.shift(-1).first_day()
        rows = self.session.execute(
            select(e.c.id, e.c.hire_date, e.c.leave_date, e.c.branch_id, e.c.contribution_base)
            .where(e.c.hire_date <= period.last_day())
            .where(e.c.leave_date.is_(None) | (e.c.leave_date >= first_needed))
        ).all()
        history: dict[int, list[tuple[date, int]]] = {}
        a = t.assignments
        for employee_id, start, branch_id in self.session.execute(
            select(a.c.employee_id, a.c.start_date, a.c.branch_id).order_by(
                a.c.employee_id, a.c.start_date
            )
        ):
            history.setdefault(employee_id, []).append((start, branch_id))
        return [
            Placement(row[0], row[1], row[2], row[3], row[4], tuple(history.get(row[0], ())))
            for row in rows
        ]

    def records(self, period: Period) -> dict[int, StoredRecord]:
        """The period's contribution records by employee id."""
        c = t.contributions
        query = select(
            c.c.employee_id,
            c.c.id,
            c.c.base,
            c.c.employer_amount,
            c.c.employee_amount,
            c.c.due_date,
            c.c.paid_date,
        ).where(c.c.period == period)
        return {
            row[0]: StoredRecord(row[1], row[2], row[3], row[4], row[5], row[6] is not None)
            for row in self.session.execute(query)
        }

    def add_records(
        self, period: Period, due_date: date, lines: Sequence[RosterLine]
    ) -> dict[int, int]:
        """Unpaid records for the lines' people; returns their new ids by employee id."""
        if not lines:
            return {}
        c = t.contributions
        statement = insert(c).returning(c.c.id, c.c.employee_id, sort_by_parameter_order=True)
        rows = self.session.execute(
            statement,
            [
                {
                    "employee_id": line.employee_id,
                    "period": period,
                    "base": line.base,
                    "employer_amount": line.employer_amount,
                    "employee_amount": line.employee_amount,
                    "due_date": due_date,
                }
                for line in lines
            ],
        )
        return {int(employee_id): int(record_id) for record_id, employee_id in rows}

    def update_records(self, changes: Sequence[tuple[int, RosterLine, date]]) -> None:
        """New amounts (and due date) for unpaid records whose base changed."""
        if not changes:
            return
        c = t.contributions
        statement = (
            update(c)
            .where(c.c.id == bindparam("record_id"))
            .values(
                base=bindparam("new_base"),
                employer_amount=bindparam("new_employer"),
                employee_amount=bindparam("new_employee"),
                due_date=bindparam("new_due"),
            )
        )
        self.session.connection().execute(
            statement,
            [
                {
                    "record_id": record_id,
                    "new_base": line.base,
                    "new_employer": line.employer_amount,
                    "new_employee": line.employee_amount,
                    "new_due": due,
                }
                for record_id, line, due in changes
            ],
        )

    def delete_unpaid_records(self, record_ids: Iterable[int]) -> None:
        ids = list(record_ids)
        if ids:
            c = t.contributions
            self.session.execute(delete(c).where(c.c.id.in_(ids), c.c.paid_date.is_(None)))

    def line_keys(self, batch_ids: Iterable[int]) -> dict[int, list[LineKey]]:
        """Stored lines per batch, as the roster compares them."""
        ids = list(batch_ids)
        found: dict[int, list[LineKey]] = {batch_id: [] for batch_id in ids}
        if not ids:
            return found
        b = t.batch_lines
        query = select(
            b.c.batch_id, b.c.employee_id, b.c.base, b.c.employer_amount, b.c.employee_amount
        ).where(b.c.batch_id.in_(ids))
        for batch_id, *key in self.session.execute(query):
            found[batch_id].append((key[0], key[1], key[2], key[3]))
        return found

    def holders(self, period: Period) -> dict[int, int]:
        """Employee id → the batch of ``period`` whose lines hold them (latest versions)."""
        b, lines = t.batches, t.batch_lines
        query = (
            select(lines.c.employee_id, lines.c.batch_id)
            .join(b, b.c.id == lines.c.batch_id)
            .where(b.c.period == period)
        )
        return {int(employee): int(batch) for employee, batch in self.session.execute(query)}

    def replace_lines(
        self, batch_id: int, lines: Sequence[RosterLine], record_ids: dict[int, int]
    ) -> None:
        b = t.batch_lines
        self.session.execute(delete(b).where(b.c.batch_id == batch_id))
        if not lines:
            return
        self.session.execute(
            insert(b),
            [
                {
                    "batch_id": batch_id,
                    "employee_id": line.employee_id,
                    "contribution_id": record_ids[line.employee_id],
                    "base": line.base,
                    "employer_amount": line.employer_amount,
                    "employee_amount": line.employee_amount,
                    "change": str(line.change) if line.change else None,
                }
                for line in lines
            ],
        )
