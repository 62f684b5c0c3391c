"""The working-time clock: deadlines and countdowns over China's real 2025/2026 holiday calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.holidays import ChineseWorkdays
from core.domain.errors import InvalidValue
from core.domain.workclock import (
    CalendarNotCovered,
    Delay,
    DelayUnit,
    WeekendCalendar,
    WorkClock,
    WorkingHours,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
CHINA = WorkClock(ChineseWorkdays(), WorkingHours(), SHANGHAI)
WEEKDAYS = WorkClock(WeekendCalendar(), WorkingHours(), SHANGHAI)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


FRIDAY_BEFORE_NATIONAL_DAY = sh(2025, 9, 26, 17)


# -- the calendar data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "works"),
    [
        (date(2025, 9, 28), True),  # Sunday, 调休 make-up workday before National Day
        (date(2025, 10, 11), True),  # Saturday, 调休 make-up workday after it
        (date(2025, 10, 1), False),  # Wednesday, National Day
        (date(2025, 10, 6), False),  # Monday, Mid-autumn inside the Golden Week
        (date(2025, 10, 8), False),  # Wednesday, last day off
        (date(2025, 9, 27), False),  # an ordinary Saturday
        (date(2026, 2, 14), True),  # Saturday, 调休 before Spring Festival 2026
        (date(2026, 2, 16), False),  # Monday, Spring Festival
        (date(2026, 2, 23), False),  # Monday, last day of Spring Festival
        (date(2026, 2, 28), True),  # Saturday, 调休 after it
        (date(2026, 9, 20), True),  # Sunday, 调休 for National Day 2026
        (date(2026, 9, 25), False),  # Friday, Mid-autumn 2026
        (date(2026, 10, 7), False),  # Wednesday, National Day 2026
        (date(2026, 10, 10), True),  # Saturday, 调休 after it
    ],
)
def test_make_up_saturdays_work_and_weekday_holidays_do_not(day: date, works: bool) -> None:
    assert ChineseWorkdays().is_workday(day) is works


def test_the_package_covers_2025_and_2026() -> None:
    years = ChineseWorkdays().covered_years()
    assert 2025 in years and 2026 in years
    assert 2031 not in years


def test_a_year_without_data_is_a_clear_error_never_a_guess() -> None:
    with pytest.raises(CalendarNotCovered, match="2031") as caught:
        ChineseWorkdays().is_workday(date(2031, 1, 2))
    assert caught.value.code == "error.calendar_not_covered"
    assert caught.value.params == {"year": 2031}
    with pytest.raises(CalendarNotCovered, match="2031"):
        CHINA.add(sh(2031, 3, 3, 10), Delay.parse("1wh"))


def test_a_deadline_running_past_the_last_covered_year_fails_loudly() -> None:
    last = max(ChineseWorkdays().covered_years())
    with pytest.raises(CalendarNotCovered, match=str(last + 1)):
        CHINA.add(sh(last, 12, 31, 23), Delay.parse("1wh"))


# -- working hours -----------------------------------------------------------------------------


def test_24_working_hours_from_friday_1700_before_national_day_2025() -> None:
    # Fri 26 Sep 17:00–18:00   1 h   (23 left)
    # Sat 27 Sep               rest
    # Sun 28 Sep  调休 workday  9 h   (14 left)
    # Mon 29 Sep               9 h   (5 left)
    # Tue 30 Sep 09:00 + 5 h → 14:00, before the holiday starts. Without the make-up Sunday it
    # would be Thu 9 Oct 14:00: the 调休 day is what keeps it out of the holiday.
    due = CHINA.add(FRIDAY_BEFORE_NATIONAL_DAY, Delay.parse("24wh"))
    assert due == sh(2025, 9, 30, 14)
    assert due.tzinfo is UTC


def test_48_working_hours_cross_national_day_and_land_on_the_make_up_saturday() -> None:
    # 1 (Fri 26) + 9 (Sun 28, 调休) + 9 (Mon 29) + 9 (Tue 30) = 28 h; Wed 1 – Wed 8 Oct are off;
    # Thu 9 Oct 9 h → 37; Fri 10 Oct 9 h → 46; Sat 11 Oct (调休) 09:00 + 2 h → 11:00.
    assert CHINA.add(FRIDAY_BEFORE_NATIONAL_DAY, Delay.parse("48wh")) == sh(2025, 10, 11, 11)


def test_working_hours_across_national_day_2026() -> None:
    # Wed 30 Sep 10:00–18:00 8 h; 1–7 Oct off; Thu 8 Oct 9 h (17); Fri 9 Oct 9 h (26);
    # Sat 10 Oct (调休) 09:00 + 4 h → 13:00.
    assert CHINA.add(sh(2026, 9, 30, 10), Delay.parse("30wh")) == sh(2026, 10, 10, 13)


def test_a_delay_that_runs_out_at_closing_time_is_due_at_closing_time() -> None:
    assert CHINA.add(sh(2025, 9, 30, 9), Delay.parse("9wh")) == sh(2025, 9, 30, 18)
    assert not CHINA.is_working(sh(2025, 9, 30, 18))
    assert CHINA.is_working(sh(2025, 9, 30, 9))


@pytest.mark.parametrize(
    ("start", "delay", "due"),
    [
        (sh(2025, 9, 30, 20), "1wh", sh(2025, 10, 9, 10)),  # evening before the holiday
        (sh(2025, 10, 5, 12), "2wh", sh(2025, 10, 9, 11)),  # in the middle of the holiday
        (sh(2025, 9, 29, 7), "1wh", sh(2025, 9, 29, 10)),  # early morning
        (sh(2025, 9, 26, 18), "1wh", sh(2025, 9, 28, 10)),  # exactly at closing, Friday
    ],
)
def test_a_start_outside_working_hours_begins_at_the_next_working_moment(
    start: datetime, delay: str, due: datetime
) -> None:
    assert CHINA.add(start, Delay.parse(delay)) == due


def test_next_working_moment() -> None:
    assert CHINA.next_working_moment(sh(2025, 9, 30, 20)) == sh(2025, 10, 9, 9)
    assert CHINA.next_working_moment(sh(2025, 9, 27, 12)) == sh(2025, 9, 28, 9)
    assert CHINA.next_working_moment(sh(2025, 9, 29, 12, 30)) == sh(2025, 9, 29, 12, 30)
    # 18:00 is already after hours: Friday's closing leads to the make-up Sunday's opening.
    assert CHINA.next_working_moment(sh(2025, 9, 26, 18)) == sh(2025, 9, 28, 9)


# -- working days and calendar hours -----------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (FRIDAY_BEFORE_NATIONAL_DAY, 1, sh(2025, 9, 28, 18)),  # the make-up Sunday
        (FRIDAY_BEFORE_NATIONAL_DAY, 3, sh(2025, 9, 30, 18)),
        (FRIDAY_BEFORE_NATIONAL_DAY, 4, sh(2025, 10, 9, 18)),  # over the holiday
        (FRIDAY_BEFORE_NATIONAL_DAY, 6, sh(2025, 10, 11, 18)),  # the make-up Saturday
        (sh(2025, 9, 26, 8), 1, sh(2025, 9, 28, 18)),  # the starting day never counts
        (sh(2025, 10, 3, 10), 1, sh(2025, 10, 9, 18)),  # started on a holiday
        (sh(2026, 2, 13, 17), 2, sh(2026, 2, 24, 18)),  # Sat 14 Feb, then Spring Festival
    ],
)
def test_working_days_end_at_closing_time_of_the_nth_workday_after_the_start_day(
    start: datetime, days: int, due: datetime
) -> None:
    assert CHINA.add(start, Delay(days, DelayUnit.WORKING_DAYS)) == due


def test_calendar_hours_ignore_the_calendar() -> None:
    assert CHINA.add(FRIDAY_BEFORE_NATIONAL_DAY, Delay.parse("24h")) == sh(2025, 9, 27, 17)
    assert CHINA.add(sh(2025, 10, 1, 3), Delay.calendar(48)) == sh(2025, 10, 3, 3)


def test_a_zero_delay_is_due_at_once_in_every_unit() -> None:
    evening = sh(2025, 9, 30, 20)
    for text in ("0h", "0wh", "0wd"):
        assert CHINA.add(evening, Delay.parse(text)) == evening


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(InvalidValue):
        CHINA.add(datetime(2025, 9, 26, 17), Delay.parse("1wh"))


def test_weekend_calendar_knows_no_holidays() -> None:
    # Fri 1 h, Mon 9 h, Tue 9 h, Wed 09:00 + 5 h: National Day means nothing here.
    assert WEEKDAYS.add(FRIDAY_BEFORE_NATIONAL_DAY, Delay.parse("24wh")) == sh(2025, 10, 1, 14)


def test_daylight_saving_is_handled_in_local_wall_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    clock = WorkClock(WeekendCalendar(), WorkingHours(), berlin)
    # Clocks go back on Sun 26 Oct 2025 and forward on Sun 29 Mar 2026: Monday still opens at 09:00.
    autumn = clock.add(datetime(2025, 10, 24, 17, tzinfo=berlin), Delay.parse("2wh"))
    assert autumn == datetime(2025, 10, 27, 9, tzinfo=UTC)  # 10:00 CET
    spring = clock.add(datetime(2026, 3, 27, 17, tzinfo=berlin), Delay.parse("2wh"))
    assert spring == datetime(2026, 3, 30, 8, tzinfo=UTC)  # 10:00 CEST


# -- countdowns --------------------------------------------------------------------------------


def test_working_time_left_skips_the_holiday() -> None:
    # Tue 30 Sep 16:00–18:00 2 h, nothing 1–8 Oct, Thu 9 Oct 09:00–11:00 2 h.
    assert CHINA.working_time_left(sh(2025, 9, 30, 16), sh(2025, 10, 9, 11)) == 4 * H


def test_working_time_left_over_spring_festival_2026() -> None:
    # Fri 13 Feb 17:00–18:00 1 h, Sat 14 Feb (调休) 9 h, 15–23 Feb off, Tue 24 Feb 09:00–10:00 1 h.
    assert CHINA.working_time_left(sh(2026, 2, 13, 17), sh(2026, 2, 24, 10)) == 11 * H


def test_working_time_left_is_zero_once_due() -> None:
    due = sh(2025, 9, 30, 14)
    assert CHINA.working_time_left(due, due) == timedelta(0)
    assert CHINA.working_time_left(due + H, due) == timedelta(0)


def test_the_countdown_agrees_with_the_deadline() -> None:
    due = CHINA.add(FRIDAY_BEFORE_NATIONAL_DAY, Delay.parse("48wh"))
    assert CHINA.working_time_left(FRIDAY_BEFORE_NATIONAL_DAY, due) == 48 * H
    assert CHINA.working_time_left(sh(2025, 10, 9, 9), due) == 20 * H


# -- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "delay", "printed"),
    [
        ("24h", Delay(24, DelayUnit.HOURS), "24h"),
        ("24wh", Delay(24, DelayUnit.WORKING_HOURS), "24wh"),
        ("3wd", Delay(3, DelayUnit.WORKING_DAYS), "3wd"),
        ("1.5wh", Delay(1.5, DelayUnit.WORKING_HOURS), "1.5wh"),
        (" 8 WH ", Delay(8, DelayUnit.WORKING_HOURS), "8wh"),
        ("0h", Delay(0, DelayUnit.HOURS), "0h"),
    ],
)
def test_delay_parse_and_print(text: str, delay: Delay, printed: str) -> None:
    assert Delay.parse(text) == delay
    assert str(delay) == printed


@pytest.mark.parametrize(
    "text",
    ["-3h", "3d", "3 days", "", "h", "wh", "1.5wd", "nanh", "infwh", "1e9h", "24hwh", "x3wd"],
)
def test_delay_refuses_what_is_not_a_delay(text: str) -> None:
    with pytest.raises(InvalidValue):
        Delay.parse(text)


@given(
    st.one_of(
        st.builds(
            Delay,
            st.floats(0, 10_000, allow_nan=False),
            st.sampled_from([DelayUnit.HOURS, DelayUnit.WORKING_HOURS]),
        ),
        st.builds(Delay, st.integers(0, 10_000), st.just(DelayUnit.WORKING_DAYS)),
    )
)
def test_delay_round_trips_through_text(delay: Delay) -> None:
    assert Delay.parse(str(delay)) == delay


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("09:00-18:00", WorkingHours()),
        ("8:30 - 17:30", WorkingHours(time(8, 30), time(17, 30))),
    ],
)
def test_working_hours_parse(text: str, hours: WorkingHours) -> None:
    assert WorkingHours.parse(text) == hours
    assert WorkingHours.parse(str(hours)) == hours


@pytest.mark.parametrize(
    "text", ["18:00-09:00", "09:00-09:00", "25:00-26:00", "9-18", "09:60-18:00"]
)
def test_working_hours_refuse_nonsense(text: str) -> None:
    with pytest.raises(InvalidValue):
        WorkingHours.parse(text)


# -- properties (Monday–Friday calendar, several timezones) ------------------------------------

clocks = st.builds(
    WorkClock,
    st.just(WeekendCalendar()),
    st.sampled_from([WorkingHours(), WorkingHours(time(8, 30), time(17, 30))]),
    st.sampled_from([SHANGHAI, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]),
)
starts = st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
# Quarter hours are exact in binary, so a + b is exactly the sum of the two delays.
amounts = st.integers(1, 4 * 400).map(lambda quarters: quarters / 4)


def wh(amount: float) -> Delay:
    return Delay(amount, DelayUnit.WORKING_HOURS)


@given(clocks, starts, amounts, amounts)
def test_working_hours_add_up(clock: WorkClock, start: datetime, a: float, b: float) -> None:
    assert clock.add(start, wh(a + b)) == clock.add(clock.add(start, wh(a)), wh(b))


@given(clocks, starts, amounts)
def test_the_countdown_from_the_start_is_the_delay(
    clock: WorkClock, start: datetime, amount: float
) -> None:
    assert clock.working_time_left(start, clock.add(start, wh(amount))) == amount * H


@given(clocks, starts, amounts)
def test_deadlines_fall_inside_working_hours_or_at_closing(
    clock: WorkClock, start: datetime, amount: float
) -> None:
    due = clock.add(start, wh(amount))
    local = due.astimezone(clock.tz)
    closing = local.weekday() < 5 and local.time() == clock.hours.end
    assert due > start
    assert clock.is_working(due) or closing


@given(clocks, starts, st.integers(1, 30))
def test_working_days_end_at_closing_of_a_later_workday(
    clock: WorkClock, start: datetime, days: int
) -> None:
    due = clock.add(start, Delay(days, DelayUnit.WORKING_DAYS)).astimezone(clock.tz)
    assert due.weekday() < 5 and due.time() == clock.hours.end
    first = start.astimezone(clock.tz).date() + timedelta(days=1)
    workdays = sum(
        1 for n in range((due.date() - first).days + 1) if (first + timedelta(n)).weekday() < 5
    )
    assert workdays == days
