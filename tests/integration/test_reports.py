"""The analytics reports on small fixed data sets, every figure worked out by hand below.

Today is 2026-10-12 in Shanghai (the ``ctx`` clock); branches SH01 (due day 15), BJ01 (due day
20) and GZ01 (no data). Timestamps are UTC; months are Shanghai months (UTC+8).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.domain.audit import AuditEntry
from core.domain.claims import Claim, ClaimState, ClaimType
from core.domain.contributions import ContributionRecord, DelayReason
from core.domain.directory import Branch, Department, Employee
from core.domain.errors import NotFound
from core.domain.escalation import Alert, AlertState, EscalationStep, StepState, SubjectKind
from core.domain.periods import Period
from core.services import reports
from core.services.context import Context
from tests.factories import add_branch, add_employee

D = Decimal
R = DelayReason


def utc(month: int, day: int, hour: float = 0) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC) + timedelta(hours=hour)


def pay(
    ctx: Context,
    person: Employee,
    period: str,
    paid: date | None,
    reason: DelayReason | None = None,
    *,
    due_day: int = 15,
    employer: str = "1000.00",
    employee: str = "400.00",
) -> None:
    month = Period.parse(period)
    with ctx.uow() as uow:
        uow.contributions.add(
            ContributionRecord(
                employee_id=person.id,
                period=month,
                base=D("5000.00"),
                employer_amount=D(employer),
                employee_amount=D(employee),
                due_date=month.day(due_day),
                paid_date=paid,
                delay_reason=reason,
            )
        )
        uow.commit()


def branches(ctx: Context) -> tuple[Branch, Branch, Branch]:
    return (
        add_branch(ctx, "SH01", "上海分公司", 15),
        add_branch(ctx, "BJ01", "北京分公司", 20),
        add_branch(ctx, "GZ01", "广州分公司", 20),
    )


# Delays ------------------------------------------------------------------------------------


@pytest.fixture
def late_payments(ctx: Context) -> tuple[Branch, Branch]:
    sh, bj, _ = branches(ctx)
    a, b, c = (add_employee(ctx, sh, f"S{i}", f"上海{i}") for i in (1, 2, 3))
    d, e = (add_employee(ctx, bj, f"B{i}", f"北京{i}") for i in (1, 2))
    # F now works in Beijing: her months count for Beijing, whoever paid them then.
    f = add_employee(ctx, bj, "B3", "北京3")
    pay(ctx, a, "2026-04", date(2026, 4, 25), R.OTHER)  # before the window
    # SH01 2026-05: on time, one paid on its due date exactly → not overdue.
    pay(ctx, a, "2026-05", date(2026, 5, 10))
    pay(ctx, b, "2026-05", date(2026, 5, 15))
    pay(ctx, c, "2026-05", date(2026, 5, 1))
    # SH01 2026-06: 2 late (10 and 3 days), finance 1 vs bank 1 → tie → finance_approval.
    pay(ctx, a, "2026-06", date(2026, 6, 25), R.FINANCE_APPROVAL)
    pay(ctx, b, "2026-06", date(2026, 6, 18), R.BANK_FAILURE)
    pay(ctx, c, "2026-06", date(2026, 6, 10))
    # SH01 2026-07: 3 late (5, 1, 7 days), bureau 2 vs other (no reason) 1 → bureau.
    pay(ctx, a, "2026-07", date(2026, 7, 20), R.BUREAU_SYSTEM)
    pay(ctx, b, "2026-07", date(2026, 7, 16), R.BUREAU_SYSTEM)
    pay(ctx, c, "2026-07", date(2026, 7, 22))
    # SH01 2026-09: one unpaid since 09-15 → 10-12 − 09-15 = 27 days, data_error → other.
    pay(ctx, a, "2026-09", None, R.DATA_ERROR)
    pay(ctx, b, "2026-09", date(2026, 9, 10))
    pay(ctx, c, "2026-09", date(2026, 9, 10))
    # SH01 2026-10: unpaid but due 10-15, after today → not overdue.
    for person in (a, b, c):
        pay(ctx, person, "2026-10", None)
    # BJ01 2026-06: F paid 5 days late (due 06-15), reason other.
    pay(ctx, f, "2026-06", date(2026, 6, 20), R.OTHER)
    # BJ01 2026-08: 5 days late + unpaid since 08-20 (53 days); hr 1 vs bank 1 → hr_verification.
    pay(ctx, d, "2026-08", date(2026, 8, 25), R.HR_VERIFICATION, due_day=20)
    pay(ctx, e, "2026-08", None, R.BANK_FAILURE, due_day=20)
    for person in (d, e):
        pay(ctx, person, "2026-09", date(2026, 9, 19), due_day=20)
        pay(ctx, person, "2026-10", None, due_day=20)  # due 10-20: not yet
    return sh, bj


FIRST, LAST = Period(2026, 5), Period(2026, 10)


def test_overdue_branch_months_with_people_days_and_reason(
    ctx: Context, late_payments: tuple[Branch, Branch]
) -> None:
    overdue, _ = reports.delays(ctx, FIRST, LAST, None).tables()
    assert overdue.columns[:3] == ("branch_code", "branch_name", "period")
    assert overdue.rows == [
        ("BJ01", "北京分公司", "2026-06", 1, 5, "other"),
        ("BJ01", "北京分公司", "2026-08", 2, 53, "hr_verification"),
        ("SH01", "上海分公司", "2026-06", 2, 10, "finance_approval"),
        ("SH01", "上海分公司", "2026-07", 3, 7, "bureau"),
        ("SH01", "上海分公司", "2026-09", 1, 27, "other"),
    ]


def test_reason_counts_and_shares_per_branch_and_for_the_group(
    ctx: Context, late_payments: tuple[Branch, Branch]
) -> None:
    _, reasons = reports.delays(ctx, FIRST, LAST, None).tables()
    # Reasons in order finance_approval, hr_verification, bureau, bank, other; counts then %.
    # BJ01: months 06, 08, 09, 10 = 4; overdue 06 (other), 08 (hr) → 50 / 50.
    # SH01: months 05, 06, 07, 09, 10 = 5; overdue 3, one each finance, bureau, other → 33.3.
    # Group: 4 + 0 + 5 = 9 months; 5 overdue: 1, 1, 1, 0, 2 → 20, 20, 20, 0, 40.
    none = (None,) * 5
    assert reasons.rows == [
        ("BJ01", "北京分公司", 4, 2, 0, 1, 0, 0, 1, D(0), D(50), D(0), D(0), D(50)),
        ("GZ01", "广州分公司", 0, 0, 0, 0, 0, 0, 0, *none),
        ("SH01", "上海分公司", 5, 3, 1, 0, 1, 0, 1, D("33.3"), D(0), D("33.3"), D(0), D("33.3")),
        ("TOTAL", "全集团", 9, 5, 1, 1, 1, 0, 2, D(20), D(20), D(20), D(0), D(40)),
    ]


def test_delays_only_in_scope_and_in_the_window(
    ctx: Context, late_payments: tuple[Branch, Branch]
) -> None:
    sh, _ = late_payments
    report = reports.delays(ctx, Period(2026, 7), LAST, {sh.id})
    assert [b.branch_code for b in report.branches] == ["SH01"]
    # From July: SH01 months 07, 09, 10; overdue 07 (bureau) and 09 (other).
    (branch,) = report.branches
    assert [str(m.period) for m in branch.overdue] == ["2026-07", "2026-09"]
    assert (report.group.months, report.group.overdue_months, report.group.overdue) == (3, 2, ())
    assert report.group.shares == {
        "finance_approval": D(0),
        "hr_verification": D(0),
        "bureau": D(50),
        "bank": D(0),
        "other": D(50),
    }
    data = json.loads(json.dumps(report.to_json()))
    assert data["report"] == "delays"
    assert (data["first"], data["last"], data["today"]) == ("2026-07", "2026-10", "2026-10-12")
    assert data["group"]["shares"]["bureau"] == "50.0"


def test_delays_charts_hints(ctx: Context, late_payments: tuple[Branch, Branch]) -> None:
    report = reports.delays(ctx, FIRST, LAST, None)
    months, late = report.late_people_chart()
    assert months == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert late[0] == ("BJ01", [0.0, 1.0, 0.0, 2.0, 0.0, 0.0])
    assert report.overdue_chart() == (["BJ01", "GZ01", "SH01"], [("overdue_months", [2, 0, 3])])
    codes, by_reason = report.reason_chart()
    assert codes == ["BJ01", "SH01"]
    assert dict(by_reason)["other"] == [1.0, 1.0]


def test_unknown_branch_code_is_named(ctx: Context) -> None:
    sh, bj, _ = branches(ctx)
    assert reports.branch_ids_for_codes(ctx, ["BJ01", "SH01"]) == {sh.id, bj.id}
    with pytest.raises(NotFound, match="XX99"):
        reports.branch_ids_for_codes(ctx, ["SH01", "XX99"])


def test_default_window_is_the_twelve_months_up_to_this_one(ctx: Context) -> None:
    assert reports.default_window(ctx) == (Period(2025, 11), Period(2026, 10))


# Durations ---------------------------------------------------------------------------------


def claim(
    ctx: Context,
    person: Employee,
    submitted: datetime | None,
    hours: float | None,
    state: ClaimState = ClaimState.PAID,
    *,
    held: bool = False,
) -> None:
    paid = submitted + timedelta(hours=hours) if submitted and hours is not None else None
    with ctx.uow() as uow:
        made = Claim(
            employee_id=person.id,
            claim_type=ClaimType.HOSPITALIZATION,
            created_at=submitted or utc(9, 1),
            state=state,
            submitted_at=submitted,
            paid_at=paid,
        )
        uow.claims.add(made)
        uow.flush()
        actions = ["claim.submit", "claim.hold"] if held else ["claim.submit"]
        for action in actions:
            uow.audit.add(
                AuditEntry(
                    at=made.created_at, action=action, subject_kind="claim", subject_id=made.id
                )
            )
        uow.commit()


@pytest.fixture
def payouts(ctx: Context) -> Branch:
    sh, bj, _ = branches(ctx)
    a, d = add_employee(ctx, sh, "S1", "上海1"), add_employee(ctx, bj, "B1", "北京1")
    # Normal, paid: 2.0 (submitted 05-01 01:00 local), 3.5, 5.0, 10.25 days (BJ01).
    claim(ctx, a, utc(4, 30, 17), 48)
    claim(ctx, a, utc(6, 1), 84)
    claim(ctx, a, utc(7, 1), 120)
    claim(ctx, d, utc(8, 1), 246)
    claim(ctx, a, utc(9, 1), None, ClaimState.UNDER_REVIEW)  # waiting: counted as unpaid
    claim(ctx, a, utc(9, 2), None, ClaimState.REJECTED)  # will never be paid: not counted
    claim(ctx, a, None, None, ClaimState.DRAFT)  # never submitted
    claim(ctx, a, utc(4, 30, 15), 1)  # 04-30 23:00 local: before the window
    claim(ctx, a, utc(10, 31, 16), 1)  # 11-01 00:00 local: after it
    # Delayed (held for unpaid contributions), paid: 30 days, 12 days (BJ01); one still held.
    claim(ctx, a, utc(6, 10), 720, held=True)
    claim(ctx, d, utc(9, 10), 288, held=True)
    claim(ctx, a, utc(10, 1), None, ClaimState.ON_HOLD, held=True)
    return sh


def test_payout_days_for_normal_and_delayed_claims(ctx: Context, payouts: Branch) -> None:
    (table,) = reports.durations(ctx, FIRST, LAST, None).tables()
    assert table.columns == (
        "group",
        "paid_claims",
        "median_days",
        "p90_days",
        "min_days",
        "max_days",
        "unpaid_claims",
    )
    # Normal: 2.0 3.5 5.0 10.25 → median 4.25 → 4.3; p90 rank ⌈3.6⌉ = 4 → 10.25 → 10.3.
    # Delayed: 12 30 → median 21; p90 rank ⌈1.8⌉ = 2 → 30.
    assert table.rows == [
        ("normal", 4, D("4.3"), D("10.3"), D("2.0"), D("10.3"), 1),
        ("delayed", 2, D("21.0"), D("30.0"), D("12.0"), D("30.0"), 1),
    ]


def test_payout_days_in_scope(ctx: Context, payouts: Branch) -> None:
    (table,) = reports.durations(ctx, FIRST, LAST, {payouts.id}).tables()
    # SH01 only: normal 2.0 3.5 5.0 → median 3.5, p90 rank ⌈2.7⌉ = 3 → 5.0; delayed 30.
    assert table.rows == [
        ("normal", 3, D("3.5"), D("5.0"), D("2.0"), D("5.0"), 1),
        ("delayed", 1, D("30.0"), D("30.0"), D("30.0"), D("30.0"), 1),
    ]


# Costs -------------------------------------------------------------------------------------


def staff(ctx: Context, branch: Branch, no: str, department: str | None, hired: date) -> Employee:
    person = add_employee(ctx, branch, no, no, hire_date=hired)
    if department is None:
        return person
    with ctx.uow() as uow:
        found = uow.directory.department(branch.id, department)
        if found is None:
            found = Department(branch_id=branch.id, name=department)
            uow.directory.add(found)
            uow.flush()
        uow.directory.employee(person.id).department_id = found.id
        uow.commit()
    return person


def months_of(ctx: Context, person: Employee, periods: Iterable[str], er: str, ee: str) -> None:
    for period in periods:
        pay(ctx, person, period, date(2026, 1, 1), employer=er, employee=ee)


@pytest.fixture
def payroll(ctx: Context) -> Branch:
    sh, bj, _ = branches(ctx)
    old = date(2020, 3, 1)
    months_of(
        ctx,
        staff(ctx, sh, "A", "销售部", old),
        ["2026-06", "2026-07", "2026-08", "2026-09"],
        "1000.00",
        "400.00",
    )
    months_of(
        ctx,
        staff(ctx, sh, "B", "财务部", old),
        ["2026-07", "2026-08", "2026-09"],
        "500.00",
        "200.00",
    )
    months_of(
        ctx,
        staff(ctx, sh, "N1", "销售部", date(2026, 8, 31)),
        ["2026-08", "2026-09"],
        "800.00",
        "300.00",
    )
    months_of(
        ctx, staff(ctx, bj, "N2", "销售部", date(2026, 9, 1)), ["2026-09"], "1200.00", "500.00"
    )
    months_of(
        ctx, staff(ctx, sh, "X", None, old), ["2026-07", "2026-08", "2026-09"], "300.00", "100.00"
    )
    months_of(
        ctx,
        staff(ctx, bj, "N0", "销售部", date(2026, 6, 15)),
        ["2026-06", "2026-07"],
        "700.00",
        "250.00",
    )
    months_of(ctx, staff(ctx, sh, "Z", None, date(2026, 10, 1)), ["2026-10"], "999.00", "1.00")
    return bj


def test_employer_cost_per_department_with_shares(ctx: Context, payroll: Branch) -> None:
    departments, _ = reports.costs(ctx, Period(2026, 7), Period(2026, 9), None).tables()
    # July–September: BJ01 销售部 N2 1200 + N0 700 = 1900 (employee 500 + 250);
    # SH01 财务部 B 3 × 500; 销售部 A 3 × 1000 + N1 2 × 800 = 4600; no department X 3 × 300.
    # Total 8900: shares 21.35 → 21.3, 16.85 → 16.9, 51.69 → 51.7, 10.11 → 10.1 (sum 100.0).
    assert departments.rows == [
        ("BJ01", "销售部", 2, D("1900.00"), D("750.00"), D("21.3")),
        ("SH01", "财务部", 1, D("1500.00"), D("600.00"), D("16.9")),
        ("SH01", "销售部", 2, D("4600.00"), D("1800.00"), D("51.7")),
        ("SH01", "(无部门)", 1, D("900.00"), D("300.00"), D("10.1")),
        ("TOTAL", "全集团", 6, D("8900.00"), D("3450.00"), D("100.0")),
    ]


def test_new_hire_cost_and_its_growth_month_on_month(ctx: Context, payroll: Branch) -> None:
    _, hires = reports.costs(ctx, Period(2026, 7), Period(2026, 9), None).tables()
    # June (before the window): N0's first month 700. July: nobody new → −100%.
    # August: N1 (hired 08-31) 800, growth unknown after 0. September: N2 1200 → +50%.
    assert hires.rows == [
        ("2026-07", 0, D("0.00"), D("-100.0")),
        ("2026-08", 1, D("800.00"), None),
        ("2026-09", 1, D("1200.00"), D("50.0")),
    ]


def test_costs_in_scope(ctx: Context, payroll: Branch) -> None:
    report = reports.costs(ctx, Period(2026, 7), Period(2026, 9), {payroll.id})
    departments, hires = report.tables()
    assert departments.rows[0] == ("BJ01", "销售部", 2, D("1900.00"), D("750.00"), D("100.0"))
    assert [row[1:] for row in hires.rows] == [
        (0, D("0.00"), D("-100.0")),
        (0, D("0.00"), None),
        (1, D("1200.00"), None),
    ]
    assert json.loads(json.dumps(report.to_json()))["employer"] == "1900.00"


# Escalations -------------------------------------------------------------------------------


def alert(
    ctx: Context,
    branch: Branch,
    opened: datetime,
    hours: float | None,
    steps: Iterable[tuple[int, StepState, datetime | None]] = (),
    state: AlertState | None = None,
) -> None:
    acked = opened + timedelta(hours=hours) if hours is not None else None
    with ctx.uow() as uow:
        made = Alert(
            subject_kind=SubjectKind.CONTRIBUTION_BATCH,
            subject_id=1,
            branch_id=branch.id,
            opened_at=opened,
            policy_name="default",
            policy_version=1,
            state=state or (AlertState.ACKNOWLEDGED if acked else AlertState.OPEN),
            acknowledged_at=acked,
        )
        uow.alerts.add(made)
        uow.flush()
        for level, step_state, fired in steps:
            uow.alerts.add(
                EscalationStep(
                    alert_id=made.id,
                    level=level,
                    due_at=fired or opened,
                    state=step_state,
                    fired_at=fired,
                )
            )
        uow.commit()


FIRED, SKIPPED, CANCELLED = StepState.FIRED, StepState.SKIPPED, StepState.CANCELLED


@pytest.fixture
def acknowledgements(ctx: Context) -> Branch:
    sh, bj, _ = branches(ctx)
    # SH01, window September–October (from 08-31 16:00 UTC = 09-01 00:00 local):
    alert(ctx, sh, utc(8, 31, 16.5), 6, [(1, FIRED, utc(8, 31, 16.5)), (2, CANCELLED, None)])
    alert(ctx, sh, utc(9, 2), 30, [(1, FIRED, utc(9, 2)), (2, FIRED, utc(9, 3))])  # level 2
    alert(ctx, sh, utc(9, 5), 12, [(1, FIRED, utc(9, 5))])
    alert(
        ctx,
        sh,
        utc(9, 10),
        51,
        [(1, FIRED, utc(9, 10)), (2, FIRED, utc(9, 11)), (3, FIRED, utc(9, 12))],
    )
    alert(ctx, sh, utc(9, 15), 1.5)  # no step fired: level 1
    # Level 2 fired after the acknowledgement, level 3 skipped (nobody to tell): level 1.
    alert(
        ctx,
        sh,
        utc(9, 20),
        25,
        [(1, FIRED, utc(9, 20)), (2, FIRED, utc(9, 21, 2)), (3, SKIPPED, utc(9, 20, 12))],
    )
    alert(ctx, sh, utc(9, 25), None)  # still open
    alert(ctx, sh, utc(9, 26), None, state=AlertState.RESOLVED)  # resolved unacknowledged
    alert(ctx, sh, utc(8, 31, 15), 2)  # 08-31 23:00 local: before the window
    alert(ctx, bj, utc(10, 1), 2, [(1, FIRED, utc(10, 1))])
    alert(ctx, bj, utc(10, 5), None)
    return bj


def test_hours_to_acknowledge_per_branch_and_level(ctx: Context, acknowledgements: Branch) -> None:
    acked, waiting = reports.escalations(ctx, Period(2026, 9), LAST, None).tables()
    # SH01 level 1: 1.5 6 12 25 → median (6 + 12) / 2 = 9; p90 rank ⌈3.6⌉ = 4 → 25.
    # Group level 1 adds BJ01's 2: 1.5 2 6 12 25 → median 6; p90 rank ⌈4.5⌉ = 5 → 25.
    assert acked.rows == [
        ("BJ01", "北京分公司", 1, 1, D("2.0"), D("2.0")),
        ("SH01", "上海分公司", 1, 4, D("9.0"), D("25.0")),
        ("SH01", "上海分公司", 2, 1, D("30.0"), D("30.0")),
        ("SH01", "上海分公司", 3, 1, D("51.0"), D("51.0")),
        ("TOTAL", "全集团", 1, 5, D("6.0"), D("25.0")),
        ("TOTAL", "全集团", 2, 1, D("30.0"), D("30.0")),
        ("TOTAL", "全集团", 3, 1, D("51.0"), D("51.0")),
    ]
    assert waiting.rows == [
        ("BJ01", "北京分公司", 1),
        ("GZ01", "广州分公司", 0),
        ("SH01", "上海分公司", 1),
        ("TOTAL", "全集团", 2),
    ]


def test_escalations_in_scope(ctx: Context, acknowledgements: Branch) -> None:
    report = reports.escalations(ctx, Period(2026, 9), LAST, {acknowledgements.id})
    acked, waiting = report.tables()
    assert [row[0] for row in acked.rows] == ["BJ01", "TOTAL"]
    assert waiting.rows == [("BJ01", "北京分公司", 1), ("TOTAL", "全集团", 1)]
    assert json.loads(json.dumps(report.to_json()))["group"][0]["median_hours"] == "2.0"
