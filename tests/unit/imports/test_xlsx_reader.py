"""The streaming XLSX reader gives what openpyxl's read-only mode gives, value for value and type
for type: the import's checks were written against openpyxl's values.

Workbooks are written with openpyxl. It writes every string inline; Excel and WPS write them to
the shared strings table, so ``shared_strings`` rewrites a saved workbook the way they would.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from core.imports.sources import SourceError, open_source
from core.imports.xlsx import NoSuchSheet, Workbook, WorkbookError, from_excel

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
SST_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
SST_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"

Rows = list[tuple[Any, ...]]


# -- helpers ------------------------------------------------------------------------------------


def ours(path: Path, sheet: str | None = None) -> Rows:
    with Workbook(path) as book:
        numbered = list(book.sheet(sheet).rows())
    assert [number for number, _cells in numbered] == list(range(1, len(numbered) + 1))
    return [cells for _number, cells in numbered]


def openpyxls(path: Path, sheet: str | None = None) -> Rows:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        return [tuple(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        book.close()


def typed(rows: Rows) -> list[list[tuple[str, Any]]]:
    """Values with their exact types: 1 == True == 1.0, and a datetime is a date."""
    return [[(type(value).__name__, value) for value in row] for row in rows]


def assert_same_as_openpyxl(path: Path, sheet: str | None = None) -> Rows:
    rows = ours(path, sheet)
    assert typed(rows) == typed(openpyxls(path, sheet))
    return rows


def save(path: Path, fill: Callable[[Any], None], **book_options: Any) -> Path:
    """A workbook whose first sheet ``fill`` fills in."""
    book = openpyxl.Workbook()
    for name, value in book_options.items():
        setattr(book, name, value)
    sheet = book.active
    assert sheet is not None
    fill(sheet)
    book.save(path)
    return path


def append_rows(rows: Sequence[Sequence[Any]]) -> Callable[[Any], None]:
    def fill(sheet: Any) -> None:
        for row in rows:
            sheet.append(list(row))

    return fill


def rewrite(path: Path, edit: Callable[[dict[str, bytes]], None]) -> Path:
    """The workbook with its parts edited in place (``edit`` gets name → bytes)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    edit(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def shared_strings(path: Path) -> Path:
    """Every inline string moved to a shared strings table, as Excel saves a workbook: each
    ``<c t="inlineStr"><is>…</is></c>`` becomes ``<c t="s"><v>index</v></c>`` and its ``<is>``
    (plain text or rich-text runs) a ``<si>``. Equal strings share one entry."""
    ET.register_namespace("", MAIN)

    def edit(parts: dict[str, bytes]) -> None:
        table = ET.Element(f"{{{MAIN}}}sst")
        index: dict[bytes, int] = {}
        for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
            root = ET.fromstring(parts[name])  # noqa: S314 — a file this test wrote
            for cell in root.iter(f"{{{MAIN}}}c"):
                if cell.get("t") != "inlineStr":
                    continue
                inline = cell.find(f"{{{MAIN}}}is")
                if inline is None:  # openpyxl writes an empty string as no string at all
                    continue
                key = ET.tostring(inline)
                if key not in index:
                    index[key] = len(table)
                    item = ET.SubElement(table, f"{{{MAIN}}}si")
                    item.extend(list(inline))
                cell.remove(inline)
                cell.set("t", "s")
                ET.SubElement(cell, f"{{{MAIN}}}v").text = str(index[key])
            parts[name] = ET.tostring(root, xml_declaration=True, encoding="UTF-8")
        table.set("count", str(len(table)))
        table.set("uniqueCount", str(len(table)))
        parts["xl/sharedStrings.xml"] = ET.tostring(table, xml_declaration=True, encoding="UTF-8")
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            f'<Relationship Id="rIdSst" Type="{SST_TYPE}" Target="sharedStrings.xml"/>'
            "</Relationships>".encode(),
        )
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"</Types>",
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_CONTENT}"/>'
            "</Types>".encode(),
        )

    return rewrite(path, edit)


def edit_sheet(path: Path, old: str, new: str, count: int = 1) -> Path:
    def edit(parts: dict[str, bytes]) -> None:
        sheet = parts["xl/worksheets/sheet1.xml"].decode()
        assert sheet.count(old) >= count, old
        parts["xl/worksheets/sheet1.xml"] = sheet.replace(old, new).encode()

    return rewrite(path, edit)


# -- strings -------------------------------------------------------------------------------------

