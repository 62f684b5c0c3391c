"""Bulk reads and writes for ``hrbot import``: SQLAlchemy Core on the unit of work's connection.

Imports move many thousands of rows, so they bypass the ORM (22x slower, PERFORMANCE.md) and use
Core ``insert()`` / ``update()`` executemany. Going through the session's own connection keeps
every statement inside the unit of work's one transaction: the import commits all rows or none.
Rows travel as plain dicts keyed by column name; the column types (``Money``, ``PeriodType``)
convert the values on the way in and out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.exc import IntegrityError

from core.domain.errors import DomainError
from core.persistence import tables as t
from core.persistence.uow import UnitOfWork

TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        t.branches,
        t.departments,
        t.employees,
        t.contributions,
        t.budgets,
        t.assignments,
    )
}
_IN_SLICE = 500
"""Keys per ``IN (...)``: well under the 999 bound variables of older SQLite builds."""


class ImportConflict(DomainError):
    """The database refused a row the checks passed: someone wrote the same key meanwhile."""

    code = "import.conflict"


class ImportStore:
    """The tables an import reads and writes, on one connection and one transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._connection = uow.session.connection()

    def rows(self, table: str, columns: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Every row of a directory table (branches, departments, employees, budgets)."""
        source = TABLES[table]
        chosen = [source.c[name] for name in columns] if columns else list(source.c)
        result = self._connection.execute(select(*chosen).order_by(source.c.id))
        return [dict(row) for row in result.mappings()]

    def contributions_of(
        self, employee_ids: Collection[int], periods: Collection[object]
    ) -> list[dict[str, Any]]:
        """Stored contributions of these employees in these months (the keys a chunk holds)."""
        c = t.contributions.c
        found: list[dict[str, Any]] = []
        for ids in _slices(sorted(employee_ids), _IN_SLICE):
            query = select(t.contributions).where(
                c.employee_id.in_(ids), c.period.in_(list(periods))
            )
            found.extend(dict(row) for row in self._connection.execute(query).mappings())
        return found

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """``INSERT`` executemany; rows may differ in their keys (grouped so each batch agrees)."""
        for group in _by_keys(rows):
            self._execute(TABLES[table].insert(), group)

    def update(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """``UPDATE ... WHERE id = :id`` executemany: each row names its ``id`` and new values."""
        source = TABLES[table]
        statement = source.update().where(source.c.id == bindparam("row_id"))
        for group in _by_keys(rows):
            renamed = [
                {"row_id": row["id"]} | {k: v for k, v in row.items() if k != "id"} for row in group
            ]
            self._execute(statement, renamed)

    def _execute(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            self._connection.execute(statement, rows)
        except IntegrityError as error:
            detail = (str(error.orig).splitlines() or [""])[0]
            raise ImportConflict(
                f"the database refused the import: {detail}", detail=detail
            ) from None


def _by_keys(rows: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())


def _slices(items: Sequence[int], size: int) -> Iterable[list[int]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
