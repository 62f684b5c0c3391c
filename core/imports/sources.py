"""Import files as streams of rows: CSV (UTF-8, UTF-8 with BOM or GBK, detected) or XLSX.

Both are streamed: a CSV line by line, a workbook sheet as it is decompressed (``xlsx``), so a file
of 200k rows never sits in memory whole. Cells come back as the file holds them (always text from a
CSV; text, numbers, booleans or datetimes from a workbook): turning them into values is ``fields``'
job.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from core.domain.errors import DomainError
from core.imports.xlsx import NoSuchSheet, Workbook, WorkbookError

Cell = str | int | float | bool | date | datetime | time | timedelta | None
Row = tuple[int, tuple[Cell, ...]]
"""A spreadsheet row number (the header is row 1) and the row's cells."""

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary Excel format (OLE2)
_CHUNK = 1 << 20


class SourceError(DomainError):
    """The file cannot be read as a table at all. ``reason`` is a stable code; ``usage`` marks
    mistakes on the command line (such as a sheet that is not there) rather than in the data."""

    code = "import.source"

    def __init__(self, reason: str, *, usage: bool = False, **params: object) -> None:
        super().__init__(reason, **params)
        self.reason = reason
        self.usage = usage


@dataclass
class Source:
    """An open import file: its header, then its rows. Close it (or use ``with``) when done."""

    path: Path
    format: str
    """``csv`` or ``xlsx``."""
    encoding: str | None
    """For a CSV: ``utf-8``, ``utf-8-sig`` (with BOM) or ``gbk``."""
    sheet: str | None
    estimated_rows: int | None
    """Data rows the file seems to hold (for a progress bar), or None when unknown."""
    header: tuple[Cell, ...]
    rows: Iterator[Row]
    close: Callable[[], None]

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_source(path: Path, sheet: str | None = None) -> Source:
    try:
        with path.open("rb") as file:
            magic = file.read(4)
    except OSError as error:
        raise SourceError("unreadable", detail=error.strerror or str(error)) from None
    if magic == _XLS_MAGIC:
        raise SourceError("xls_unsupported")
    if magic == _XLSX_MAGIC:
        return _open_xlsx(path, sheet)
    if sheet is not None:
        raise SourceError("sheet_needs_xlsx", usage=True)
    return _open_csv(path)


# CSV ------------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> tuple[str, int]:
    """The file's encoding and its number of lines.

    The whole file is decoded once, chunk by chunk, because a GBK file may hold nothing but ASCII
    for its first thousands of lines. Strict UTF-8 first: GBK text almost never decodes as UTF-8,
    while the reverse often "works" and turns names into nonsense. GBK is read with its superset
    GB 18030, which also covers the rare characters of names that GBK lacks.
    """
    with path.open("rb") as file:
        bom = file.read(3) == codecs.BOM_UTF8
    for encoding in ("utf-8", "gb18030"):
        lines = _decodes(path, encoding)
        if lines is not None:
            if encoding == "gb18030":
                return "gbk", lines
            return ("utf-8-sig" if bom else "utf-8"), lines
    raise SourceError("unknown_encoding")


def _decodes(path: Path, encoding: str) -> int | None:
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 0
    with path.open("rb") as file:
        try:
            while chunk := file.read(_CHUNK):
                decoder.decode(chunk)
                lines += chunk.count(b"\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    return lines


def _open_csv(path: Path) -> Source:
    encoding, lines = detect_encoding(path)
    file = path.open(encoding="gb18030" if encoding == "gbk" else encoding, newline="")
    first = file.readline()
    # Tab-separated text (what Excel calls "Unicode text") is accepted too: a header with tabs
    # and no commas cannot be meant as CSV.
    delimiter = "\t" if "\t" in first and "," not in first else ","
    file.seek(0)
    reader = csv.reader(file, delimiter=delimiter)
    try:
        header: tuple[Cell, ...] = tuple(next(reader, ()))
    except csv.Error as error:
        file.close()
        raise SourceError("bad_csv", line=1, detail=str(error)) from None
    if not any(_filled(cell) for cell in header):
        file.close()
        raise SourceError("empty")
    return Source(
        path=path,
        format="csv",
        encoding=encoding,
        sheet=None,
        estimated_rows=max(lines - 1, 0),
        header=header,
        rows=_csv_rows(reader),
        close=file.close,
    )


def _csv_rows(reader: Any) -> Iterator[Row]:
    while True:
        start = reader.line_num + 1  # a quoted cell may span lines: report where the row starts
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise SourceError("bad_csv", line=start, detail=str(error)) from None
        yield start, tuple(cells)


# XLSX -----------------------------------------------------------------------------------------


def _open_xlsx(path: Path, sheet: str | None) -> Source:
    try:
        book = Workbook(path)
    except WorkbookError as error:
        raise SourceError("bad_xlsx", detail=str(error)) from None
    try:
        worksheet = book.sheet(sheet)
    except NoSuchSheet as missing:
        book.close()
        if sheet is None:  # a workbook of chart sheets only
            raise SourceError("empty") from None
        raise SourceError(
            "no_sheet", usage=True, sheet=sheet, sheets=", ".join(missing.sheets)
        ) from None
    rows = _xlsx_rows(worksheet.rows())

    def close() -> None:
        rows.close()
        book.close()

    header: tuple[Cell, ...] = next((cells for _number, cells in rows), ())
    if not any(_filled(cell) for cell in header):
        close()
        raise SourceError("empty")
    max_row = worksheet.max_row  # known once the first row is read: the sheet declares it first
    return Source(
        path=path,
        format="xlsx",
        encoding=None,
        sheet=worksheet.name,
        estimated_rows=max_row - 1 if max_row else None,
        header=header,
        rows=rows,
        close=close,
    )


def _xlsx_rows(rows: Iterator[Row]) -> Generator[Row, None, None]:
    try:
        yield from rows
    except WorkbookError as error:  # a part found broken half-way through
        raise SourceError("bad_xlsx", detail=str(error)) from None


def _filled(cell: Cell) -> bool:
    return cell is not None and (not isinstance(cell, str) or cell.strip() != "")
