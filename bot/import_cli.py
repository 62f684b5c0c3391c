"""``hrbot import employees|contributions|budgets FILE``: spreadsheets into the database.

All rows or none: any invalid row means nothing is written, the report names each row, column,
value and reason in the user's language (``HRBOT_DEFAULT_LOCALE``), and the exit code is 1. On
success it prints how many rows were created, updated and left unchanged; ``--dry-run`` checks and
reports the same way without writing. Errors: one line on stderr, exit 1 for bad data, 2 for bad
usage. The database, the import code and rich load only once a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from bot.import_report import Texts
    from core.imports.report import ImportResult

import_app = typer.Typer(
    help="Import employees, contributions or budgets from a CSV or XLSX file (all rows or none).",
    no_args_is_help=True,
)

PROGRESS_FROM = 3_000
"""Files of more rows than this show a progress bar (on a terminal)."""

FileArg = Annotated[
    Path,
    typer.Argument(
        help="CSV (UTF-8, UTF-8 with BOM or GBK) or XLSX file.",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Check and report; write nothing.")]
ReportOpt = Annotated[
    Path | None,
    typer.Option(
        "--report",
        dir_okay=False,
        help="Write the errors to this CSV; for a valid file also NAME.sample.csv and "
        "NAME.totals.csv beside it.",
    ),
]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="XLSX sheet (default: the first).")]
SampleOpt = Annotated[
    int, typer.Option("--sample", min=0, max=1000, help="Rows in the review sample.")
]
SeedOpt = Annotated[
    int | None, typer.Option("--seed", help="Seed of the sample (default: random, printed).")
]


@import_app.command("employees")
def employees(
    file: FileArg,
    dry_run: DryRun = False,
    report: ReportOpt = None,
    sheet: SheetOpt = None,
    sample: SampleOpt = 10,
    seed: SeedOpt = None,
) -> None:
    """Employees, upserted by employee_no; new branches and departments are created."""
    _import("employees", file, dry_run, report, sheet, sample, seed)


@import_app.command("contributions")
def contributions(
    file: FileArg,
    dry_run: DryRun = False,
    report: ReportOpt = None,
    sheet: SheetOpt = None,
    sample: SampleOpt = 10,
    seed: SeedOpt = None,
) -> None:
    """Contribution records, upserted by employee_no + period."""
    _import("contributions", file, dry_run, report, sheet, sample, seed)


@import_app.command("budgets")
def budgets(
    file: FileArg,
    dry_run: DryRun = False,
    report: ReportOpt = None,
    sheet: SheetOpt = None,
    sample: SampleOpt = 10,
    seed: SeedOpt = None,
) -> None:
    """Budgets (branch_code, period, amount), upserted by branch_code + period."""
    _import("budgets", file, dry_run, report, sheet, sample, seed)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


def _import(
    kind: str,
    file: Path,
    dry_run: bool,
    report: Path | None,
    sheet: str | None,
    sample: int,
    seed: int | None,
) -> None:
    from bot.bootstrap import build
    from bot.import_report import Texts, show_result, write_report

    try:
        services = build()
    except ValueError as error:  # settlement gateways configured by half
        _fail(str(error), 2)
    t = Texts(services.settings.default_locale)
    console = _console()
    try:
        result = _run(services, t, console, kind, file, dry_run, sheet, sample, seed)
    finally:
        services.close()
    show_result(console, t, file, result)
    if report is not None:
        for path in write_report(report, t, result):
            console.print(t("line.report", path=path), markup=False)
    if not result.ok:
        _fail(t("line.failed", issues=result.issue_count, rows=len(result.invalid_lines)))
    _summary(console, t, result)


def _run(
    services: Any,
    t: Texts,
    console: Console,
    kind: str,
    file: Path,
    dry_run: bool,
    sheet: str | None,
    sample: int,
    seed: int | None,
) -> ImportResult:
    from core.imports.base import ImportOptions
    from core.imports.run import run_import
    from core.imports.sources import SourceError
    from core.persistence.bulk import ImportConflict
    from core.persistence.migrate import is_up_to_date

    if not is_up_to_date(services.db.engine):
        _fail("the database is not at the latest revision: run `hrbot db upgrade` first")
    options = ImportOptions(dry_run=dry_run, sheet=sheet, sample_size=sample, seed=seed)
    bar = _ProgressBar(console, t("progress"))
    try:
        return run_import(services.ctx, kind, file, options, bar)
    except SourceError as error:
        _fail(t(f"source.{error.reason}", **error.params), 2 if error.usage else 1)
    except ImportConflict as error:
        _fail(t("import.conflict", **error.params))
    finally:
        bar.close()


def _summary(console: Console, t: Texts, result: ImportResult) -> None:
    for kind, counts in result.related.items():
        if counts.created or counts.updated:
            console.print(t("line.related", kind=t(f"kind.{kind}"), **vars(counts)))
    key = "line.dry_run" if result.dry_run else "line.written"
    console.print(t(key, kind=t(f"kind.{result.kind}"), **vars(result.counts)))


def _console() -> Console:
    from rich.console import Console

    # No highlighting: numbers in a report are data, not decoration.
    console = Console(highlight=False)
    # Piped or captured output is read by programs and log viewers, not a terminal: wide
    # enough that tables do not fold their cells, and no colour codes.
    return console if console.is_terminal else Console(width=200, no_color=True, highlight=False)


class _ProgressBar:
    """The core's progress callback as a rich bar on stderr, shown only for big files."""

    def __init__(self, console: Console, label: str) -> None:
        self._terminal = console.is_terminal
        self._label = label
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if self._progress is None:
            if not self._terminal or (total is not None and total <= PROGRESS_FROM):
                return
            from rich.console import Console
            from rich.progress import Progress

            self._progress = Progress(console=Console(stderr=True), transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self._label, total=total)
        assert self._task is not None
        self._progress.update(self._task, completed=done, total=max(total or done, done))

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
