"""A streaming XLSX worksheet reader, standard library only (``zipfile`` and ElementTree).

An XLSX file is a zip of XML parts: ``xl/workbook.xml`` names the sheets (and says whether dates
count from 1904), its relationships say which part holds which sheet, ``xl/sharedStrings.xml``
holds the text most cells point to, and ``xl/styles.xml`` says which cells are formatted as dates
(a date is a number of days with a date format). A sheet is parsed as it is decompressed, each row
dropped once read, so memory stays bounded whatever the number of rows.

The values are those openpyxl's read-only mode gives with ``values_only=True`` (the import read
workbooks through it before, and its checks are written against those values): text, ``int`` for
a number written without a decimal point or exponent and ``float`` otherwise, ``bool``,
``datetime`` for a date-formatted number (``time`` below one day, ``timedelta`` for an elapsed-time
format such as ``[h]:mm:ss``), an error such as ``#N/A`` as its text, ``None`` for an empty cell;
every row is padded with ``None`` to the width the sheet declares (its ``<dimension>``), and rows
missing from the file come back empty. Two deliberate differences, both where openpyxl loses data:

- A ``<dimension>`` is trusted for padding only, never to cut rows or cells off. Some programs
  write ``A1`` whatever the size (openpyxl would then read one cell); rows and cells beyond it are
  read, and the import reports values under no header as it does for a CSV.
- The East Asian built-in date formats (ids 27–36 and 50–58, such as ``yyyy"年"m"月"d"日"``, which a
  Chinese Excel writes without spelling them out) are dates; openpyxl returns their serial number.

Values come from the cached results of formulas (what the sheet last showed), as with openpyxl's
``data_only=True``. The XML is parsed by expat, which resolves no external entities and (from
expat 2.4) refuses entity expansion bombs.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from os import PathLike
from typing import IO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

Value = str | int | float | bool | date | datetime | time | timedelta | None
"""A cell's value (``date`` alone only from a cell stored as an ISO date, ``t="d"``)."""

_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CHUNK = 1 << 12
"""Bytes of XML parsed at a time: about a dozen rows, read and dropped before the caller sees
them (see ``Sheet._rows``). Few elements are then alive when the garbage collector runs: those it
finds alive it promotes, and promoted objects bring its full collections (of everything the
import holds) sooner. With 32 KiB chunks a 200k-row import spends 1.5 s in them, with 4 KiB 0.2 s,
as a CSV import does."""
_BROKEN = (
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    IndexError,
    ParseError,
    EOFError,
    NotImplementedError,  # a compression method zipfile does not know
    OSError,
)

# Number formats: which built-in ids are dates or elapsed times, and how to tell a custom one.
_BUILTIN_DATES = frozenset((*range(14, 23), 45, 46, 47, *range(27, 37), *range(50, 59)))
_BUILTIN_ELAPSED = frozenset((46,))  # [h]:mm:ss
_LITERAL_OR_LOCALE = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_LETTER = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_ELAPSED = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)

_NUMBER, _DATE, _ELAPSED_TIME = 0, 1, 2
_WINDOWS_EPOCH = datetime(1899, 12, 30)
_MAC_EPOCH = datetime(1904, 1, 1)
_SECONDS_PER_DAY = 86400
_CACHED_DATES = 1 << 16
_INVALID_DATE = "#VALUE!"  # what openpyxl makes of a date-formatted number no date can hold

_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_DIMENSION = re.compile(r"^\$?([A-Za-z]{1,3})?\$?(\d+)?(?::\$?([A-Za-z]{1,3})?\$?(\d+)?)?$")
_ISO = re.compile(
    r"(?P<date>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}))?T?"
    r"(?P<time>(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})(?P<microsecond>\.\d{1,3})?)?)?Z?"
)
_ISO_DURATION = re.compile(
    r"PT((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+(\.\d{1,3})?)S)?"
)


class WorkbookError(Exception):
    """The file is not a workbook this reader can make sense of (the message says why)."""


class NoSuchSheet(WorkbookError):
    def __init__(self, name: str, sheets: list[str]) -> None:
        super().__init__(f"no sheet named {name!r}")
        self.name = name
        self.sheets = sheets


