"""The import use case: one file, one kind, one transaction; all rows written or none.

``run_import`` reads the whole file even after the first issue, so the report names every
problem at once; but nothing is committed unless the file is clean and this is not a dry run.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from core.imports.base import Importer, ImportOptions
from core.imports.budgets import BudgetImport
from core.imports.contributions import ContributionImport
from core.imports.employees import EmployeeImport
from core.imports.report import ImportResult
from core.imports.sources import Source, open_source
from core.persistence.bulk import ImportStore
from core.services.context import Context

IMPORTERS: dict[str, type[Importer]] = {
    "employees": EmployeeImport,
    "contributions": ContributionImport,
    "budgets": BudgetImport,
}
PROGRESS_EVERY = 1_000
"""Rows between two progress reports: often enough for a smooth bar, rare enough to cost nothing."""

Progress = Callable[[int, int | None], None]
"""Called with the rows read so far and the rows the file seems to hold (None if unknown)."""


def run_import(
    ctx: Context,
    kind: str,
    path: Path,
    options: ImportOptions | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    options = options or ImportOptions()
    # A seed is always recorded, so a reviewer can ask for the very same sample again.
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(1_000_000)
    result = ImportResult(kind=kind, dry_run=options.dry_run, seed=seed)
    with open_source(path, options.sheet) as source, ctx.uow() as uow:
        result.source = describe(source)
        importer = IMPORTERS[kind](ImportStore(uow), ctx.today(), options, result)
        importer.bind(source.header)
        count = 0
        for line, cells in source.rows:
            importer.feed(line, cells)
            count += 1
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count, source.estimated_rows)
        importer.finish()
        importer.close()
        if progress is not None:
            progress(count, count)
        if result.ok and not options.dry_run:
            uow.commit()
            result.written = True
    return result


def describe(source: Source) -> str:
    if source.format == "xlsx":
        return f"xlsx {source.sheet}"
    return f"csv {source.encoding}"
