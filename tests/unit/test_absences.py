"""The absence rules on their own: who may stand in, loops of substitutes, chains of stand-ins."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.domain.absences import Absence, check_dates, find_cycle, may_substitute, stand_in
from core.domain.directory import Role
from core.domain.errors import InvalidValue

NOW = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
A, B, C, D = 1, 2, 3, 4


def away(who: int, first: int, last: int, substitute: int | None) -> Absence:
    return Absence(who, date(2026, 12, first), date(2026, 12, last), substitute, NOW, "slack")


def test_any_hr_role_stands_in_for_hr_and_only_finance_for_finance() -> None:
    assert may_substitute(Role.HR_DIRECTOR, Role.HR)
    assert may_substitute(Role.HR, Role.HR_MANAGER)
    assert may_substitute(Role.FINANCE, Role.FINANCE)
    assert not may_substitute(Role.FINANCE, Role.HR_DIRECTOR)
    assert not may_substitute(Role.HR, Role.FINANCE)
    assert not may_substitute(Role.EMPLOYEE, Role.EMPLOYEE)


def test_an_absence_covers_its_first_and_last_day_and_nothing_once_cancelled() -> None:
    absence = away(A, 1, 7, B)
    assert absence.active_on(date(2026, 12, 1)) and absence.active_on(date(2026, 12, 7))
    assert not absence.active_on(date(2026, 12, 8))
    absence.cancelled_at = NOW
    assert not absence.active_on(date(2026, 12, 3))


def test_dates_must_make_sense() -> None:
    today = date(2026, 10, 12)
    check_dates(today, today, today)
    for first, last in [
        (date(2026, 12, 2), date(2026, 12, 1)),
        (date(2026, 10, 1), date(2026, 10, 11)),
    ]:
        with pytest.raises(InvalidValue):
            check_dates(first, last, today)


def test_loops_are_found_only_when_every_link_shares_a_day() -> None:
    assert find_cycle(A, B, date(2026, 12, 1), date(2026, 12, 7), [away(B, 5, 9, A)]) == [A, B, A]
    assert find_cycle(A, B, date(2026, 12, 1), date(2026, 12, 7), [away(B, 8, 9, A)]) is None
    chain = [away(B, 3, 9, C), away(C, 6, 12, A)]
    assert find_cycle(A, B, date(2026, 12, 1), date(2026, 12, 7), chain) == [A, B, C, A]
    apart = [away(B, 1, 3, C), away(C, 5, 9, A)]  # B's and C's absences share no day
    assert find_cycle(A, B, date(2026, 12, 1), date(2026, 12, 9), apart) is None
    cancelled = away(B, 5, 9, A)
    cancelled.cancelled_at = NOW
    assert find_cycle(A, B, date(2026, 12, 1), date(2026, 12, 7), [cancelled]) is None


def test_the_chain_of_stand_ins_ends_with_whoever_is_present_or_stops_at_a_loop() -> None:
    absences = {A: away(A, 1, 7, B), B: away(B, 1, 7, C), D: away(D, 1, 7, None)}
    assert stand_in(A, absences.get) == [A, B, C]
    assert stand_in(C, absences.get) == [C]
    assert stand_in(D, absences.get) == [D]  # away with nobody: the caller sees D is away
    looped = {A: away(A, 1, 7, B), B: away(B, 1, 7, A)}
    assert stand_in(A, looped.get) == [A, B]