class Workbook:
    """An open XLSX file: its worksheets' names, and each sheet's rows on demand.

    ``file`` is a path or a binary file open for reading; close the workbook when done (the file
    object, if one was given, stays the caller's to close).
    """

    def __init__(self, file: str | PathLike[str] | IO[bytes]) -> None:
        try:
            self._zip = zipfile.ZipFile(file)
        except _BROKEN as error:
            raise WorkbookError(str(error) or type(error).__name__) from None
        try:
            self._read_workbook()
        except _BROKEN as error:
            self._zip.close()
            raise WorkbookError(str(error) or type(error).__name__) from None
        except WorkbookError:
            self._zip.close()
            raise

    @property
    def sheet_names(self) -> list[str]:
        """The worksheets in the order of their tabs (chart sheets, holding no cells, left out)."""
        return [name for name, _part in self._sheets]

    def sheet(self, name: str | None = None) -> Sheet:
        """The sheet called ``name``, or the first one; ``NoSuchSheet`` if there is none such."""
        for sheet_name, part in self._sheets:
            if name is None or sheet_name == name:
                return Sheet(self, sheet_name, part)
        raise NoSuchSheet("" if name is None else name, self.sheet_names)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the parts every sheet needs ---------------------------------------------------------

    def _read_workbook(self) -> None:
        book_part = _office_document(self._zip)
        root = _parse_part(self._zip, book_part)
        ns = _namespace(root)
        properties = root.find(f"{{{ns}}}workbookPr")
        flag = None if properties is None else properties.get("date1904")
        # As openpyxl reads an xsd:boolean: anything but false, f or 0 (and empty) is true.
        self.date1904 = bool(flag) and str(flag).lower() not in ("false", "f", "0")
        self.epoch = _MAC_EPOCH if self.date1904 else _WINDOWS_EPOCH

        targets, by_type = _relationships(self._zip, book_part)
        self._sheets: list[tuple[str, str]] = []
        for sheet in root.iter(f"{{{ns}}}sheet"):
            ref = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
            target = targets.get(ref or "")
            if target is None or target[0].endswith("/chartsheet"):
                continue
            self._sheets.append((sheet.get("name", ""), target[1]))

        strings_part = by_type.get(
            "sharedStrings", posixpath.join(_folder(book_part), "sharedStrings.xml")
        )
        self._strings = _shared_strings(self._zip, strings_part)
        styles_part = by_type.get("styles", posixpath.join(_folder(book_part), "styles.xml"))
        self._styles = _style_kinds(self._zip, styles_part)


class Sheet:
    """One worksheet. ``rows()`` streams it; ``max_row`` and ``max_column`` are what the sheet's
    ``<dimension>`` declares (None if it declares nothing, or before the first row is read)."""

    def __init__(self, book: Workbook, name: str, part: str) -> None:
        self.book = book
        self.name = name
        self.part = part
        self.max_row: int | None = None
        self.max_column: int | None = None

    def rows(self) -> Iterator[tuple[int, tuple[Value, ...]]]:
        """``(row number, cells)`` from row 1, one per row: rows the file leaves out included.

        Raises ``WorkbookError`` if the part turns out to be broken half-way.
        """
        try:
            yield from self._rows()
        except _BROKEN as error:
            raise WorkbookError(f"{self.part}: {error or type(error).__name__}") from None

    def _rows(self) -> Iterator[tuple[int, tuple[Value, ...]]]:
        read_row: Callable[[Element], tuple[Value, ...]] | None = None
        row_tag = ""
        empty: tuple[Value, ...] = ()
        row_counter = 0  # as openpyxl numbers rows: the r attribute, or one after the last
        number = 0  # the last row handed over
        for worksheet, rows in _completed(self.book._zip, self.part, "sheetData"):
            if read_row is None:  # the first rows: what comes before them has been read
                tags = _Tags(_namespace(worksheet))
                dimension = worksheet.find(tags.dimension)
                if dimension is not None:
                    self.max_column, self.max_row = _dimension(dimension.get("ref"))
                padding: list[None] = [None] * (self.max_column or 0)
                read_row = _row_reader(self.book, tags, padding)
                row_tag = tags.row
                empty = tuple(padding)
            # The whole batch is read, and its elements dropped, before any row is handed over:
            # elements kept while the caller works would outlive the garbage collector's youngest
            # generation, and each one promoted brings its costly full collections sooner.
            ready: list[tuple[int, tuple[Value, ...]]] = []
            for row in rows:
                if row.tag != row_tag:
                    continue
                r = row.get("r")
                if r is None:
                    row_counter += 1
                else:
                    try:
                        row_counter = int(r)
                    except ValueError:
                        row_counter = _row_number(r)
                if row_counter <= number:
                    continue  # a row out of order or repeated: openpyxl skips it too
                if row_counter > number + 1:  # rows the file leaves out come back empty
                    yield from ready
                    ready = []
                    for missing in range(number + 1, row_counter):
                        yield missing, empty
                number = row_counter
                ready.append((number, read_row(row)))
            del rows[:]
            yield from ready


