"""Bulk reads and writes for the monthly roster, in SQLAlchemy Core.

A group's roster is 100k lines: loading people as ORM objects and adding lines one by one would
cost 20× more than a Core executemany (PERFORMANCE.md), so the roster service reads plain rows
here and writes lines and contribution records in bulk. Batches themselves (a hundred rows) stay
ORM objects, so their state changes keep the compare-and-set of the mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
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

    def add_records(self, period: Period, lines: Sequence[tuple[RosterLine, date]]) -> None:
        """Unpaid records for the lines' people, each due on its branch's due date."""
        month, stored_date = str(period), self._date_form()
        self._insert_many(
            t.contributions,
            ("employee_id", "period", "base", "employer_amount", "employee_amount", "due_date"),
            [(line.employee_id, month, *_fens(line), stored_date(due)) for line, due in lines],
        )

    def record_ids(self, period: Period) -> dict[int, int]:
        """Employee id → the id of their record for ``period``."""
        c = t.contributions
        query = select(c.c.employee_id, c.c.id).where(c.c.period == period)
        return {int(employee): int(record) for employee, record in self.session.execute(query)}

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

    def people_on(self, batch_ids: Sequence[int]) -> dict[int, set[int]]:
        """The employees on each batch's lines."""
        found: dict[int, set[int]] = {batch_id: set() for batch_id in batch_ids}
        b = t.batch_lines
        for chunk in _chunks(batch_ids):
            query = select(b.c.batch_id, b.c.employee_id).where(b.c.batch_id.in_(chunk))
            for batch_id, employee_id in self.session.execute(query):
                found[batch_id].add(employee_id)
        return found

    def replace_lines(
        self, lines: Mapping[int, Sequence[RosterLine]], record_ids: dict[int, int]
    ) -> None:
        """Each batch's lines become ``lines[batch_id]`` (one delete, one executemany)."""
        b = t.batch_lines
        for chunk in _chunks(list(lines)):
            self.session.execute(delete(b).where(b.c.batch_id.in_(chunk)))
        self._insert_many(
            b,
            (
                "batch_id",
                "employee_id",
                "contribution_id",
                "base",
                "employer_amount",
                "employee_amount",
                "change",
            ),
            [
                (
                    batch_id,
                    line.employee_id,
                    record_ids[line.employee_id],
                    *_fens(line),
                    str(line.change) if line.change else None,
                )
                for batch_id, batch_lines in lines.items()
                for line in batch_lines
            ],
        )

    def _insert_many(
        self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """One executemany straight to the driver, with values already in their stored form.

        A roster writes 200k rows; SQLAlchemy's per-row parameter processing cost five times the
        insert itself (benchmarks/bench_roster.py), so these rows skip it: amounts go in as the
        integer fen ``Money`` stores, periods as text, dates as the driver takes them.
        """
        if not rows:
            return
        connection = self.session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        names = ", ".join(columns)
        marks = ", ".join([mark] * len(columns))
        # Table and column names are this module's constants, never input: no injection here.
        statement = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608
        connection.exec_driver_sql(statement, rows)

    def _date_form(self) -> Callable[[date], date | str]:
        """How the driver takes a date column: SQLAlchemy keeps SQLite dates as ISO text."""
        if self.session.get_bind().dialect.name == "sqlite":
            return date.isoformat
        return lambda day: day


def _fens(line: RosterLine) -> tuple[int, int, int]:
    """The line's amounts as the integer fen ``Money`` stores (at most two decimals here)."""
    return (
        int(line.base.scaleb(2)),
        int(line.employer_amount.scaleb(2)),
        int(line.employee_amount.scaleb(2)),
    )


def _chunks(ids: Sequence[int], size: int = 500) -> list[list[int]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]
