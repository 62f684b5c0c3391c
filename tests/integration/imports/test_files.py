"""What import files look like in an office: GBK and BOM CSV, workbooks with Chinese headers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from core.imports.sources import SourceError, open_source
from core.persistence.tables import contributions, employees
from core.services.context import Context
from tests.integration.imports.helpers import (
    Org,
    id_number,
    rows_of,
    run,
    where,
    write_csv,
    write_xlsx,
)

ZH_EMPLOYEES = ["工号", "姓名", "身份证号", "分支机构代码", "入职日期", "缴费基数"]
ZH_CONTRIBUTIONS = ["工号", "所属期", "缴费基数", "单位缴费", "个人缴费", "缴费截止日", "缴费日期"]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_in_gbk_or_with_a_bom_is_detected(
    ctx: Context, org: Org, tmp_path: Path, encoding: str
) -> None:
    rows = [["N001", "王小明", id_number(50), "SH01", "2025-01-02", "8000"]]
    path = write_csv(tmp_path / "people.csv", ZH_EMPLOYEES, rows, encoding=encoding)

    result = run(ctx, "employees", path)

    assert result.ok, result.issues
    expected = {"gbk": "csv gbk", "utf-8-sig": "csv utf-8-sig", "utf-8": "csv utf-8"}
    assert result.source == expected[encoding]
    names = {row["employee_no"]: row["name"] for row in rows_of(ctx, employees)}
    assert names["N001"] == "王小明"


def test_gbk_is_found_even_after_thousands_of_ascii_lines(tmp_path: Path) -> None:
    rows = [[f"E{n:05d}", "x"] for n in range(5000)] + [["E99999", "张三"]]
    path = write_csv(tmp_path / "late.csv", ["工号", "姓名"], rows, encoding="gbk")

    with open_source(path) as source:
        assert source.encoding == "gbk"
        assert list(source.rows)[-1] == (5002, ("E99999", "张三"))


def test_a_workbook_with_chinese_headers_dates_and_numbers(
    ctx: Context, org: Org, tmp_path: Path
) -> None:
    rows = [
        # As a person's workbook holds them: numbers as numbers, dates as dates, and a month
        # typed as "2026-08" that the spreadsheet turned into the date 2026-08-01.
        [
            "E001",
            datetime(2026, 8, 1),
            12000,
            3120.5,
            1260.25,
            date(2026, 8, 15),
            date(2026, 8, 10),
        ],
        ["E001", "2026-09", 12000.0, 2600.0000000000005, 1260, "2026-09-15", None],
    ]
    path = write_xlsx(tmp_path / "缴费.xlsx", ZH_CONTRIBUTIONS, rows, sheet="九月")

    result = run(ctx, "contributions", path)

    assert result.ok, result.issues
    assert result.source == "xlsx 九月"
    stored = rows_of(ctx, contributions)
    assert [(str(r["period"]), r["employer_amount"], r["paid_date"]) for r in stored] == [
        ("2026-08", Decimal("3120.50"), date(2026, 8, 10)),
        ("2026-09", Decimal("2600.00"), None),
    ]


def test_a_workbook_sheet_is_chosen_by_name(ctx: Context, org: Org, tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.append(["说明：第二个工作表是数据"])
    data = book.create_sheet("数据")
    data.append(ZH_CONTRIBUTIONS)
    data.append(["E001", "2026-08", 12000, 3120, 1260, "2026-08-15", None])
    data.append([])
    data.append([None, None])  # trailing blank rows are skipped, not errors
    book.save(path)

    assert not run(ctx, "contributions", path, dry_run=True).ok  # the first sheet is no table
    chosen = run(ctx, "contributions", path, sheet="数据")
    assert chosen.ok and chosen.rows == 1 and chosen.counts.created == 1
    with pytest.raises(SourceError) as missing:
        run(ctx, "contributions", path, sheet="缴费")
    assert missing.value.usage and missing.value.reason == "no_sheet"


def test_values_under_no_header_are_errors(ctx: Context, org: Org, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "工号,所属期,缴费基数,单位缴费,个人缴费,缴费截止日\n"
        "E001,2026-08,12000,3120,1260,2026-08-15,surprise\n",
        encoding="utf-8",
    )

    result = run(ctx, "contributions", path)

    assert where(result) == {(2, "G", "cell_outside_columns")}


def test_tab_separated_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("工号\t姓名\nE001\t张三, 经理\n", encoding="utf-8")

    with open_source(path) as source:
        assert source.header == ("工号", "姓名")
        assert list(source.rows) == [(2, ("E001", "张三, 经理"))]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls_unsupported"),
        (b"employee_no\n\xff\xfe\xff\n", "unknown_encoding"),
        (b"PK\x03\x04 not really a zip", "bad_xlsx"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "file"
    path.write_bytes(content)

    with pytest.raises(SourceError) as refused:
        open_source(path)

    assert refused.value.reason == reason and not refused.value.usage


def test_sheet_is_for_workbooks_only(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", ["工号"], [["E001"]])

    with pytest.raises(SourceError) as refused:
        open_source(path, sheet="Sheet1")

    assert refused.value.usage