class _Tags:
    """The tags of a worksheet's elements, in its namespace (transitional or strict OOXML)."""

    def __init__(self, ns: str) -> None:
        self.row = f"{{{ns}}}row"
        self.sheet_data = f"{{{ns}}}sheetData"
        self.dimension = f"{{{ns}}}dimension"
        self.cell = f"{{{ns}}}c"
        self.value = f"{{{ns}}}v"
        self.inline = f"{{{ns}}}is"
        self.plain = f"{{{ns}}}t"
        self.ns = ns


def _row_reader(
    book: Workbook, tags: _Tags, padding: list[None]
) -> Callable[[Element], tuple[Value, ...]]:
    """Reads the cells of one ``<row>``, padded to ``padding``'s width. The hot loop: everything
    it needs is bound to a local name."""
    strings = book._strings
    kinds = {_DATE: _DateCells(book.epoch, False), _ELAPSED_TIME: _DateCells(book.epoch, True)}
    date_styles = {style: kinds[kind] for style, kind in book._styles.items()}
    text_of = _text_of(tags.ns)
    columns: dict[str, int] = {}
    width = len(padding)
    cell_tag, value_tag, inline_tag, plain_tag = tags.cell, tags.value, tags.inline, tags.plain

    def read_row(row: Element) -> tuple[Value, ...]:
        cells: list[Value] = []
        append = cells.append
        present = column = 0
        for cell in row:
            if cell.tag != cell_tag:
                continue
            ref = cell.get("r")
            if ref is None:
                column += 1
            else:
                column = columns.get(ref.rstrip("0123456789")) or _column(ref, columns)
            kind = cell.get("t")
            value: Value
            if kind is None or kind == "n":
                text = cell.findtext(value_tag)
                if not text:
                    value = None
                else:
                    dates = date_styles.get(cell.get("s"))  # type: ignore[arg-type]
                    if dates is not None:
                        value = dates[text]
                    elif "." in text or "E" in text or "e" in text:
                        value = float(text)
                    else:
                        value = int(text)
            elif kind == "s":
                text = cell.findtext(value_tag)
                value = strings[int(text)] if text else None
            elif kind == "inlineStr":
                node = cell.find(inline_tag)
                if node is None:
                    value = None
                elif len(node) == 1 and node[0].tag == plain_tag:
                    value = node[0].text or ""
                else:
                    value = text_of(node)
            elif kind == "b":
                text = cell.findtext(value_tag)
                value = bool(int(text)) if text else None
            elif kind == "d":
                value = _from_iso(cell.findtext(value_tag) or "")
            else:  # "str" (a formula's text), "e" (an error such as #N/A)
                value = cell.findtext(value_tag) or None
            if column == present + 1:
                append(value)
                present = column
            elif column > present:
                cells.extend([None] * (column - present - 1))
                append(value)
                present = column
            else:  # a column already passed: the later cell wins, as in openpyxl
                cells[column - 1] = value
        if present < width:
            cells.extend(padding[present:])
        return tuple(cells)

    return read_row


# -- the workbook's parts -----------------------------------------------------------------------


def _parse_part(archive: zipfile.ZipFile, part: str) -> Element:
    """A small part (the workbook, relationships, styles) as a whole tree."""
    parser = XMLParser(target=TreeBuilder())  # noqa: S314 — expat: see the module's docstring
    with archive.open(part) as stream:
        while chunk := stream.read(_CHUNK):
            parser.feed(chunk)
    root: Element = parser.close()
    return root


def _namespace(element: Element) -> str:
    tag = element.tag
    return tag[1 : tag.index("}")] if tag.startswith("{") else ""


def _folder(part: str) -> str:
    return posixpath.dirname(part)


def _office_document(archive: zipfile.ZipFile) -> str:
    """The workbook part: what the package's relationships name, else the usual place."""
    try:
        _by_id, by_type = _relationships(archive, "")
    except KeyError:
        return "xl/workbook.xml"
    return by_type.get("officeDocument", "xl/workbook.xml")


