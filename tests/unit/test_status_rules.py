"""The status rules of CONTRACT.md, one row per rule and edge case (pure domain, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.domain.contributions import (
    ContributionRecord,
    MonthState,
    Status,
    evaluate,
)
from core.domain.directory import Employee
from core.domain.periods import Period
from core.ports import ManualClock
from core.services.context import Context, Rules

ON_TIME = "on_time"
LATE = "late"
UNPAID = None
P = MonthState.PAID_ON_TIME
L = MonthState.PAID_LATE
N = MonthState.UNPAID_NOT_DUE
O = MonthState.OVERDUE  # noqa: E741
X = MonthState.NOT_ENROLLED

TODAY = date(2026, 10, 12)
"""Local date of the shared clock: August and September are past their due day, October not."""


def employee(hired: date = date(2020, 3, 1), left: date | None = None) -> Employee:
    return Employee(employee_no="E001", name="张三", branch_id=1, hire_date=hired, leave_date=left)


def record(period: str, paid: str | date | None, due_day: int = 15) -> ContributionRecord:
    month = Period.parse(period)
    due = month.day(due_day)
    if paid == ON_TIME:
        paid_date: date | None = due.replace(day=due.day - 5)
    elif paid == LATE:
        paid_date = date.fromordinal(due.toordinal() + 10)
    else:
        paid_date = paid  # type: ignore[assignment]
    return ContributionRecord(
        employee_id=1,
        period=month,
        base=Decimal("10000.00"),
        employer_amount=Decimal("2650.50"),
        employee_amount=Decimal("1050.25"),
        due_date=due,
        paid_date=paid_date,
    )


# (id, records {period: paid}, today, window, lapse_after, hired, left, expected months, status)
# fmt: off
CASES: list[tuple[Any, ...]] = [
    (
        "all paid on time",
        {"2026-08": ON_TIME, "2026-09": ON_TIME, "2026-10": ON_TIME},
        TODAY, 3, 3, None, None,
        [("2026-08", P), ("2026-09", P), ("2026-10", P)],
        Status.NORMAL,
    ),
    (
        "paid late is still normal",
        {"2026-08": LATE, "2026-09": ON_TIME, "2026-10": ON_TIME},
        TODAY, 3, 3, None, None,
        [("2026-08", L), ("2026-09", P), ("2026-10", P)],
        Status.NORMAL,
    ),
    (
        "current month unpaid before its due date",
        {"2026-08": ON_TIME, "2026-09": ON_TIME, "2026-10": UNPAID},
        TODAY, 3, 3, None, None,
        [("2026-08", P), ("2026-09", P), ("2026-10", N)],
        Status.NORMAL,
    ),
    (
        "one overdue month is delayed",
        {"2026-08": ON_TIME, "2026-09": UNPAID, "2026-10": UNPAID},
        TODAY, 3, 3, None, None,
        [("2026-08", P), ("2026-09", O), ("2026-10", N)],
        Status.DELAYED,
    ),
    (
        "the seed: August and September overdue",
        {"2026-08": UNPAID, "2026-09": UNPAID, "2026-10": UNPAID},
        TODAY, 3, 3, None, None,
        [("2026-08", O), ("2026-09", O), ("2026-10", N)],
        Status.DELAYED,
    ),
    (
        "three consecutive overdue months lapse",
        {"2026-08": UNPAID, "2026-09": UNPAID, "2026-10": UNPAID},
        date(2026, 10, 16), 3, 3, None, None,
        [("2026-08", O), ("2026-09", O), ("2026-10", O)],
        Status.LAPSED,
    ),
    (
        "lapse_after is configurable (2)",
        {"2026-08": UNPAID, "2026-09": UNPAID, "2026-10": UNPAID},
        TODAY, 3, 2, None, None,
        [("2026-08", O), ("2026-09", O), ("2026-10", N)],
        Status.LAPSED,
    ),
    (
        "lapse_after is configurable (4): three in a row only delay",
        {"2026-05": ON_TIME, "2026-06": ON_TIME, "2026-07": ON_TIME, "2026-08": UNPAID,
         "2026-09": UNPAID, "2026-10": UNPAID},
        date(2026, 10, 20), 6, 4, None, None,
        [("2026-05", P), ("2026-06", P), ("2026-07", P), ("2026-08", O), ("2026-09", O),
         ("2026-10", O)],
        Status.DELAYED,
    ),
    (
        "lapse_after is configurable (4): four in a row lapse",
        {"2026-05": ON_TIME, "2026-06": ON_TIME, "2026-07": UNPAID, "2026-08": UNPAID,
         "2026-09": UNPAID, "2026-10": UNPAID},
        date(2026, 10, 20), 6, 4, None, None,
        [("2026-05", P), ("2026-06", P), ("2026-07", O), ("2026-08", O), ("2026-09", O),
         ("2026-10", O)],
        Status.LAPSED,
    ),
    (
        "overdue months that are not consecutive only delay",
        {"2026-05": UNPAID, "2026-06": ON_TIME, "2026-07": UNPAID, "2026-08": ON_TIME,
         "2026-09": UNPAID, "2026-10": ON_TIME},
        TODAY, 6, 3, None, None,
        [("2026-05", O), ("2026-06", P), ("2026-07", O), ("2026-08", P), ("2026-09", O),
         ("2026-10", P)],
        Status.DELAYED,
    ),
    (
        "a past month with no record is not enrolled: lapsed",
        {"2026-08": ON_TIME, "2026-10": ON_TIME},
        TODAY, 3, 3, None, None,
        [("2026-08", P), ("2026-09", X), ("2026-10", P)],
        Status.LAPSED,
    ),
    (
        "current month with no record yet is not due",
        {"2026-08": ON_TIME, "2026-09": ON_TIME},
        TODAY, 3, 3, None, None,
        [("2026-08", P), ("2026-09", P), ("2026-10", N)],
        Status.NORMAL,
    ),
    (
        "no records at all",
        {},
        TODAY, 3, 3, None, None,
        [("2026-08", X), ("2026-09", X), ("2026-10", N)],
        Status.LAPSED,
    ),
    (
        "no records at all, hired this month",
        {},
        TODAY, 3, 3, date(2026, 10, 8), None,
        [("2026-10", N)],
        Status.NORMAL,
    ),
    (
        "hired inside the window: earlier months left out",
        {"2026-09": ON_TIME, "2026-10": UNPAID},
        TODAY, 3, 3, date(2026, 9, 20), None,
        [("2026-09", P), ("2026-10", N)],
        Status.NORMAL,
    ),
    (
        "hired inside the window, first month never enrolled",
        {"2026-10": UNPAID},
        TODAY, 3, 3, date(2026, 9, 20), None,
        [("2026-09", X), ("2026-10", N)],
        Status.LAPSED,
    ),
    (
        "left inside the window: later months left out",
        {"2026-08": ON_TIME, "2026-09": ON_TIME},
        TODAY, 3, 3, None, date(2026, 9, 5),
        [("2026-08", P), ("2026-09", P)],
        Status.NORMAL,
    ),
    (
        "left inside the window with the last month unpaid",
        {"2026-08": ON_TIME, "2026-09": UNPAID},
        TODAY, 3, 3, None, date(2026, 9, 5),
        [("2026-08", P), ("2026-09", O)],
        Status.DELAYED,
    ),
    (
        "records outside employment are ignored",
        {"2026-07": UNPAID, "2026-08": UNPAID, "2026-09": ON_TIME, "2026-10": UNPAID},
        TODAY, 4, 3, date(2026, 9, 1), None,
        [("2026-09", P), ("2026-10", N)],
        Status.NORMAL,
    ),
    (
        "paid on the due date itself is on time",
        {"2026-08": date(2026, 8, 15), "2026-09": date(2026, 9, 16), "2026-10": UNPAID},
        TODAY, 3, 3, None, None,
        [("2026-08", P), ("2026-09", L), ("2026-10", N)],
        Status.NORMAL,
    ),
    (
        "the due date itself is not yet overdue",
        {"2026-08": ON_TIME, "2026-09": ON_TIME, "2026-10": UNPAID},
        date(2026, 10, 15), 3, 3, None, None,
        [("2026-08", P), ("2026-09", P), ("2026-10", N)],
        Status.NORMAL,
    ),
    (
        "the day after the due date is overdue",
        {"2026-08": ON_TIME, "2026-09": ON_TIME, "2026-10": UNPAID},
        date(2026, 10, 16), 3, 3, None, None,
        [("2026-08", P), ("2026-09", P), ("2026-10", O)],
        Status.DELAYED,
    ),
    (
        "six-month self-service window across a year boundary",
        {"2025-10": ON_TIME, "2025-11": ON_TIME, "2025-12": LATE, "2026-01": ON_TIME,
         "2026-02": ON_TIME},
        date(2026, 3, 2), 6, 3, None, None,
        [("2025-10", P), ("2025-11", P), ("2025-12", L), ("2026-01", P), ("2026-02", P),
         ("2026-03", N)],
        Status.NORMAL,
    ),
    (
        "not enrolled outranks overdue",
        {"2026-08": UNPAID, "2026-10": UNPAID},
        date(2026, 10, 20), 3, 5, None, None,
        [("2026-08", O), ("2026-09", X), ("2026-10", O)],
        Status.LAPSED,
    ),
]
# fmt: on


@pytest.mark.parametrize(
    ("records", "today", "months", "lapse_after", "hired", "left", "expected", "status"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_status_rules(
    records: dict[str, Any],
    today: date,
    months: int,
    lapse_after: int,
    hired: date | None,
    left: date | None,
    expected: list[tuple[str, MonthState]],
    status: Status,
) -> None:
    person = employee(hired or date(2020, 3, 1), left)
    report = evaluate(
        person, [record(p, paid) for p, paid in records.items()], today, months, lapse_after
    )
    assert [(str(m.period), m.state) for m in report.months] == expected
    assert report.status is status


def test_month_views_carry_due_and_paid_dates_and_json_follows_the_contract() -> None:
    records = [record("2026-08", UNPAID), record("2026-09", LATE), record("2026-10", UNPAID)]
    report = evaluate(employee(), records, TODAY, 3)
    assert report.to_json() == {
        "employee_no": "E001",
        "status": "delayed",
        "months": [
            {"period": "2026-08", "state": "overdue", "due_date": "2026-08-15", "paid_date": None},
            {
                "period": "2026-09",
                "state": "paid_late",
                "due_date": "2026-09-15",
                "paid_date": "2026-09-25",
            },
            {
                "period": "2026-10",
                "state": "unpaid_not_due",
                "due_date": "2026-10-15",
                "paid_date": None,
            },
        ],
    }
    assert [str(m.period) for m in report.overdue] == ["2026-08"]


def test_a_month_without_a_record_has_no_dates() -> None:
    report = evaluate(employee(), [record("2026-08", ON_TIME)], TODAY, 3)
    assert report.to_json()["months"] == [
        {
            "period": "2026-08",
            "state": "paid_on_time",
            "due_date": "2026-08-15",
            "paid_date": "2026-08-10",
        },
        {"period": "2026-09", "state": "not_enrolled", "due_date": None, "paid_date": None},
        {"period": "2026-10", "state": "unpaid_not_due", "due_date": None, "paid_date": None},
    ]
    assert [str(m.period) for m in report.problem_months] == ["2026-09"]


def test_overdue_then_paid_becomes_paid_late_and_status_recovers() -> None:
    august, september = record("2026-08", UNPAID), record("2026-09", UNPAID)
    before = evaluate(employee(), [august, september], TODAY, 3)
    assert before.status is Status.DELAYED

    august.mark_paid(date(2026, 10, 12))
    september.mark_paid(date(2026, 10, 12))
    after = evaluate(employee(), [august, september], TODAY, 3)
    assert [m.state for m in after.months] == [L, L, N]
    assert after.status is Status.NORMAL


def test_paying_again_keeps_the_first_paid_date() -> None:
    august = record("2026-08", date(2026, 8, 14))
    august.mark_paid(date(2026, 10, 1))
    assert august.paid_date == date(2026, 8, 14)
    assert august.state_on(TODAY) is P


def test_due_day_past_the_month_end_is_clamped() -> None:
    february = record("2026-02", UNPAID, due_day=31)
    assert february.due_date == date(2026, 2, 28)
    assert february.state_on(date(2026, 2, 28)) is N
    assert february.state_on(date(2026, 3, 1)) is O


class _NoStore:
    def put(self, key: str, content: bytes) -> None:
        raise AssertionError("no storage in unit tests")

    def get(self, key: str) -> bytes:
        raise AssertionError("no storage in unit tests")

    def exists(self, key: str) -> bool:
        return False


def _local_today(instant: datetime, tz: str = "Asia/Shanghai") -> date:
    ctx = Context(
        uow=lambda: None,  # type: ignore[arg-type,return-value]
        clock=ManualClock(instant),
        documents=_NoStore(),
        rules=Rules(timezone=ZoneInfo(tz)),
    )
    return ctx.today()


@pytest.mark.parametrize(
    ("instant", "tz", "state"),
    [
        # 2026-10-15 23:59:59 in Shanghai: the due date has not ended yet.
        pytest.param(
            datetime(2026, 10, 15, 15, 59, 59, tzinfo=UTC),
            "Asia/Shanghai",
            N,
            id="shanghai-last-second-of-due-date",
        ),
        # 2026-10-16 00:00 in Shanghai (still the 15th in UTC): overdue.
        pytest.param(
            datetime(2026, 10, 15, 16, 0, tzinfo=UTC),
            "Asia/Shanghai",
            O,
            id="shanghai-midnight-after-due-date",
        ),
        # The same instants read in UTC would give the opposite answer for the first one.
        pytest.param(
            datetime(2026, 10, 15, 23, 59, 59, tzinfo=UTC),
            "UTC",
            N,
            id="utc-last-second-of-due-date",
        ),
        pytest.param(
            datetime(2026, 10, 16, 0, 0, tzinfo=UTC), "UTC", O, id="utc-midnight-after-due-date"
        ),
    ],
)
def test_the_due_date_ends_at_midnight_in_hrbot_timezone(
    instant: datetime, tz: str, state: MonthState
) -> None:
    october = record("2026-10", UNPAID)
    assert october.state_on(_local_today(instant, tz)) is state