TEXT_ROWS = [
    ["工号", "姓名", "分支机构代码", "备注"],
    ["E001", "王小明", "SH01", "  前后有空格  "],
    ["E002", "欧阳娜娜", "BJ02", "第一行\n第二行"],
    ["E003", "Zoë <&> \"quoted\" 'x'", "SH01", ""],
    ["E004", "𠀋 (outside the BMP)", "GZ03", "a_x005F_b"],
]


def test_inline_strings(tmp_path: Path) -> None:
    path = save(tmp_path / "inline.xlsx", append_rows(TEXT_ROWS))

    rows = assert_same_as_openpyxl(path)

    assert rows[1] == ("E001", "王小明", "SH01", "  前后有空格  ")


def test_shared_strings(tmp_path: Path) -> None:
    path = shared_strings(save(tmp_path / "shared.xlsx", append_rows(TEXT_ROWS)))
    with zipfile.ZipFile(path) as archive:
        assert b"<v>0</v>" in archive.read("xl/worksheets/sheet1.xml")  # strings are shared now

    rows = assert_same_as_openpyxl(path)

    assert rows[0] == ("工号", "姓名", "分支机构代码", "备注")
    assert rows[2][1] == "欧阳娜娜" and rows[3][2] == "SH01"  # one entry, two cells
    assert rows[4][3] == "a_b"  # openpyxl drops the x005F_ of an escaped underscore: so do we


def rich_text(sheet: Any) -> None:
    sheet.append(["工号", "备注"])
    sheet["A2"] = "E001"
    sheet["B2"] = CellRichText(
        ["加粗前", TextBlock(InlineFont(b=True), "加粗"), TextBlock(InlineFont(i=True), "斜体")]
    )
    sheet["A3"] = CellRichText([TextBlock(InlineFont(b=True), "E002")])


def test_rich_text_runs_inline_and_shared(tmp_path: Path) -> None:
    inline = save(tmp_path / "rich.xlsx", rich_text)
    shared = shared_strings(save(tmp_path / "rich-shared.xlsx", rich_text))

    assert assert_same_as_openpyxl(inline)[1:] == [("E001", "加粗前加粗斜体"), ("E002", None)]
    assert assert_same_as_openpyxl(shared)[1:] == [("E001", "加粗前加粗斜体"), ("E002", None)]


def test_phonetic_guides_are_left_out(tmp_path: Path) -> None:
    path = shared_strings(save(tmp_path / "ruby.xlsx", append_rows([["东京"]])))

    def ruby(parts: dict[str, bytes]) -> None:
        parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(
            b"</si>", b'<rPh sb="0" eb="2"><t>\xe3\x81\xa8\xe3\x81\x86</t></rPh></si>'
        )

    rewrite(path, ruby)

    assert assert_same_as_openpyxl(path) == [("东京",)]


# -- numbers, booleans, errors ------------------------------------------------------------------


def test_numbers_booleans_and_errors(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["int", "float", "negative", "noise", "tiny", "huge", "bool", "error"],
        [12000, 3120.5, -7, 2600.0000000000005, 1e-7, 1.5e20, True, "#N/A"],
        [3.0, 0, 12345678901234567890, 0.1 + 0.2, -0.0, 2**53 + 1, False, "#DIV/0!"],
    ]
    path = save(tmp_path / "numbers.xlsx", append_rows(rows))
    # openpyxl writes 16 significant digits, Excel 17: write the noise of a formula as Excel does.
    edit_sheet(path, "<v>2600</v>", "<v>2600.0000000000005</v>")

    read = assert_same_as_openpyxl(path)

    # A float with nothing after the point is written "3" and comes back an int, as in openpyxl
    # (the checks accept both); an int too big for a double is written as a float.
    assert read[2][:3] == (3, 0, 1.234567890123457e19) and type(read[2][0]) is int
    assert read[1][3] == 2600.0000000000005 and read[1][6] is True and read[1][7] == "#N/A"


# -- dates --------------------------------------------------------------------------------------


