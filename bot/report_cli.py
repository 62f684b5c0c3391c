"""``hrbot report delays|durations|costs|escalations``: the analytics reports for HR and finance.

Each command prints its report's tables (defined in core/domain/reports.py) as aligned text
(``--format table``, the default), as CSV (each table with its header row, tables separated by a
blank line, UTF-8) or as JSON. ``--from``/``--to`` name the first and last month, both included;
by default the twelve months ending with the current month in ``HRBOT_TIMEZONE``. ``--branch``
(repeatable) limits the report to those branches.

Errors: one line on stderr; exit 2 for a bad month or a window that ends before it starts, 1 for
an unknown branch. The core and the database load only once a command runs, so ``--help`` is fast.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Protocol

import typer

if TYPE_CHECKING:
    from core.domain.periods import Period
    from core.domain.reports import ReportTable

report_app = typer.Typer(
    help="Analytics reports: contribution delays, claim payout times, costs, alert handling.",
    no_args_is_help=True,
)


class _Report(Protocol):
    def tables(self) -> list[ReportTable]: ...
    def to_json(self) -> dict[str, Any]: ...


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FormatOpt = Annotated[Format, typer.Option("--format", help="How to print the report.")]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from", metavar="YYYY-MM", help="First month, YYYY-MM (default: 11 months before --to)."
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option(
        "--to",
        metavar="YYYY-MM",
        help="Last month, YYYY-MM (default: this month in HRBOT_TIMEZONE).",
    ),
]
BranchOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--branch", metavar="CODE", help="Branch code; repeat for several (default: every branch)."
    ),
]


@report_app.command("delays")
def delays_command(
    fmt: FormatOpt = Format.TABLE,
    start: FromOpt = None,
    end: ToOpt = None,
    branch: BranchOpt = None,
) -> None:
    """Overdue contribution months per branch, how late, and why."""
    _run("delays", fmt, start, end, branch)


@report_app.command("durations")
def durations_command(
    fmt: FormatOpt = Format.TABLE,
    start: FromOpt = None,
    end: ToOpt = None,
    branch: BranchOpt = None,
) -> None:
    """Days from claim submission to payout, for claims held for late payments and the rest."""
    _run("durations", fmt, start, end, branch)


@report_app.command("costs")
def costs_command(
    fmt: FormatOpt = Format.TABLE,
    start: FromOpt = None,
    end: ToOpt = None,
    branch: BranchOpt = None,
) -> None:
    """Employer cost per department, and the cost of new hires month by month."""
    _run("costs", fmt, start, end, branch)


@report_app.command("escalations")
def escalations_command(
    fmt: FormatOpt = Format.TABLE,
    start: FromOpt = None,
    end: ToOpt = None,
    branch: BranchOpt = None,
) -> None:
    """Hours until alerts were acknowledged, per branch and escalation level."""
    _run("escalations", fmt, start, end, branch)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


def _month(text: str | None, option: str) -> Period | None:
    from core.domain.errors import InvalidValue
    from core.domain.periods import Period

    if text is None:
        return None
    try:
        return Period.parse(text)
    except InvalidValue:
        _fail(f"{option} must be a month like 2026-11, got {text!r}", code=2)


def _run(
    name: str, fmt: Format, start: str | None, end: str | None, codes: list[str] | None
) -> None:
    first, last = _month(start, "--from"), _month(end, "--to")
    if first is not None and last is not None and first > last:
        _fail(f"--from {first} is after --to {last}", code=2)
    from bot.bootstrap import build
    from core.services import audit_trail

    try:
        services = build()
    except ValueError as error:  # settlement gateways configured by half
        _fail(str(error), code=2)
    try:
        result, window = _report(services.ctx, name, first, last, codes)
        # Who took which figures out, as the dashboard's CSV export is recorded.
        detail = {"report": name, "window": window, "format": fmt.value, "branches": codes or []}
        audit_trail.record_operator_action(
            services.ctx, _operator(), "report.export", ("report", 0), **detail
        )
    finally:
        services.close()
    if fmt is Format.JSON:
        _write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    elif fmt is Format.CSV:
        _write(as_csv(result.tables()))
    else:
        typer.echo(as_text(result.tables(), window), nl=False)


def _report(
    ctx: Any, name: str, first: Period | None, last: Period | None, codes: list[str] | None
) -> tuple[_Report, str]:
    """The report over the window (defaults filled in) and the window as text."""
    from core.domain.errors import NotFound
    from core.services import reports

    last = last or reports.default_window(ctx)[1]
    first = first or last.shift(1 - reports.WINDOW_MONTHS)
    if first > last:
        _fail(f"--from {first} is after --to {last}", code=2)
    try:
        scope = reports.branch_ids_for_codes(ctx, codes) if codes else None
    except NotFound as error:
        _fail(str(error))
    by_name: dict[str, Callable[..., _Report]] = {
        "delays": reports.delays,
        "durations": reports.durations,
        "costs": reports.costs,
        "escalations": reports.escalations,
    }
    return by_name[name](ctx, first, last, scope), f"{first} … {last}"


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return f"uid {os.getuid()}"


def _write(text: str) -> None:
    """UTF-8 whatever the terminal's locale: the output is meant for files and other programs."""
    out = typer.get_binary_stream("stdout")
    out.write(text.encode("utf-8"))
    out.flush()


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def as_csv(tables: Sequence[ReportTable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for index, table in enumerate(tables):
        if index:
            buffer.write("\n")
        writer.writerow(table.columns)
        writer.writerows([_cell(v) for v in row] for row in table.rows)
    return buffer.getvalue()


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def as_text(tables: Sequence[ReportTable], window: str) -> str:
    """Each table under its title, columns aligned, numbers to the right; ``-`` for no value."""
    blocks = []
    for table in tables:
        cells = [[_cell(v) or "-" for v in row] for row in table.rows]
        widths = [
            max([_width(c), *(_width(row[i]) for row in cells)])
            for i, c in enumerate(table.columns)
        ]
        right = [_numeric(table.rows, i) for i in range(len(table.columns))]
        lines = [f"{table.title} · {window}"]
        for row in [list(table.columns), ["-" * w for w in widths], *cells]:
            lines.append(
                "  ".join(
                    _pad(c, w, r) for c, w, r in zip(row, widths, right, strict=True)
                ).rstrip()
            )
        if not cells:
            lines.append("(none)")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _numeric(rows: Sequence[Sequence[Any]], column: int) -> bool:
    values = [row[column] for row in rows if row[column] is not None]
    return bool(values) and all(isinstance(v, int | Decimal) for v in values)
