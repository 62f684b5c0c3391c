"""Working time: delays in calendar hours, working hours or working days, and countdowns.

A branch works on the workdays of its calendar (weekends, mainland public holidays and the 调休
make-up workdays come from a ``WorkdayCalendar``), inside its working hours, in its timezone.
``WorkClock`` answers "when is this due" and "how much working time is left" with one set of rules,
so a deadline and the countdown shown to people never disagree.

The rules, exactly:

- Working time of a workday is ``[start, end)`` in local wall time (default 09:00–18:00, nine hours;
  no lunch break is deducted). 18:00 itself is not working time: ``is_working`` says no and the
  next working moment after it is the next workday's 09:00.
- ``h`` (calendar hours) ignores the calendar: start + hours.
- ``wh`` (working hours) consumes working time only. A start outside working time (evening,
  weekend, holiday) begins at the next working moment. A delay that runs out exactly at the end of
  a day is due at that day's 18:00, not at the next workday's 09:00: "by the end of today".
- ``wd`` (working days, whole numbers) is due at the end of working hours of the N-th workday
  after the day it started; the starting day never counts, whatever the hour or whether it is a
  workday. This is how periods counted in days work in mainland law (Civil Code art. 201: the
  starting day is not counted; art. 203: where there are business hours the last day ends when
  business stops), and what people mean by "within 3 working days" (三个工作日内). It is not
  24 h or 9 h per day: 1 wd from Friday 17:00 is Monday 18:00, not Monday 17:00.
- A delay of zero in any unit is due at the start itself: "at once" means at once.

Every day's boundaries are built in local wall time and converted with zoneinfo one by one, so the
arithmetic is right in any timezone, with or without daylight saving (China has none). Long delays
move a day at a time, never a minute at a time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from core.domain.errors import DomainError, InvalidValue

MAX_AMOUNT = 10_000
"""More than ten thousand hours or days in an escalation step is a typo, not a policy."""

_SEARCH_DAYS = 366
"""A calendar with no workday for a whole year is broken; say so instead of looping forever."""

_DAY = timedelta(days=1)


class CalendarNotCovered(DomainError):
    """The holiday calendar has no data for a year: never guess, the package needs updating."""

    code = "error.calendar_not_covered"

    def __init__(self, year: int, *, source: str = "chinesecalendar") -> None:
        super().__init__(f"the holiday calendar has no data for {year}: update {source}", year=year)
        self.year = year


class WorkdayCalendar(Protocol):
    def is_workday(self, day: date) -> bool:
        """Whether people work on ``day``; raises ``CalendarNotCovered`` for a year it lacks."""
        ...


class WeekendCalendar:
    """Monday to Friday, no holidays: for tests and for organisations outside the mainland."""

    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5


class DelayUnit(StrEnum):
    HOURS = "h"
    """Calendar hours: the clock on the wall, nights and holidays included."""
    WORKING_HOURS = "wh"
    WORKING_DAYS = "wd"


_DELAY = re.compile(r"^\s*(?P<amount>.+?)\s*(?P<unit>wh|wd|h)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Delay:
    """How long a step waits: ``24h``, ``24wh`` (working hours) or ``3wd`` (working days)."""

    amount: float
    unit: DelayUnit

    def __post_init__(self) -> None:
        amount = float(self.amount)
        if not math.isfinite(amount) or amount < 0:
            raise InvalidValue("a delay must be a number of at least zero", delay=self.amount)
        if amount > MAX_AMOUNT:
            raise InvalidValue(f"a delay must be at most {MAX_AMOUNT}", delay=self.amount)
        unit = DelayUnit(self.unit)
        if unit is DelayUnit.WORKING_DAYS and not amount.is_integer():
            raise InvalidValue("working days must be a whole number", delay=self.amount)
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "unit", unit)

    @classmethod
    def parse(cls, text: str) -> Delay:
        match = _DELAY.match(text)
        if match is None:
            raise InvalidValue("a delay looks like 24h, 24wh or 3wd", delay=text)
        try:
            amount = float(match["amount"])
        except ValueError:
            raise InvalidValue("a delay looks like 24h, 24wh or 3wd", delay=text) from None
        return cls(amount, DelayUnit(match["unit"].lower()))

    @classmethod
    def calendar(cls, hours: float) -> Delay:
        return cls(hours, DelayUnit.HOURS)

    @property
    def span(self) -> timedelta:
        """The amount as a duration; working days have none (their length depends on the day)."""
        if self.unit is DelayUnit.WORKING_DAYS:
            raise InvalidValue("working days are not a fixed duration", delay=str(self))
        return timedelta(hours=self.amount)

    def __str__(self) -> str:
        # repr() is the shortest text that reads back as the same float: the round trip is exact.
        number = str(int(self.amount)) if self.amount.is_integer() else repr(self.amount)
        return f"{number}{self.unit.value}"


_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class WorkingHours:
    """A branch's working hours in local wall time; the end is not working time."""

    start: time = time(9)
    end: time = time(18)

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise InvalidValue("working hours are local wall times, without a timezone")
        if not self.start < self.end:
            raise InvalidValue("working hours must start before they end", hours=str(self))

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        match = _HOURS.match(text)
        if match is None:
            raise InvalidValue("working hours look like 09:00-18:00", hours=text)
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        try:
            return cls(time(h1, m1), time(h2, m2))
        except ValueError:
            raise InvalidValue("working hours look like 09:00-18:00", hours=text) from None

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValue("the work clock needs an aware datetime", moment=str(moment))
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class WorkClock:
    """Deadlines and countdowns in a branch's working time. Every answer is in UTC."""

    calendar: WorkdayCalendar
    hours: WorkingHours
    tz: ZoneInfo

    def _opens(self, day: date) -> datetime:
        return datetime.combine(day, self.hours.start, tzinfo=self.tz).astimezone(UTC)

    def _closes(self, day: date) -> datetime:
        return datetime.combine(day, self.hours.end, tzinfo=self.tz).astimezone(UTC)

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def _next_workday(self, day: date) -> date:
        """The first workday strictly after ``day``."""
        for offset in range(1, _SEARCH_DAYS + 1):
            candidate = day + offset * _DAY
            if self.calendar.is_workday(candidate):
                return candidate
        raise InvalidValue("the calendar has no workday within a year", after=day.isoformat())

    def is_working(self, moment: datetime) -> bool:
        instant = _utc(moment)
        day = self._local_day(instant)
        return self.calendar.is_workday(day) and self._opens(day) <= instant < self._closes(day)

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it is working time, else the next workday's opening."""
        instant = _utc(moment)
        day = self._local_day(instant)
        if self.calendar.is_workday(day):
            if instant < self._opens(day):
                return self._opens(day)
            if instant < self._closes(day):
                return instant
        return self._opens(self._next_workday(day))

    def add(self, start: datetime, delay: Delay) -> datetime:
        """When a step that waits ``delay`` from ``start`` is due (see the module's rules)."""
        begin = _utc(start)
        if delay.amount == 0:
            return begin
        if delay.unit is DelayUnit.HOURS:
            return begin + delay.span
        if delay.unit is DelayUnit.WORKING_HOURS:
            return self._add_working_time(begin, delay.span)
        return self._add_working_days(begin, int(delay.amount))

    def _add_working_time(self, begin: datetime, left: timedelta) -> datetime:
        current = self.next_working_moment(begin)
        while True:
            day = self._local_day(current)
            available = self._closes(day) - current
            # "<=" makes a delay that runs out exactly at closing time due at closing time.
            if left <= available:
                return current + left
            left -= available
            current = self._opens(self._next_workday(day))

    def _add_working_days(self, begin: datetime, days: int) -> datetime:
        day = self._local_day(begin)
        for _ in range(days):
            day = self._next_workday(day)
        return self._closes(day)

    def working_time_left(self, now: datetime, due: datetime) -> timedelta:
        """Working time from ``now`` until ``due``; zero once ``due`` has come."""
        start, end = _utc(now), _utc(due)
        total = timedelta(0)
        if end <= start:
            return total
        day, last = self._local_day(start), self._local_day(end)
        while day <= last:
            if self.calendar.is_workday(day):
                overlap = min(self._closes(day), end) - max(self._opens(day), start)
                total += max(overlap, timedelta(0))
            day += _DAY
        return total