def dates(sheet: Any) -> None:
    sheet.append(["what", "value"])
    cases: list[tuple[str, Any, str | None]] = [
        ("default date", date(2026, 8, 15), None),
        ("default datetime", datetime(2026, 8, 15, 9, 30, 15), None),
        ("builtin 14", datetime(2025, 1, 31), "mm-dd-yy"),
        ("builtin 22", datetime(2025, 1, 31, 18, 5), "m/d/yy h:mm"),
        ("builtin 21 time", time(13, 30, 5), "h:mm:ss"),
        ("builtin 20 time", time(8, 0), "h:mm"),
        ("builtin 45", time(0, 12, 34), "mm:ss"),
        ("builtin 46 elapsed", timedelta(hours=27, minutes=3), "[h]:mm:ss"),
        ("custom chinese", date(2026, 9, 1), 'yyyy"年"m"月"d"日"'),
        ("custom slash", date(2026, 9, 1), "yyyy/m/d"),
        ("custom with locale", date(2026, 9, 1), "[$-804]yyyy-mm-dd;@"),
        ("custom month", date(2026, 9, 1), "yyyy-mm"),
        ("custom elapsed", timedelta(minutes=90), "[mm]:ss"),
        ("milliseconds", datetime(2026, 1, 1, 12, 0, 0, 123000), "yyyy-mm-dd hh:mm:ss.000"),
        ("not a date: quoted", 45000, '"d"0'),
        ("not a date: number", 45000.5, "#,##0.00"),
        ("not a date: text format", 45000, "@"),
        ("before the leap bug", datetime(1900, 1, 1), "yyyy-mm-dd"),
        ("after the leap bug", datetime(1900, 3, 1), "yyyy-mm-dd"),
        ("empty, date formatted", None, "yyyy-mm-dd"),
    ]
    for label, value, number_format in cases:
        sheet.append([label, value])
        if number_format is not None:
            sheet.cell(row=sheet.max_row, column=2).number_format = number_format
    # Serials around 29 February 1900, which Excel counts though it never was.
    for serial in (1, 59, 60, 61, 0.25, 0, -1):
        sheet.append([f"serial {serial}", serial])
        sheet.cell(row=sheet.max_row, column=2).number_format = "yyyy-mm-dd hh:mm"


def test_dates_with_built_in_and_custom_formats(tmp_path: Path) -> None:
    path = save(tmp_path / "dates.xlsx", dates)

    rows: dict[str, Any] = dict(assert_same_as_openpyxl(path))

    assert rows["default date"] == datetime(2026, 8, 15)  # a date comes back a datetime
    assert rows["custom chinese"] == datetime(2026, 9, 1)
    assert rows["builtin 21 time"] == time(13, 30, 5)
    assert rows["builtin 46 elapsed"] == timedelta(hours=27, minutes=3)
    assert rows["not a date: quoted"] == 45000
    assert rows["serial 60"] == datetime(1900, 2, 28)  # 29 February 1900, which never was
    assert rows["serial 61"] == datetime(1900, 3, 1)
    assert rows["serial 1"] == datetime(1900, 1, 1)


def test_a_1904_workbook(tmp_path: Path) -> None:
    path = save(tmp_path / "mac.xlsx", dates, epoch=CALENDAR_MAC_1904)
    with zipfile.ZipFile(path) as archive:
        assert b'date1904="1"' in archive.read("xl/workbook.xml")

    with Workbook(path) as book:
        assert book.date1904
    rows: dict[str, Any] = dict(assert_same_as_openpyxl(path))

    assert rows["custom chinese"] == datetime(2026, 9, 1)
    assert rows["serial 1"] == datetime(1904, 1, 2)
    assert rows["serial 60"] == datetime(1904, 3, 1)  # no leap-year bug in the 1904 system


def test_iso_date_cells(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["date", "datetime", "time"],
        [date(2026, 8, 15), datetime(2026, 8, 15, 9, 30, 1, 500000), time(7, 5)],
    ]
    path = save(tmp_path / "iso.xlsx", append_rows(rows), iso_dates=True)
    with zipfile.ZipFile(path) as archive:
        assert b't="d"' in archive.read("xl/worksheets/sheet1.xml")

    assert assert_same_as_openpyxl(path)[1][0] == date(2026, 8, 15)  # a date, not a datetime


def test_a_date_no_calendar_holds_is_an_error_value(tmp_path: Path) -> None:
    def fill(sheet: Any) -> None:
        sheet.append(["when"])
        sheet.append([10**9])
        sheet["A2"].number_format = "yyyy-mm-dd"

    path = save(tmp_path / "far.xlsx", fill)

    with pytest.warns(UserWarning):
        theirs = openpyxls(path)
    assert ours(path) == theirs == [("when",), ("#VALUE!",)]


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, datetime(1900, 1, 1)),
        (59, datetime(1900, 2, 28)),
        (61, datetime(1900, 3, 1)),
        (45658, datetime(2025, 1, 1)),
        (45658.5, datetime(2025, 1, 1, 12)),
        (0.5, time(12)),
        (0.999999999, datetime(1900, 1, 1)),  # to the millisecond: the next midnight
    ],
)
def test_serial_numbers(serial: float, expected: object) -> None:
    assert from_excel(serial) == expected


