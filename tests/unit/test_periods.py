"""Contribution months: parsing, ordering, arithmetic and the status window."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.errors import InvalidValue
from core.domain.periods import Period, window

periods = st.builds(Period, st.integers(1900, 2999), st.integers(1, 12))


@pytest.mark.parametrize(
    ("text", "period"),
    [("2026-09", Period(2026, 9)), (" 2026-12 ", Period(2026, 12)), ("1999-01", Period(1999, 1))],
)
def test_parse_and_print(text: str, period: Period) -> None:
    assert Period.parse(text) == period
    assert str(period) == text.strip()


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-9", "26-09", "2026/09", "", "abcd-ef"]
)
def test_parse_refuses_what_is_not_a_month(text: str) -> None:
    with pytest.raises(InvalidValue):
        Period.parse(text)


@pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13), (1899, 12), (3000, 1)])
def test_construction_refuses_impossible_months(year: int, month: int) -> None:
    with pytest.raises(InvalidValue):
        Period(year, month)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-10", 0, "2026-10"),
        ("2026-10", 2, "2026-12"),
        ("2026-11", 3, "2027-02"),
        ("2026-01", -1, "2025-12"),
        ("2026-03", -15, "2024-12"),
        ("2026-12", 12, "2027-12"),
    ],
)
def test_shift(start: str, months: int, expected: str) -> None:
    assert str(Period.parse(start).shift(months)) == expected


@pytest.mark.parametrize(
    ("period", "last"),
    [
        (Period(2024, 2), date(2024, 2, 29)),
        (Period(2026, 2), date(2026, 2, 28)),
        (Period(2026, 4), date(2026, 4, 30)),
        (Period(2026, 12), date(2026, 12, 31)),
        (Period(2999, 12), date(2999, 12, 31)),
        (Period(1900, 1), date(1900, 1, 31)),
    ],
)
def test_first_and_last_day(period: Period, last: date) -> None:
    assert period.first_day() == last.replace(day=1)
    assert period.last_day() == last


@pytest.mark.parametrize(
    ("period", "due_day", "expected"),
    [
        (Period(2026, 9), 15, date(2026, 9, 15)),
        (Period(2026, 2), 31, date(2026, 2, 28)),
        (Period(2024, 2), 30, date(2024, 2, 29)),
        (Period(2026, 4), 31, date(2026, 4, 30)),
    ],
)
def test_due_day_is_clamped_to_the_month(period: Period, due_day: int, expected: date) -> None:
    assert period.day(due_day) == expected


def test_of_and_ordering() -> None:
    assert Period.of(date(2026, 10, 12)) == Period(2026, 10)
    assert Period(2025, 12) < Period(2026, 1) < Period(2026, 2)
    assert sorted([Period(2026, 1), Period(2025, 12)]) == [Period(2025, 12), Period(2026, 1)]
    assert len({Period(2026, 1), Period.parse("2026-01")}) == 1


@pytest.mark.parametrize(
    ("current", "months", "expected"),
    [
        ("2026-10", 3, ["2026-08", "2026-09", "2026-10"]),
        ("2026-02", 6, ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"]),
        ("2026-10", 1, ["2026-10"]),
    ],
)
def test_window_is_oldest_first_and_ends_with_the_current_month(
    current: str, months: int, expected: list[str]
) -> None:
    assert [str(p) for p in window(Period.parse(current), months)] == expected


@given(periods, st.integers(-600, 600))
def test_shift_is_reversible_and_ordered(period: Period, months: int) -> None:
    try:
        moved = period.shift(months)
    except InvalidValue:
        return  # beyond the supported years
    assert moved.shift(-months) == period
    assert (moved > period) == (months > 0)
    assert (moved.year * 12 + moved.month) - (period.year * 12 + period.month) == months


@given(periods)
def test_last_day_is_the_day_before_the_next_month(period: Period) -> None:
    last = period.last_day()
    assert Period.of(last) == period
    assert date.fromordinal(last.toordinal() + 1).day == 1