def _relationships(
    archive: zipfile.ZipFile, part: str
) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """A part's relationships: by id, (type, part path); and the first part of each type."""
    rels = posixpath.join(_folder(part), "_rels", posixpath.basename(part) + ".rels")
    root = _parse_part(archive, rels)
    by_id: dict[str, tuple[str, str]] = {}
    by_type: dict[str, str] = {}
    for rel in root.iter(f"{{{_PACKAGE_RELS}}}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        if target.startswith("/"):
            path = target.lstrip("/")
        else:
            path = posixpath.normpath(posixpath.join(_folder(part), target))
        kind = rel.get("Type", "")
        by_id[rel.get("Id", "")] = (kind, path)
        by_type.setdefault(kind.rsplit("/", 1)[-1], path)
    return by_id, by_type


def _shared_strings(archive: zipfile.ZipFile, part: str) -> list[str]:
    """The shared strings, rich text flattened to its characters (as openpyxl does, which also
    drops the ``x005F_`` of an escaped underscore)."""
    if part not in archive.NameToInfo:
        return []
    strings: list[str] = []
    text_of: Callable[[Element], str] | None = None
    for table, items in _completed(archive, part, None):
        if text_of is None:
            text_of = _text_of(_namespace(table))
        for item in items:
            text = text_of(item)
            strings.append(text.replace("x005F_", "") if "x005F_" in text else text)
    return strings


def _completed(
    archive: zipfile.ZipFile, part: str, container: str | None
) -> Iterator[tuple[Element, list[Element]]]:
    """Parses a part as it is decompressed, handing over the children of its root (``container``
    None) or of the root's child called ``container`` as soon as they are complete, each batch
    then dropped from the tree: memory holds a chunk's worth of elements, not the part.

    Yields (the document's root, a batch). Not ``iterparse``: its events (one per element, each
    handled in Python) cost more than the parse itself, and a 200k-row sheet has 4 million
    elements. Instead the builder is given a root of our own before the document starts, so that
    the document's root, its child, is reachable while the parser is still adding to it; all
    children of the container but the last, which may still be open, are complete. (CPython's C
    builder returns that root on ``close``; the pure-Python one would refuse an open element.)
    """
    builder = TreeBuilder()
    top = builder.start("part", {})
    parser = XMLParser(target=builder)  # noqa: S314 — expat: see the module's docstring
    box: Element | None = None
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if chunk:
                parser.feed(chunk)
            else:
                parser.close()
            if box is None and len(top):
                root = top[0]
                box = root if container is None else root.find(f"{{{_namespace(root)}}}{container}")
            if box is not None:
                complete = len(box) - 1 if chunk else len(box)
                if complete > 0:
                    batch = box[:complete]
                    del box[:complete]
                    yield root, batch
            if not chunk:
                return


def _text_of(ns: str) -> Callable[[Element], str]:
    """A string item's characters: its ``<t>``, then the ``<t>`` of each rich-text run ``<r>``
    (phonetic guides, ``<rPh>``, left out)."""
    plain_tag, run_tag = f"{{{ns}}}t", f"{{{ns}}}r"

    def text_of(item: Element) -> str:
        if len(item) == 1 and item[0].tag == plain_tag:
            return item[0].text or ""
        plain = None
        runs = []
        for child in item:
            if child.tag == plain_tag:
                plain = child.text
            elif child.tag == run_tag:
                run = None
                for part in child:
                    if part.tag == plain_tag:
                        run = part.text
                if run is not None:
                    runs.append(run)
        return (plain or "") + "".join(runs)

    return text_of


def _style_kinds(archive: zipfile.ZipFile, part: str) -> dict[str, int]:
    """Cell style ids (as the ``s`` attribute writes them) of dates and elapsed times."""
    if part not in archive.NameToInfo:
        return {}
    root = _parse_part(archive, part)
    ns = _namespace(root)
    custom = {
        fmt.get("numFmtId", ""): fmt.get("formatCode", "")
        for fmt in root.iterfind(f"{{{ns}}}numFmts/{{{ns}}}numFmt")
    }
    kinds: dict[str, int] = {}
    for index, xf in enumerate(root.iterfind(f"{{{ns}}}cellXfs/{{{ns}}}xf")):
        kind = _format_kind(xf.get("numFmtId", "0"), custom)
        if kind != _NUMBER:
            kinds[str(index)] = kind
    return kinds


def _format_kind(fmt_id: str, custom: dict[str, str]) -> int:
    """Whether a number format shows dates, elapsed times or plain numbers, as openpyxl tells."""
    code = custom.get(fmt_id)
    if code is None:
        try:
            number = int(fmt_id)
        except ValueError:
            return _NUMBER
        if number in _BUILTIN_ELAPSED:
            return _ELAPSED_TIME
        return _DATE if number in _BUILTIN_DATES else _NUMBER
    first = code.split(";")[0]  # a format's first section is the one for positive numbers
    if _ELAPSED.search(first):
        return _ELAPSED_TIME
    return _DATE if _DATE_LETTER.search(_LITERAL_OR_LOCALE.sub("", first)) else _NUMBER


# -- cells --------------------------------------------------------------------------------------


class _DateCells(dict[str, Value]):
    """Serial numbers (as the cells write them) to datetimes or spans, remembered: a sheet holds
    few distinct dates, read over and over."""

    def __init__(self, epoch: datetime, elapsed: bool) -> None:
        super().__init__()
        self.epoch = epoch
        self.elapsed = elapsed

    def __missing__(self, text: str) -> Value:
        if len(self) >= _CACHED_DATES:
            self.clear()
        number = float(text) if "." in text or "E" in text or "e" in text else int(text)
        value: Value
        try:
            value = from_excel(number, self.epoch, elapsed=self.elapsed)
        except (OverflowError, ValueError):
            value = _INVALID_DATE
        self[text] = value
        return value


def from_excel(number: float, epoch: datetime = _WINDOWS_EPOCH, elapsed: bool = False) -> Value:
    """A serial number as Excel shows it: openpyxl's ``from_excel``, to the millisecond.

    In the 1900 system Excel counts 29 February 1900, which never was: serials from 61 on are
    one day ahead, and the epoch 30 December 1899 makes them right; below 60 a day is added back.
    """
    if elapsed:
        span = timedelta(days=number)
        if span.microseconds:
            span = timedelta(
                seconds=span.total_seconds() // 1, microseconds=round(span.microseconds, -3)
            )
        return span
    days, fraction = divmod(number, 1)
    clock = timedelta(milliseconds=round(fraction * _SECONDS_PER_DAY * 1000))
    if 0 <= number < 1 and clock.days == 0:
        minutes, seconds = divmod(clock.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return time(hours, minutes, seconds, clock.microseconds)
    if 0 < number < 60 and epoch == _WINDOWS_EPOCH:
        days += 1
    return epoch + timedelta(days=days) + clock


def _from_iso(text: str) -> Value:
    """A cell stored as an ISO 8601 date or time (``t="d"``), read as openpyxl reads it."""
    if not text:
        return None
    match = _ISO.match(text)
    if match and any(match.groups()):
        parts = match.groupdict()
        year, month, day, hour, minute, second = (
            int(parts[key] or 0) for key in ("year", "month", "day", "hour", "minute", "second")
        )
        micro = int(float(parts["microsecond"]) * 1_000_000) if parts["microsecond"] else 0
        if not parts["date"]:
            return time(hour, minute, second, micro)
        if not parts["time"]:
            return date(year, month, day)
        return datetime(year, month, day, hour, minute, second, micro)
    match = _ISO_DURATION.match(text)
    if match and any(match.groups()):
        spans = {key: float(part) for key, part in match.groupdict().items() if part}
        return timedelta(**spans)
    raise ValueError(f"invalid date value {text!r}")


def _column(ref: str, known: dict[str, int]) -> int:
    """The column number of a cell reference (``B7`` → 2), remembered by its letters."""
    match = _CELL_REF.match(ref)
    if not match:
        raise ValueError(f"invalid cell reference {ref!r}")
    letters = match.group(1).upper()
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    if ref[0] != "$" and ref.rstrip("0123456789") == match.group(1):
        known[match.group(1)] = number
    return number


def _row_number(text: str) -> int:
    """A row number written as ``7.0`` (openpyxl accepts it too)."""
    number = float(text)
    if not number.is_integer():
        raise ValueError(f"{text} is not a valid row number")
    return int(number)


def _dimension(ref: str | None) -> tuple[int | None, int | None]:
    """The last column and row a ``<dimension ref="A1:H200">`` declares."""
    match = _DIMENSION.match(ref or "")
    if not ref or not match:
        return None, None
    letters = match.group(3) or match.group(1)
    digits = match.group(4) or match.group(2)
    column = None
    if letters:
        column = 0
        for letter in letters.upper():
            column = column * 26 + ord(letter) - 64
    return column, int(digits) if digits else None
