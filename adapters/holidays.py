"""Mainland China's workdays: public holidays and 调休 make-up workdays from ``chinesecalendar``.

The package (import name ``chinese_calendar``, https://github.com/LKI/chinese-calendar) carries
the State Council's yearly holiday notices as data, from 2004. It is pinned to
``chinesecalendar==1.11.0`` because that is the first release with 2026: 1.10.0 stops at 2025, and
1.11.0 adds the notice of November 2025 (Spring Festival 15–23 Feb 2026, National Day 1–7 Oct
2026, make-up workdays such as Sat 14 Feb, Sun 20 Sep and Sat 10 Oct 2026). Each new year needs a
new release and a new pin.

For a year the package does not cover it raises ``NotImplementedError``; here that becomes
``CalendarNotCovered``, so a deadline is never computed on a guess.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import chinese_calendar

from core.domain.workclock import CalendarNotCovered

PINNED_VERSION = "1.11.0"


@lru_cache(maxsize=8192)
def _is_workday(day: date) -> bool:
    # The package scans all its dates to check the year on every call; clocks ask about the same
    # days again and again, so remember the answers (exceptions are not cached).
    return bool(chinese_calendar.is_workday(day))


class ChineseWorkdays:
    """``WorkdayCalendar`` for the mainland: weekends, public holidays and 调休 workdays."""

    def is_workday(self, day: date) -> bool:
        try:
            return _is_workday(day)
        except NotImplementedError as exc:
            raise CalendarNotCovered(day.year) from exc

    def covered_years(self) -> range:
        """The years the package has data for.

        The package exposes no such function; it decides coverage from the first and last year of
        its ``holidays`` table (exported), so this reads the same table.
        """
        years = {day.year for day in chinese_calendar.holidays}
        return range(min(years), max(years) + 1)
