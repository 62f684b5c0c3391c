"""What every import shares: the header, level 1 parsing of each row, issues, sample and totals.

A kind of import (employees, contributions, budgets) adds its level 2 checks in ``check`` (one
row against the file so far and the database), keeps valid rows in ``accept`` and writes in
``finish``. Writing stops for good at the first issue: the transaction is then rolled back, but
reading goes on so that every issue in the file is reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar

from core.domain.idnumbers import mask_id_number
from core.domain.periods import Period
from core.imports.columns import Column, Schema, map_header
from core.imports.fields import FieldError, is_blank
from core.imports.report import (
    HEADER_LINE,
    Action,
    ImportResult,
    Issue,
    Sampler,
    SampleRow,
    Totals,
)
from core.imports.sources import Cell
from core.persistence.bulk import ImportStore

Values = dict[str, Any]
_SHOWN = 80  # characters of a cell repeated in a report: enough to recognise it


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    sheet: str | None = None
    sample_size: int = 10
    seed: int | None = None


class Importer:
    schema: ClassVar[Schema]
    measures: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, store: ImportStore, today: date, options: ImportOptions, result: ImportResult
    ) -> None:
        self.store = store
        self.today = today
        self.options = options
        self.result = result
        result.measures = self.measures
        self.sampler = Sampler(options.sample_size, result.seed)
        self.totals = Totals(self.measures)
        self.present: frozenset[str] = frozenset()
        self._bound: list[tuple[int, Column]] = []
        self._titles: dict[str, str] = {}
        self._width = 0
        self._unnamed: set[int] = set()
        self._complete = True
        self.prepare()

    # -- to be filled in by each kind --------------------------------------------------------

    def prepare(self) -> None:
        """Load what the checks need from the database (called once, before any row)."""

    def check(self, line: int, values: Values) -> None:
        """Level 2 for one row: report issues with ``issue``. Parsed fields only are in values."""

    def accept(self, line: int, values: Values) -> None:
        """A row with no issues at all: stage it for writing."""

    def finish(self) -> None:
        """Checks across the whole file, then counts, sample, totals and (if allowed) writes."""

    # -- shared machinery --------------------------------------------------------------------

    @property
    def may_write(self) -> bool:
        return not self.options.dry_run and self.result.ok

    def bind(self, header: Sequence[Cell]) -> None:
        bound, issues = map_header(self.schema, header)
        self._bound = bound
        self._width = len(header)
        self.present = frozenset(column.name for _, column in bound)
        self._titles = {column.name: str(header[index]).strip() for index, column in bound}
        self._unnamed = {i for i, cell in enumerate(header) if is_blank(cell)}
        # Without a required column no row is complete: rows are still checked, never staged.
        self._complete = not any(problem.code == "missing_column" for problem in issues)
        for problem in issues:
            self.result.add_issue(
                Issue(HEADER_LINE, problem.column, "", problem.code, problem.params)
            )

    def feed(self, line: int, cells: Sequence[Cell]) -> None:
        if (not cells or is_blank(cells[0])) and all(is_blank(cell) for cell in cells):
            return  # spreadsheets end in blank rows and people leave gaps: neither is data
        self.result.rows += 1
        before = self.result.issue_count
        values = self._parse(line, cells)
        self.check(line, values)
        if self.result.issue_count == before and self._complete:
            self.accept(line, values)

    def _parse(self, line: int, cells: Sequence[Cell]) -> Values:
        values: Values = {}
        width = len(cells)
        for index, column in self._bound:
            cell = cells[index] if index < width else None
            # is_blank, inlined: this loop runs for every cell of a 200k-row file.
            if cell is None or (type(cell) is str and (not cell or cell.isspace())):
                if column.required:
                    self.issue(line, column.name, "", "required")
                else:
                    values[column.name] = column.empty
                continue
            try:
                values[column.name] = column.parse(cell)
            except FieldError as error:
                self.issue(line, column.name, cell, error.code, **error.params)
        if width > self._width or self._unnamed:
            self._stray_cells(line, cells)
        return values

    def _stray_cells(self, line: int, cells: Sequence[Cell]) -> None:
        """Values under no header are data the import would drop: an error, not a shrug.

        (Values under an unknown header are not repeated here: the header issue names them.)
        """
        for index, cell in enumerate(cells):
            outside = index >= self._width or index in self._unnamed
            if outside and not is_blank(cell):
                self.issue(line, column_letter(index), cell, "cell_outside_columns")

    def issue(self, line: int, column: str, value: object, code: str, **params: object) -> None:
        """Record an issue; ``column`` is the schema's name, shown as the file's header says."""
        self.result.add_issue(
            Issue(line, self._titles.get(column, column), show(value, column), code, params)
        )

    def sample(self, line: int, action: Action, values: Callable[[], Values]) -> None:
        """Offer a row to the sample; ``values`` (as stored) is only built if the row is kept."""
        self.sampler.offer(
            lambda: SampleRow(line, action, {k: show(v, k) for k, v in values().items()})
        )

    def close(self) -> None:
        self.result.sample = self.sampler.rows()
        self.result.totals = self.totals.rows()


def show(value: object, column: str = "") -> str:
    """A value as a report shows it: ISO dates, two-decimal amounts, masked ID numbers."""
    if value is None:
        return ""
    if column == "id_number":
        return mask_id_number(str(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | Period):
        return str(value)
    if isinstance(value, Enum):
        return str(value.value)
    text = str(value).strip()
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def column_letter(index: int) -> str:
    """``A`` for the first column, ``AA`` for the 27th: how a spreadsheet names it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
