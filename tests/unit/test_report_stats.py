"""The statistics behind the reports, on lists small enough to check by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.domain.periods import Period
from core.domain.reports import (
    DurationStats,
    growth,
    jsonable,
    main_reason,
    map_reason,
    median,
    one_decimal,
    p90,
    shares,
)

D = Decimal


def test_median_of_an_odd_count_is_the_middle_value() -> None:
    assert median([D(7), D(1), D(3)]) == D(3)


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_values() -> None:
    assert median([D("4"), D("1"), D("2.5"), D("10")]) == D("3.25")


def test_no_values_have_no_median_and_no_p90() -> None:
    assert median([]) is None
    assert p90([]) is None


@pytest.mark.parametrize(
    ("count", "rank"),
    [(1, 1), (2, 2), (5, 5), (9, 9), (10, 9), (11, 10), (20, 18), (21, 19), (30, 27), (100, 90)],
)
def test_p90_is_the_nearest_rank(count: int, rank: int) -> None:
    # Values 1..n shuffled: p90 is the value at position ⌈0.9·n⌉ of the sorted list.
    values = [D(v) for v in reversed(range(1, count + 1))]
    assert p90(values) == D(rank)


def test_p90_of_a_hand_list() -> None:
    # Sorted: 1.5 2 6 12 25; ⌈0.9·5⌉ = 5 → 25.
    assert p90([D(12), D("1.5"), D(25), D(6), D(2)]) == D(25)


def test_one_decimal_rounds_half_up() -> None:
    assert one_decimal(D("4.25")) == D("4.3")
    assert one_decimal(D("10.249")) == D("10.2")
    assert one_decimal(None) is None


def test_shares_are_percentages_with_one_decimal() -> None:
    assert shares({"a": 1, "b": 1, "c": 1}) == {"a": D("33.3"), "b": D("33.3"), "c": D("33.3")}
    assert shares({"x": D("4600"), "y": D("1500"), "z": D("900"), "w": D("1900")}) == {
        "x": D("51.7"),
        "y": D("16.9"),
        "z": D("10.1"),
        "w": D("21.3"),
    }


def test_shares_of_nothing_are_unknown_not_zero() -> None:
    assert shares({"a": 0, "b": 0}) == {"a": None, "b": None}


def test_growth_against_the_month_before() -> None:
    assert growth(D("800.00"), D("1200.00")) == D("50.0")
    assert growth(D("700.00"), D("0.00")) == D("-100.0")
    assert growth(D("0.00"), D("800.00")) is None


@pytest.mark.parametrize(
    ("stored", "reported"),
    [
        ("finance_approval", "finance_approval"),
        ("hr_verification", "hr_verification"),
        ("bureau_system", "bureau"),
        ("bank_failure", "bank"),
        ("data_error", "other"),
        ("other", "other"),
        (None, "other"),
    ],
)
def test_stored_delay_reasons_map_to_report_reasons(stored: str | None, reported: str) -> None:
    assert map_reason(stored) == reported


def test_the_most_frequent_reason_wins_and_ties_go_in_a_fixed_order() -> None:
    assert main_reason({"bureau": 2, "other": 1}) == "bureau"
    assert main_reason({"finance_approval": 1, "bank": 1}) == "finance_approval"
    assert main_reason({"bank": 1, "hr_verification": 1}) == "hr_verification"
    assert main_reason({"other": 3, "bank": 3, "bureau": 3}) == "bureau"


def test_duration_stats_round_for_display_after_computing_exactly() -> None:
    # 2.0, 3.5, 5.0, 10.25 days: median (3.5 + 5.0) / 2 = 4.25 → 4.3; p90 rank 4 → 10.25 → 10.3.
    stats = DurationStats.of("normal", [D(2), D("3.5"), D(5), D("10.25")], unpaid=1)
    assert (stats.paid, stats.median_days, stats.p90_days) == (4, D("4.3"), D("10.3"))
    assert (stats.min_days, stats.max_days, stats.unpaid) == (D("2.0"), D("10.3"), 1)
    empty = DurationStats.of("delayed", [], unpaid=0)
    assert (empty.paid, empty.median_days, empty.max_days) == (0, None, None)


def test_json_is_plain_text_for_money_months_and_dates() -> None:
    data = {"p": Period(2026, 9), "d": date(2026, 10, 12), "m": (D("1.50"), None)}
    assert jsonable(data) == {"p": "2026-09", "d": "2026-10-12", "m": ["1.50", None]}
