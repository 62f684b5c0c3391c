"""The roster rules over a year of a synthetic group: hires, leavers and transfers, many on
month boundaries. Property: every employed person-month is on exactly one branch's roster."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.periods import Period
from core.domain.roster import LineChange, Placement, Rates, build_rosters

YEAR = [Period(2026, month) for month in range(1, 13)]
BRANCHES = (1, 2, 3)
START = date(2025, 11, 1)
RATES = Rates()


def _boundary_days() -> st.SearchStrategy[date]:
    """Days of late 2025 to early 2027, weighted towards the first and last day of a month."""
    offsets = st.integers(min_value=0, max_value=480)
    plain = offsets.map(lambda d: START + timedelta(days=d))
    month = st.integers(min_value=0, max_value=15).map(lambda m: Period(2025, 11).shift(m))
    firsts = month.map(Period.first_day)
    lasts = month.map(Period.last_day)
    return st.one_of(plain, firsts, lasts)


@st.composite
def people(draw: st.DrawFn, employee_id: int) -> Placement:
    hire = draw(_boundary_days())
    leave = draw(st.none() | _later_than(hire, at_least=0))
    moves = sorted(draw(st.lists(_later_than(hire, at_least=1), max_size=3)))
    history = [(hire, draw(st.sampled_from(BRANCHES)))]
    for day in moves:
        if day != history[-1][0]:
            history.append((day, draw(st.sampled_from(BRANCHES))))
    base = draw(st.none() | st.decimals(min_value=3000, max_value=40000, places=2))
    return Placement(employee_id, hire, leave, history[-1][1], base, tuple(history))


def _later_than(day: date, at_least: int) -> st.SearchStrategy[date]:
    """A day ``at_least`` days after ``day`` or later: any day, or a month's first or last."""
    month = st.integers(min_value=1, max_value=14).map(lambda m: Period.of(day).shift(m))
    return st.one_of(
        st.integers(min_value=at_least, max_value=400).map(lambda d: day + timedelta(days=d)),
        month.map(Period.first_day),
        month.map(Period.last_day),
    )


groups = st.integers(min_value=1, max_value=25).flatmap(
    lambda n: st.tuples(*(people(i + 1) for i in range(n)))
)


def _expected_branch(person: Placement, period: Period) -> int | None:
    """Independent restatement: employed in the month → branch on the last employed day."""
    first, last = period.first_day(), period.last_day()
    if person.hire_date > last or (person.leave_date and person.leave_date < first):
        return None
    day = min(last, person.leave_date) if person.leave_date else last
    branch = person.history[0][1]
    for start, where in person.history:
        if start <= day:
            branch = where
    return branch


@settings(max_examples=60, deadline=None)
@given(groups)
def test_every_employed_person_month_is_on_exactly_one_roster(group: tuple[Placement, ...]) -> None:
    for period in YEAR:
        rosters = build_rosters(period, group, RATES)
        seen = Counter(line.employee_id for r in rosters.values() for line in r.lines)
        for person in group:
            expected = _expected_branch(person, period)
            if expected is None:
                assert seen[person.employee_id] == 0
                continue
            assert seen[person.employee_id] == 1
            lines = rosters[expected].lines
            assert any(line.employee_id == person.employee_id for line in lines)


@settings(max_examples=40, deadline=None)
@given(groups)
def test_changes_are_counted_where_they_happen(group: tuple[Placement, ...]) -> None:
    for period in YEAR:
        rosters = build_rosters(period, group, RATES)
        previous = period.shift(-1)
        for person in group:
            now, before = _expected_branch(person, period), _expected_branch(person, previous)
            change = next(
                (
                    line.change
                    for r in rosters.values()
                    for line in r.lines
                    if line.employee_id == person.employee_id
                ),
                None,
            )
            if now is not None and before is None and Period.of(person.hire_date) == period:
                assert change is LineChange.JOINER
            elif now is not None and before is not None and now != before:
                assert change is LineChange.TRANSFER_IN
            else:
                assert change is None
        for branch, roster in rosters.items():
            leavers = sum(
                1
                for p in group
                if _expected_branch(p, previous) == branch and _expected_branch(p, period) is None
            )
            moved_out = sum(
                1
                for p in group
                if _expected_branch(p, previous) == branch
                and _expected_branch(p, period) not in (None, branch)
            )
            assert (roster.leavers, roster.transfers_out) == (leavers, moved_out)


def test_a_leaver_is_on_the_roster_of_the_leaving_month_and_stops_after() -> None:
    person = Placement(1, date(2024, 1, 1), date(2026, 3, 10), 1, Decimal("10000"))
    march = build_rosters(Period(2026, 3), [person], RATES)
    assert [line.employee_id for line in march[1].lines] == [1]
    april = build_rosters(Period(2026, 4), [person], RATES)
    assert april[1].lines == () and april[1].leavers == 1


def test_a_transfer_on_the_first_of_the_month_moves_that_month_to_the_new_branch() -> None:
    history = ((date(2024, 1, 1), 1), (date(2026, 5, 1), 2))
    person = Placement(7, date(2024, 1, 1), None, 2, Decimal("8000"), history)
    april = build_rosters(Period(2026, 4), [person], RATES)
    may = build_rosters(Period(2026, 5), [person], RATES)
    assert [line.employee_id for line in april[1].lines] == [7]
    assert [line.change for line in may[2].lines] == [LineChange.TRANSFER_IN]
    assert may[1].lines == () and may[1].transfers_out == 1


def test_amounts_follow_the_rates_and_a_missing_base_is_reported() -> None:
    rates = Rates(employer=Decimal("0.16"), employee=Decimal("0.08"))
    paid = Placement(1, date(2026, 1, 5), None, 1, Decimal("12345.67"))
    unknown = Placement(2, date(2026, 1, 5), None, 1, None)
    roster = build_rosters(Period(2026, 1), [paid, unknown], rates)[1]
    first = next(line for line in roster.lines if line.employee_id == 1)
    assert (first.employer_amount, first.employee_amount) == (Decimal("1975.31"), Decimal("987.65"))
    assert roster.missing_base == (2,)
    assert roster.count(LineChange.JOINER) == 2
