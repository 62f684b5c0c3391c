"""Helpers for import tests: files written on the fly, runs, and what the database holds.

Binary fixtures (XLSX) are generated here, never committed.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from core.domain.directory import Branch, Employee
from core.domain.idnumbers import make_id_number
from core.imports.base import ImportOptions
from core.imports.report import ImportResult
from core.imports.run import run_import
from core.persistence.tables import branches, budgets, contributions, departments, employees
from core.services.context import Context


@dataclass
class Org:
    branch: Branch
    zhang: Employee
    """Hired 2024-03-01, still employed, Slack ``UZHANG``."""
    li: Employee
    """Hired 2020-01-01, left 2026-06-30."""


def id_number(sequence: int, born: date = date(1990, 5, 17)) -> str:
    return make_id_number("110105", born, sequence)


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str = "Sheet1"
) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = sheet
    first.append(list(header))
    for row in rows:
        first.append(list(row))
    book.save(path)
    return path


def run(ctx: Context, kind: str, path: Path, **options: Any) -> ImportResult:
    options.setdefault("seed", 7)
    return run_import(ctx, kind, path, ImportOptions(**options))


def where(result: ImportResult) -> set[tuple[int, str, str]]:
    """The issues as (row, column, reason code): what a person needs to find and fix them."""
    return {(issue.line, issue.column, issue.code) for issue in result.issues}


def table_counts(ctx: Context) -> dict[str, int]:
    with ctx.uow() as uow:
        return {
            table.name: int(uow.session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (branches, departments, employees, contributions, budgets)
        }


def rows_of(ctx: Context, table: Any) -> list[dict[str, Any]]:
    with ctx.uow() as uow:
        result = uow.session.execute(select(table).order_by(table.c.id))
        return [dict(row) for row in result.mappings()]