# -- layout: gaps, sheets, dimensions ------------------------------------------------------------


def gaps(sheet: Any) -> None:
    sheet["A1"], sheet["B1"], sheet["C1"], sheet["D1"] = "工号", "姓名", "入职日期", "备注"
    sheet["A2"], sheet["C2"] = "E001", datetime(2025, 1, 2)  # B2 and D2 empty
    sheet["D4"] = "行 3 整行为空"  # row 3 missing, and A4 to C4
    sheet["A6"] = "E006"  # row 5 missing, the row shorter than the header
    sheet["F7"] = "表头之外"  # beyond the header
    sheet["B8"].number_format = "yyyy-mm-dd"  # a styled cell without a value


def test_empty_cells_and_rows_in_the_middle(tmp_path: Path) -> None:
    path = save(tmp_path / "gaps.xlsx", gaps)

    rows = assert_same_as_openpyxl(path)

    # With a <dimension> (as Excel writes): every row padded to its width.
    assert rows[1] == ("E001", None, datetime(2025, 1, 2), None, None, None)
    assert rows[2] == (None,) * 6
    assert rows[6] == (None,) * 5 + ("表头之外",)


def test_empty_cells_without_a_dimension(tmp_path: Path) -> None:
    path = save(tmp_path / "gaps.xlsx", gaps)
    edit_sheet(path, '<dimension ref="A1:F8" />', "")

    rows = assert_same_as_openpyxl(path)

    # Without one: each row as long as its last cell, a missing row empty.
    assert rows[:4] == [
        ("工号", "姓名", "入职日期", "备注"),
        ("E001", None, datetime(2025, 1, 2)),
        (),
        (None, None, None, "行 3 整行为空"),
    ]
    assert rows[7] == (None, None)  # the styled cell counts, as in openpyxl


def test_cells_without_references(tmp_path: Path) -> None:
    path = save(tmp_path / "norefs.xlsx", append_rows([["a", "b", "c"], ["d", None, "f"]]))
    edit_sheet(path, ' r="A2"', "")
    edit_sheet(path, ' r="B1"', "")  # the cell after A1 is B1
    edit_sheet(path, '<row r="2">', "<row>")  # the row after row 1 is row 2

    assert assert_same_as_openpyxl(path)[1] == ("d", None, "f")  # A2, then C2


def test_rows_and_cells_beyond_a_wrong_dimension_are_read(tmp_path: Path) -> None:
    """Some programs write <dimension ref="A1"/> whatever the sheet holds: openpyxl then reads
    a single cell; rows and cells are read whatever the dimension says."""
    rows = [["工号", "姓名"], ["E001", "王小明"], ["E002", "李雷"]]
    path = save(tmp_path / "wrong.xlsx", append_rows(rows))
    edit_sheet(path, '<dimension ref="A1:B3" />', '<dimension ref="A1" />')

    assert openpyxls(path) == [("工号",)]
    assert ours(path) == [tuple(row) for row in rows]


def test_east_asian_built_in_date_formats_are_dates(tmp_path: Path) -> None:
    """A Chinese Excel writes yyyy"年"m"月"d"日" as built-in format 31 without spelling it out;
    openpyxl knows no built-ins past 22 but 45 to 49 and gives the serial number."""

    def fill(sheet: Any) -> None:
        sheet.append(["入职日期"])
        sheet.append([datetime(2026, 9, 1)])
        sheet["A2"].number_format = "mm-dd-yy"  # built-in 14, as a stand-in

    path = save(tmp_path / "zh.xlsx", fill)

    def builtin_31(parts: dict[str, bytes]) -> None:
        styles = re.sub(rb"<numFmts.*?</numFmts>", b"", parts["xl/styles.xml"])
        parts["xl/styles.xml"] = styles.replace(b'numFmtId="14"', b'numFmtId="31"')

    rewrite(path, builtin_31)

    assert openpyxls(path)[1] == (46266,)
    assert ours(path)[1] == (datetime(2026, 9, 1),)


