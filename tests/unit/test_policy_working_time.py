"""Escalation steps counted in working time: on the branch's calendar, in its working hours, with
mainland China's holidays and 调休 make-up workdays (chinesecalendar's real 2025 data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.holidays import ChineseWorkdays
from core.domain.errors import InvalidValue
from core.domain.escalation import EscalationPolicy, default_policy
from core.domain.workclock import (
    CalendarNotCovered,
    DelayUnit,
    WeekendCalendar,
    WorkClock,
    WorkingHours,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINA = WorkClock(ChineseWorkdays(), WorkingHours(), SHANGHAI)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def test_24_working_hours_from_friday_evening_before_national_day() -> None:
    # Opened Friday 2025-09-26 17:00. Level 2 after 24 working hours (9 a day, 09:00-18:00):
    # Fri 1 h, Sun 28 Sep is a 调休 workday 9 h (10), Mon 29 9 h (19), Tue 30 from 09:00 + 5 h.
    # Level 3 after 48: Tue 30 rest 4 h (28); 1-8 Oct holiday; Thu 9 (37), Fri 10 (46),
    # Sat 11 Oct make-up workday 09:00 + 2 h.
    policy = default_policy(0, 24, 48, DelayUnit.WORKING_HOURS)
    opened = local(2025, 9, 26, 17, 0)
    assert policy.schedule(1, opened, CHINA) == [
        (1, opened),
        (2, local(2025, 9, 30, 14, 0)),
        (3, local(2025, 10, 11, 11, 0)),
    ]


def test_working_days_and_a_reopen_counted_from_the_reopening() -> None:
    policy = default_policy(0, 1, 2, DelayUnit.WORKING_DAYS)
    reopened = local(2025, 9, 30, 16, 0)  # the day before National Day
    # From level 2: level 3 one working day later: the end of the next workday, Thu 9 Oct.
    assert policy.schedule(2, reopened, CHINA) == [
        (2, reopened),
        (3, local(2025, 10, 9, 18, 0)),
    ]


def test_calendar_hours_ignore_the_calendar_and_need_no_clock() -> None:
    opened = local(2025, 9, 30, 16, 0)
    assert default_policy().schedule(1, opened)[1] == (2, opened + timedelta(hours=24))


def test_a_working_time_policy_without_a_clock_is_refused() -> None:
    with pytest.raises(InvalidValue, match="needs the branch's clock"):
        default_policy(0, 24, 48, DelayUnit.WORKING_HOURS).schedule(1, local(2025, 1, 6, 9, 0))


def test_levels_of_one_policy_share_one_unit() -> None:
    mixed = default_policy(0, 24, 48, DelayUnit.WORKING_HOURS)
    levels = (mixed.levels[0], default_policy().levels[1], mixed.levels[2])
    with pytest.raises(InvalidValue, match="same unit"):
        EscalationPolicy("mixed", levels)


def test_working_time_policies_survive_their_stored_form_and_calendar_ones_keep_theirs() -> None:
    policy = default_policy(0, 3, 5, DelayUnit.WORKING_DAYS)
    stored = policy.levels_json()
    assert '"delay": "3wd"' in stored
    assert EscalationPolicy.from_json("default", 2, stored).levels == policy.levels
    assert '"after_seconds": 86400' in default_policy().levels_json()


def test_a_year_without_holiday_data_fails_loudly_and_has_a_calendar_fallback() -> None:
    policy = default_policy(0, 24, 48, DelayUnit.WORKING_HOURS)
    opened = local(2031, 3, 3, 10, 0)
    with pytest.raises(CalendarNotCovered, match="2031"):
        policy.schedule(1, opened, CHINA)
    fallback = policy.in_calendar_hours()
    assert fallback.unit is DelayUnit.HOURS
    assert fallback.schedule(1, opened)[2] == (3, opened + timedelta(hours=48))
    days = default_policy(0, 1, 2, DelayUnit.WORKING_DAYS).in_calendar_hours()
    assert [lvl.after for lvl in days.levels] == [timedelta(0), timedelta(1), timedelta(2)]


def test_weekend_calendar_for_organisations_outside_the_mainland() -> None:
    clock = WorkClock(WeekendCalendar(), WorkingHours.parse("08:30-17:30"), SHANGHAI)
    policy = default_policy(0, 9, 18, DelayUnit.WORKING_HOURS)
    opened = local(2025, 10, 3, 12, 0)  # a Friday (a holiday on the mainland calendar)
    assert policy.schedule(1, opened, clock)[1] == (2, local(2025, 10, 6, 12, 0))
