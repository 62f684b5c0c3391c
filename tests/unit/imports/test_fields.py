"""Level 1: one cell at a time, as a CSV (text) or a workbook (numbers, datetimes) holds it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.domain.contributions import DelayReason
from core.domain.directory import Role
from core.domain.periods import Period
from core.imports import fields as f
from core.imports.columns import DELAY_REASONS, ROLES
from core.imports.sources import Cell


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("12000", "12000.00"),
        ("2650.5", "2650.50"),
        ("12.500", "12.50"),
        ("-3.1", "-3.10"),
        (" 7 ", "7.00"),
        ("12,000.50", "12000.50"),
        ("¥1,000", "1000.00"),
        ("￥１２３", "123.00"),
        (3, "3.00"),
        (2650.5, "2650.50"),
        (2600.0000000000005, "2600.00"),
    ],
)
def test_amounts(cell: Cell, amount: str) -> None:
    assert f.money(cell) == Decimal(amount)
    assert str(f.money(cell)) == amount


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("12.505", "too_many_decimals"),
        (0.333, "too_many_decimals"),
        ("abc", "bad_amount"),
        ("1e5", "bad_amount"),
        ("NaN", "bad_amount"),
        ("1_000", "bad_amount"),
        ("12,5", "bad_amount"),
        ("1,2345", "bad_amount"),
        ("99999999999999", "bad_amount"),
        (True, "bad_amount"),
        (date(2026, 1, 1), "bad_amount"),
    ],
)
def test_amounts_refused(cell: Cell, code: str) -> None:
    with pytest.raises(f.FieldError) as refused:
        f.money(cell)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "cell",
    [
        "2026-09-05",
        "2026-9-5",
        "2026/09/05",
        "2026.9.5",
        "2026年9月5日",
        "2026-09-05 00:00:00",
        date(2026, 9, 5),
        datetime(2026, 9, 5),
    ],
)
def test_dates(cell: Cell) -> None:
    assert f.day(cell) == date(2026, 9, 5)


@pytest.mark.parametrize(
    "cell", ["05/09/2026", "2026-02-30", "2026-09", "tomorrow", "20260905", 45000]
)
def test_dates_refused(cell: Cell) -> None:
    with pytest.raises(f.FieldError, match="bad_date"):
        f.day(cell)


@pytest.mark.parametrize(
    "cell", ["2026-09", "2026-9", "2026/09", "2026年9月", "202609", 202609, datetime(2026, 9, 1)]
)
def test_months(cell: Cell) -> None:
    assert f.month(cell) == Period(2026, 9)


@pytest.mark.parametrize("cell", ["2026-13", "2026-00", "09/2026", "Sept", datetime(2026, 9, 15)])
def test_months_refused(cell: Cell) -> None:
    with pytest.raises(f.FieldError, match="bad_period"):
        f.month(cell)


def test_text_from_workbook_numbers_has_no_spurious_decimals() -> None:
    assert f.as_text(1001) == "1001"
    assert f.as_text(1001.0) == "1001"
    assert f.as_text(10.5) == "10.5"
    with pytest.raises(f.FieldError):
        f.as_text(datetime(2026, 1, 1))


def test_identifiers_and_lengths() -> None:
    parse = f.identifier(8)
    assert parse("E-1001.a") == "E-1001.a"
    assert parse("Ｅ１００１") == "E1001"  # full-width, as some input methods type it
    for bad, code in (
        ("-E1", "bad_identifier"),
        ("E 1", "bad_identifier"),
        ("E12345678", "too_long"),
    ):
        with pytest.raises(f.FieldError, match=code):
            parse(bad)
    with pytest.raises(f.FieldError) as long_text:
        f.text(3)("四个汉字")
    assert long_text.value.params == {"max": 3}


def test_id_numbers_are_normalised_then_shape_checked() -> None:
    assert f.id_number(" 11010519491231002x ") == "11010519491231002X"
    for bad in ("1101051949123100", "11010519491231002Y", "A10105194912310021"):
        with pytest.raises(f.FieldError, match="bad_id_number"):
            f.id_number(bad)
    with pytest.raises(f.FieldError, match="id_number_as_number"):
        f.id_number(1.10105194912310e17)  # what a number cell makes of it
    assert f.id_number(110105194912310021) == "110105194912310021"  # an exact integer is fine


def test_choices_accept_chinese_and_folded_spellings() -> None:
    role = f.choice(ROLES)
    assert role("HR Manager") is Role.HR_MANAGER
    assert role("hr-director") is Role.HR_DIRECTOR
    assert role("人事经理") is Role.HR_MANAGER
    assert f.choice(DELAY_REASONS)("财务审批") is DelayReason.FINANCE_APPROVAL
    with pytest.raises(f.FieldError) as refused:
        role("boss")
    assert "hr_manager" in str(refused.value.params["allowed"])


def test_emails_and_phones() -> None:
    assert f.email("a.b@example.com") == "a.b@example.com"
    assert f.phone("+86 138-0000-0000") == "+86 138-0000-0000"
    with pytest.raises(f.FieldError, match="bad_email"):
        f.email("a@b")
    with pytest.raises(f.FieldError, match="bad_phone"):
        f.phone("call me")