def test_formula_results_and_out_of_order_rows(tmp_path: Path) -> None:
    path = save(tmp_path / "formulas.xlsx", append_rows([["a", "b"], [1, 2], [3, 4]]))
    edit_sheet(
        path, '<c r="B2" t="n"><v>2</v></c>', '<c r="B2" t="str"><f>"x"&amp;"y"</f><v>xy</v></c>'
    )
    edit_sheet(path, '<c r="A3" t="n"><v>3</v></c>', '<c r="A3"><f>A2*3</f><v>3</v></c>')
    edit_sheet(path, "</sheetData>", '<row r="2"><c r="A2"><v>99</v></c></row></sheetData>')

    assert assert_same_as_openpyxl(path) == [("a", "b"), (1, "xy"), (3, 4)]


def sheets(book: Any) -> None:
    cover = book.active
    cover.title = "说明"
    cover.append(["第二个工作表是数据"])
    data = book.create_sheet("数据")
    data.append(["工号", "姓名"])
    data.append(["E001", "王小明"])
    book.create_sheet("空表")


def test_sheets_by_name_or_the_first(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheets(book)
    path = tmp_path / "sheets.xlsx"
    book.save(path)

    with Workbook(path) as ours_book:
        assert ours_book.sheet_names == ["说明", "数据", "空表"]
        assert ours_book.sheet().name == "说明"
        with pytest.raises(NoSuchSheet) as missing:
            ours_book.sheet("缴费")
        assert missing.value.sheets == ["说明", "数据", "空表"]
    assert assert_same_as_openpyxl(path) == [("第二个工作表是数据",)]
    assert assert_same_as_openpyxl(path, "数据") == [("工号", "姓名"), ("E001", "王小明")]
    assert assert_same_as_openpyxl(path, "空表") == []


def test_sheets_in_a_write_only_workbook_with_shared_strings(tmp_path: Path) -> None:
    """Write-only mode writes no <dimension>, relationships with absolute targets."""
    book = openpyxl.Workbook(write_only=True)
    for name in ("一月", "二月"):
        sheet = book.create_sheet(name)
        sheet.append(["工号", "所属期", "缴费基数", "缴费日期"])
        for n in range(300):
            sheet.append([f"E{n:04d}", f"2025-{n % 12 + 1:02d}", 5000 + n * 0.5, date(2025, 1, 10)])
    path = tmp_path / "write-only.xlsx"
    book.save(path)
    shared_strings(path)

    first = assert_same_as_openpyxl(path)
    second = assert_same_as_openpyxl(path, "二月")

    assert len(first) == len(second) == 301
    assert second[300] == ("E0299", "2025-12", 5149.5, datetime(2025, 1, 10))


# -- through open_source -------------------------------------------------------------------------


def test_open_source_reads_a_workbook(tmp_path: Path) -> None:
    path = save(tmp_path / "缴费.xlsx", gaps)

    with open_source(path) as source:
        assert (source.format, source.sheet, source.estimated_rows) == ("xlsx", "Sheet", 7)
        assert source.header == ("工号", "姓名", "入职日期", "备注", None, None)
        assert next(source.rows) == (2, ("E001", None, datetime(2025, 1, 2), None, None, None))


def test_open_source_names_the_sheets_when_one_is_missing(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheets(book)
    path = tmp_path / "sheets.xlsx"
    book.save(path)

    with pytest.raises(SourceError) as refused:
        open_source(path, sheet="缴费")

    assert refused.value.reason == "no_sheet" and refused.value.usage
    assert refused.value.params == {"sheet": "缴费", "sheets": "说明, 数据, 空表"}


def test_a_sheet_broken_half_way_is_a_source_error(tmp_path: Path) -> None:
    rows = [["工号"]] + [[f"E{n:05d}"] for n in range(3000)]
    path = save(tmp_path / "broken.xlsx", append_rows(rows))
    edit_sheet(path, '<c r="A2500" t="inlineStr">', '<c r="A2500" t="inlineStr"><oops>')

    with open_source(path) as source, pytest.raises(SourceError) as refused:
        for _row in source.rows:
            pass

    assert refused.value.reason == "bad_xlsx" and not refused.value.usage


@pytest.mark.parametrize(
    "damage",
    [
        lambda parts: parts.pop("xl/workbook.xml"),
        lambda parts: parts.update({"xl/workbook.xml": b"<workbook"}),
        lambda parts: parts.update({"xl/styles.xml": b"not xml"}),
    ],
)
def test_a_damaged_workbook_is_refused(
    tmp_path: Path, damage: Callable[[dict[str, bytes]], None]
) -> None:
    path = rewrite(save(tmp_path / "damaged.xlsx", append_rows([["工号"]])), damage)

    with pytest.raises(WorkbookError):
        Workbook(path)
    with pytest.raises(SourceError) as refused:
        open_source(path)
    assert refused.value.reason == "bad_xlsx"
