"""Contribution months (``YYYY-MM``) as a small ordered value type."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from core.domain.errors import InvalidValue

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 2999:
            raise InvalidValue(f"not a month: {self.year}-{self.month:02d}", value=str(self))

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(text.strip())
        if not match:
            raise InvalidValue(f"period must look like YYYY-MM, got {text!r}", value=text)
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def shift(self, months: int) -> Period:
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def day(self, day_of_month: int) -> date:
        """The given day of this month, clamped to its last day (a due day of 31 in February)."""
        return date(self.year, self.month, min(day_of_month, self.last_day().day))


def window(current: Period, months: int) -> list[Period]:
    """The ``months`` most recent periods up to and including ``current``, oldest first."""
    return [current.shift(-offset) for offset in range(months - 1, -1, -1)]
