"""An import's result as a person reads it: tables on the terminal and CSV files for ``--report``,
in the user's language (the catalogs ``i18n/import.zh-CN.json`` and ``i18n/import.en.json``).

The core reports stable reason codes with parameters; only here do they become sentences.
"""

from __future__ import annotations

import csv
import json
import string
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from core.imports.report import ImportResult, Issue, SampleRow

ISSUES_SHOWN = 100
"""Errors listed on the terminal; the ``--report`` file has them all."""
_WIDE = 9
"""Above this many columns a sample is listed row by row: a table would not fit a terminal."""
_I18N = Path(__file__).parent / "i18n"


class Texts:
    """``t(key, **params)`` from the import catalog of one locale (zh-CN or en)."""

    def __init__(self, locale: str) -> None:
        self.locale = "en" if locale.lower().startswith("en") else "zh-CN"
        self._catalog = _catalog(self.locale)

    def __call__(self, key: str, **params: Any) -> str:
        template = self._catalog.get(key, key)
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        return template.format_map({name: _text(params.get(name, "—")) for name in names})

    def reason(self, issue: Issue) -> str:
        return self(f"reason.{issue.code}", **issue.params)

    def field(self, name: str) -> str:
        return self._catalog.get(f"field.{name}", name)


@cache
def _catalog(locale: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_I18N / f"import.{locale}.json").read_text("utf-8"))
    return data


def _text(value: object) -> str:
    return _amount(value) if isinstance(value, Decimal) else str(value)


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


# Terminal ----------------------------------------------------------------------------------


def show_result(console: Console, t: Texts, path: Path, result: ImportResult) -> None:
    console.print(t("line.read", path=path.name, source=result.source, rows=result.rows))
    if not result.ok:
        show_issues(console, t, result)
        return
    if result.sample:
        show_sample(console, t, result)
    if result.totals:
        console.print(totals_table(t, result))


def show_issues(console: Console, t: Texts, result: ImportResult) -> None:
    shown = result.issues[:ISSUES_SHOWN]
    table = Table(title=t("title.issues", shown=len(shown), total=result.issue_count))
    for key in ("col.row", "col.column", "col.value", "col.reason"):
        table.add_column(t(key), overflow="fold")
    for issue in shown:
        table.add_row(str(issue.line), issue.column, issue.value, t.reason(issue))
    console.print(table)
    if result.issue_count > len(shown):
        console.print(t("line.more_issues", count=result.issue_count - len(shown)))


def show_sample(console: Console, t: Texts, result: ImportResult) -> None:
    title = t("title.sample", count=len(result.sample), seed=result.seed)
    names = list(result.sample[0].values)
    if len(names) > _WIDE:
        console.print(title)
        for row in result.sample:
            console.print(f"[bold]{t('col.row')} {row.line}[/] · {t(f'action.{row.action}')}")
            pairs = (f"{t.field(name)}={value}" for name, value in row.values.items())
            console.print("  " + "  ".join(pairs), markup=False)
        return
    table = Table(title=title)
    for heading in (t("col.row"), t("col.action"), *(t.field(name) for name in names)):
        table.add_column(heading, overflow="fold")
    for row in result.sample:
        table.add_row(str(row.line), t(f"action.{row.action}"), *row.values.values())
    console.print(table)


def totals_table(t: Texts, result: ImportResult) -> Table:
    monthly = any(total.period for total in result.totals)
    table = Table(title=t("title.totals" if monthly else "title.totals_by_branch"))
    table.add_column(t("col.branch"))
    if monthly:
        table.add_column(t("col.period"))
    table.add_column(t("col.rows"), justify="right")
    for measure in result.measures:
        table.add_column(t.field(measure), justify="right")
    for total in result.totals:
        sums = [_amount(total.sums[measure]) for measure in result.measures]
        month = [total.period] if monthly else []
        table.add_row(total.branch_code, *month, str(total.rows), *sums)
    return table


# --report CSV files ------------------------------------------------------------------------


def write_report(path: Path, t: Texts, result: ImportResult) -> list[Path]:
    """The errors into ``path``; for a clean file also the sample and the totals beside it
    (``<name>.sample.csv``, ``<name>.totals.csv``). Returns the files written."""
    header = [t("col.row"), t("col.column"), t("col.value"), t("col.reason"), t("col.code")]
    issues = ([i.line, i.column, i.value, t.reason(i), i.code] for i in result.issues)
    written = [_write_csv(path, header, issues)]
    if result.ok:
        written.append(_write_csv(_beside(path, "sample"), *_sample_rows(t, result.sample)))
        measures = [t.field(m) for m in result.measures]
        totals_header = [t("col.branch"), t("col.period"), t("col.rows"), *measures]
        totals = (
            [x.branch_code, x.period, x.rows, *(x.sums[m] for m in result.measures)]
            for x in result.totals
        )
        written.append(_write_csv(_beside(path, "totals"), totals_header, totals))
    return written


def _sample_rows(t: Texts, sample: list[SampleRow]) -> tuple[list[str], list[list[object]]]:
    names = list(sample[0].values) if sample else []
    header = [t("col.row"), t("col.action"), *(t.field(name) for name in names)]
    rows = [[row.line, t(f"action.{row.action}"), *row.values.values()] for row in sample]
    return header, rows


def _beside(path: Path, part: str) -> Path:
    return path.with_name(f"{path.stem}.{part}{path.suffix or '.csv'}")


def _write_csv(path: Path, header: list[str], rows: Iterable[Sequence[object]]) -> Path:
    # With a BOM, Excel (which Chinese offices open CSV files with) reads UTF-8 correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path
