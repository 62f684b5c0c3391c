"""The HR dashboard's read side on a small fixed group: progress, people, alerts and claims.

Today is 2026-10-12 (Shanghai); the status window is 2026-08 to 2026-10.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, event

from core.domain.batches import BatchState, ContributionBatch
from core.domain.contributions import DelayReason
from core.domain.directory import Branch, Employee, Role
from core.domain.errors import InvalidValue, NotFound
from core.domain.escalation import SubjectKind
from core.ports import ManualClock
from core.services.alerts import acknowledge_alert, open_alert, resolve_alert, sweep_escalations
from core.services.claims import approve_claim, record_payout, submit_claim
from core.services.context import Context
from core.services.dashboard import (
    alert_detail,
    alert_list,
    branch_page,
    claim_detail,
    claim_list,
    overview,
    scope_for,
)
from core.services.status import check_status
from tests.factories import (
    EMPLOYEE,
    EMPLOYER,
    Org,
    add_employee,
    add_records,
    make_batch,
    make_org,
    open_complete_claim,
)

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
WINDOW = ["2026-08", "2026-09", "2026-10"]
LINE = EMPLOYER + EMPLOYEE  # 3700.75 a person a month


@dataclass
class Group:
    orgs: dict[str, Org]
    extra: dict[str, Employee]

    def id(self, code: str) -> int:
        return self.orgs[code].branch.id


def set_region(ctx: Context, branch: Branch, region: str) -> None:
    with ctx.uow() as uow:
        uow.directory.branch(branch.id).region = region
        uow.commit()


def move_batch(ctx: Context, batch_id: int, event_name: str) -> None:
    with ctx.uow() as uow:
        uow.batches.get(batch_id).move(event_name)
        uow.commit()


def staff_paid(ctx: Context, org: Org) -> None:
    """HR, finance, manager and director paid on time all window (they are employees too)."""
    for person in (org.hr, org.finance, org.hr_manager, org.hr_director):
        assert person is not None
        add_records(ctx, person, WINDOW)


def shanghai_people(ctx: Context, sh: Org) -> dict[str, Employee]:
    """SH01's month is paid; its people stand every way the status rules allow."""
    staff_paid(ctx, sh)
    extra = {
        "E002": add_employee(ctx, sh.branch, "SH01-E002", "孙八"),
        "E003": add_employee(ctx, sh.branch, "SH01-E003", "周九", leave_date=date(2026, 9, 30)),
        "E004": add_employee(ctx, sh.branch, "SH01-E004", "吴十"),
        "E005": add_employee(ctx, sh.branch, "SH01-E005", "郑一", hire_date=date(2026, 10, 1)),
        "E006": add_employee(ctx, sh.branch, "SH01-E006", "冯二", hire_date=date(2026, 11, 1)),
        "E007": add_employee(ctx, sh.branch, "SH01-E007", "陈三", leave_date=date(2026, 6, 30)),
    }
    add_records(ctx, sh.employee, WINDOW, unpaid=WINDOW)  # Aug and Sep overdue: delayed
    add_records(ctx, extra["E002"], ["2026-07", *WINDOW], unpaid=["2026-07"])  # before window
    add_records(ctx, extra["E003"], ["2026-08", "2026-09"], unpaid=["2026-09"])  # left, delayed
    add_records(ctx, extra["E004"], ["2026-08", "2026-10"])  # September missing: lapsed
    add_records(ctx, extra["E007"], ["2026-05", "2026-06"], unpaid=["2026-06"])
    paid = make_batch(ctx, sh, "2026-10", BatchState.SUBMITTED)
    move_batch(ctx, paid, "pay")
    return extra


def second_version(ctx: Context, bj: Org) -> None:
    """BJ01's first batch went back to HR; version 2 now waits for finance."""
    add_records(ctx, bj.employee, ["2026-10"], due_day=20)
    first = make_batch(ctx, bj, "2026-10")
    with ctx.uow() as uow:
        uow.batches.get(first).move("return")
        uow.batches.add(
            ContributionBatch(
                branch_id=bj.branch.id,
                period=uow.batches.get(first).period,
                due_date=date(2026, 10, 20),
                created_at=T0,
                state=BatchState.FINANCE_PENDING,
                version=2,
                total_employer=EMPLOYER,
                total_employee=EMPLOYEE,
            )
        )
        uow.commit()


@pytest.fixture
def group(ctx: Context) -> Group:
    """Six branches, one per way a month can stand on 2026-10-12."""
    days = [("SH01", 15), ("BJ01", 20), ("GZ01", 10), ("SZ01", 25), ("CD01", 5), ("WH01", 31)]
    orgs = {code: make_org(ctx, code=code, due_day=day) for code, day in days}
    regions = [("SH01", "华东"), ("BJ01", "华北"), ("GZ01", "华南"), ("SZ01", "华南")]
    for code, region in [*regions, ("CD01", "西南")]:  # WH01 has none on file
        set_region(ctx, orgs[code].branch, region)
    extra = shanghai_people(ctx, orgs["SH01"])
    second_version(ctx, orgs["BJ01"])
    add_records(ctx, orgs["GZ01"].employee, ["2026-09"], unpaid=["2026-09"], due_day=10)
    make_batch(ctx, orgs["GZ01"], "2026-10")  # still a draft, due on the 10th: late
    failed = make_batch(ctx, orgs["WH01"], "2026-10", BatchState.APPROVED)
    move_batch(ctx, failed, "fail")
    return Group(orgs, extra)


def test_overview_classifies_each_branch_and_puts_late_ones_first(
    ctx: Context, group: Group
) -> None:
    view = overview(ctx, None)
    assert view.today == date(2026, 10, 12)
    assert str(view.period) == "2026-10"
    assert view.regions == ("华东", "华北", "华南", "西南")
    table = [
        (r.code, r.progress, r.batch_state, r.amount, r.due_date, r.days_left) for r in view.rows
    ]
    assert table == [
        ("CD01", "late", None, None, date(2026, 10, 5), -7),
        ("GZ01", "late", "draft", Decimal("0"), date(2026, 10, 10), -2),
        ("WH01", "late", "failed", Decimal("0"), date(2026, 10, 31), 19),
        ("SH01", "done", "paid", 7 * LINE, date(2026, 10, 15), 3),
        ("BJ01", "pending", "finance_pending", LINE, date(2026, 10, 20), 8),
        ("SZ01", "none", None, None, date(2026, 10, 25), 13),
    ]
    people = {r.code: (r.headcount, r.affected) for r in view.rows}
    # SH01: four staff and 张三, E002, E004, E005 employed today; 张三 and the leaver E003 overdue.
    assert people == {
        "SH01": (8, 2),
        "BJ01": (5, 0),
        "GZ01": (5, 1),
        "SZ01": (5, 0),
        "CD01": (5, 0),
        "WH01": (5, 0),
    }
    with ctx.uow() as uow:
        latest = uow.batches.latest(group.id("BJ01"), view.period)
    assert latest is not None and latest.version == 2
    assert next(r for r in view.rows if r.code == "BJ01").batch_id == latest.id
    assert all(
        (r.open_alerts, r.top_level, r.next_escalation_at) == (0, 0, None) for r in view.rows
    )


def test_overview_filters_by_region_and_progress(ctx: Context, group: Group) -> None:
    assert [r.code for r in overview(ctx, None, region="华南").rows] == ["GZ01", "SZ01"]
    assert [r.code for r in overview(ctx, None, progress="late").rows] == ["CD01", "GZ01", "WH01"]
    assert [r.code for r in overview(ctx, None, progress="none").rows] == ["SZ01"]
    assert overview(ctx, None, region="华南", progress="done").rows == ()
    with pytest.raises(InvalidValue):
        overview(ctx, None, progress="paid")


def test_scope_follows_role_and_duty(ctx: Context, group: Group) -> None:
    sh = group.orgs["SH01"]
    assert scope_for(ctx, None, admin=True) is None
    assert scope_for(ctx, None, admin=False) == set()
    assert scope_for(ctx, sh.hr_director.id if sh.hr_director else None, admin=False) is None
    assert scope_for(ctx, sh.hr.id, admin=False) == {sh.branch.id}
    assert scope_for(ctx, sh.finance.id, admin=False) == {sh.branch.id}
    assert scope_for(ctx, sh.employee.id, admin=False) == set()
    gone = add_employee(
        ctx,
        sh.branch,
        "SH01-H002",
        "退休",
        Role.HR,
        leave_date=date(2026, 9, 30),
        responsible_for=[sh.branch],
    )
    assert scope_for(ctx, gone.id, admin=False) == set()
    mine = overview(ctx, scope_for(ctx, sh.hr.id, admin=False))
    assert [r.code for r in mine.rows] == ["SH01"]
    assert mine.regions == ("华东",)
    assert overview(ctx, set()).rows == ()


def test_branch_page_status_agrees_with_the_status_check(ctx: Context, group: Group) -> None:
    page = branch_page(ctx, None, group.id("SH01"))
    assert page.branch.code == "SH01" and page.branch.progress == "done"
    assert page.counts == {"normal": 6, "delayed": 2, "lapsed": 1}
    assert page.total == 9
    assert [(e.employee_no, e.status, e.problem_periods) for e in page.employees] == [
        ("SH01-E004", "lapsed", ("2026-09",)),
        ("SH01-E001", "delayed", ("2026-08", "2026-09")),
        ("SH01-E003", "delayed", ("2026-09",)),
        ("SH01-D001", "normal", ()),
        ("SH01-E002", "normal", ()),
        ("SH01-E005", "normal", ()),
        ("SH01-F001", "normal", ()),
        ("SH01-H001", "normal", ()),
        ("SH01-M001", "normal", ()),
    ]
    for line in page.employees:
        report = check_status(ctx, line.employee_no, months=ctx.rules.claim_check_months)
        assert line.status == report.status
        assert line.problem_periods == tuple(str(m.period) for m in report.problem_months)
    assert len(page.lines) == 7
    assert page.lines[0].employee_no == "SH01-D001"
    assert sum(line.employer_amount + line.employee_amount for line in page.lines) == 7 * LINE


def test_branch_page_filters_and_pages(ctx: Context, group: Group) -> None:
    delayed = branch_page(ctx, None, group.id("SH01"), status="delayed")
    assert [e.employee_no for e in delayed.employees] == ["SH01-E001", "SH01-E003"]
    assert delayed.total == 2 and delayed.counts["normal"] == 6
    second = branch_page(ctx, None, group.id("SH01"), page=2, per_page=2)
    assert [e.employee_no for e in second.employees] == ["SH01-E003", "SH01-D001"]
    assert second.total == 9
    assert branch_page(ctx, None, group.id("SZ01")).lines == ()
    with pytest.raises(InvalidValue):
        branch_page(ctx, None, group.id("SH01"), status="late")


def test_pages_take_a_fixed_number_of_statements(
    ctx: Context, group: Group, engine: Engine
) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        overview(ctx, None)
        assert len(statements) == 5
        statements.clear()
        branch_page(ctx, None, group.id("SH01"))
        assert len(statements) == 8
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_other_branches_are_not_found(ctx: Context, group: Group) -> None:
    sh, gz = group.orgs["SH01"], group.orgs["GZ01"]
    mine = scope_for(ctx, sh.hr.id, admin=False)
    with pytest.raises(NotFound):
        branch_page(ctx, mine, gz.branch.id)
    with pytest.raises(NotFound):
        branch_page(ctx, None, 999_999)
    claim_id = open_complete_claim(ctx, gz.employee)
    with pytest.raises(NotFound):
        claim_detail(ctx, mine, claim_id)
    assert claim_list(ctx, mine) == ()
    assert [c.id for c in claim_list(ctx, None)] == [claim_id]


@pytest.fixture
def alerts(ctx: Context, clock: ManualClock) -> tuple[Group, int, int]:
    """张三's held claim (SH01, at T0) acknowledged at T0+2h; GZ01's late batch at T0+1h."""
    sh, gz = make_org(ctx, code="SH01"), make_org(ctx, code="GZ01", due_day=10)
    add_records(ctx, sh.employee, WINDOW, unpaid=WINDOW)
    submit_claim(ctx, open_complete_claim(ctx, sh.employee), sh.employee.id)
    clock.set(T0 + HOUR)
    batch_id = make_batch(ctx, gz, "2026-10")
    with ctx.uow() as uow:
        subject = (SubjectKind.CONTRIBUTION_BATCH, batch_id)
        batch_alert = open_alert(ctx, uow, subject, gz.branch.id, None, DelayReason.HR_VERIFICATION)
        uow.commit()
    (held,) = [a for a in alert_list(ctx, None) if a.subject_kind == "held_claim"]
    clock.set(T0 + 2 * HOUR)
    acknowledge_alert(ctx, held.id, sh.hr.id, DelayReason.FINANCE_APPROVAL, date(2026, 10, 13))
    return Group({"SH01": sh, "GZ01": gz}, {}), held.id, batch_alert.id


def test_alerts_order_by_level_then_age_with_who_was_told(
    ctx: Context, clock: ManualClock, alerts: tuple[Group, int, int]
) -> None:
    _, held_id, batch_id = alerts
    assert [a.id for a in alert_list(ctx, None)] == [held_id, batch_id]  # both level 1: by age
    clock.set(T0 + 25 * HOUR)
    sweep_escalations(ctx)
    batch, held = alert_list(ctx, None)  # the batch alert reached level 2
    assert (batch.id, batch.level, batch.state, batch.cause) == (
        batch_id,
        2,
        "open",
        "hr_verification",
    )
    assert (batch.branch_code, batch.subject_kind, batch.employee_name) == (
        "GZ01",
        "contribution_batch",
        None,
    )
    assert batch.next_escalation_at == T0 + HOUR + 48 * HOUR
    assert [(n.recipient, n.role, n.channel, n.created_at, n.state) for n in batch.notified] == [
        ("李四", "hr", "chat", T0 + HOUR, "pending"),
        ("赵六", "hr_manager", "chat", T0 + 25 * HOUR, "pending"),
    ]
    assert (held.level, held.state, held.cause, held.employee_name) == (
        1,
        "acknowledged",
        "finance_approval",
        "张三",
    )
    assert (held.acknowledged_by, held.acknowledged_at) == ("李四", T0 + 2 * HOUR)
    assert held.expected_fix_date == date(2026, 10, 13)
    assert held.next_escalation_at == datetime(2026, 10, 13, 16, 0, tzinfo=UTC)  # fix date ends
    # Only the level-1 notice: the card update sent on acknowledging tells nobody new.
    assert [(n.recipient, n.role, n.created_at) for n in held.notified] == [("李四", "hr", T0)]

    rows = {
        r.code: (r.open_alerts, r.top_level, r.next_escalation_at) for r in overview(ctx, None).rows
    }
    assert rows == {
        "SH01": (1, 1, datetime(2026, 10, 13, 16, 0, tzinfo=UTC)),
        "GZ01": (1, 2, T0 + 49 * HOUR),
    }


def test_resolved_alerts_leave_the_default_list_and_scope_hides_others(
    ctx: Context, alerts: tuple[Group, int, int]
) -> None:
    group, held_id, batch_id = alerts
    gz, sh = group.orgs["GZ01"], group.orgs["SH01"]
    resolve_alert(ctx, batch_id, gz.hr.id, "paid")
    assert [a.id for a in alert_list(ctx, None)] == [held_id]
    assert [a.id for a in alert_list(ctx, None, state="resolved")] == [batch_id]
    assert {a.id for a in alert_list(ctx, None, state="all")} == {held_id, batch_id}
    assert alert_detail(ctx, None, batch_id).state == "resolved"
    mine = scope_for(ctx, sh.hr.id, admin=False)
    assert [a.id for a in alert_list(ctx, mine, state="all")] == [held_id]
    with pytest.raises(NotFound):
        alert_detail(ctx, mine, batch_id)
    assert {r.code: r.open_alerts for r in overview(ctx, None).rows} == {"GZ01": 0, "SH01": 1}


def test_claim_detail_tells_its_story_in_order(ctx: Context, clock: ManualClock) -> None:
    org = make_org(ctx)
    add_records(ctx, org.employee, WINDOW)
    first = open_complete_claim(ctx, org.employee)
    clock.set(T0 + HOUR)
    second = open_complete_claim(ctx, org.employee)
    submit_claim(ctx, second, org.employee.id)
    clock.set(T0 + 2 * HOUR)
    approve_claim(ctx, second, org.finance.id, Decimal("1234.50"))
    clock.set(T0 + 3 * HOUR)
    record_payout(ctx, second, org.finance.id, "BANK-1")

    assert [c.id for c in claim_list(ctx, None)] == [second, first]
    assert [c.id for c in claim_list(ctx, None, state="draft")] == [first]
    detail = claim_detail(ctx, {org.branch.id}, second)
    claim = detail.claim
    assert (claim.reference, claim.employee_no, claim.employee_name, claim.branch_code) == (
        f"C{second:06d}",
        "SH01-E001",
        "张三",
        "SH01",
    )
    assert (claim.state, claim.amount, claim.paid_at) == ("paid", Decimal("1234.50"), T0 + 3 * HOUR)
    assert [d.kind for d in detail.documents] == [
        "admission_certificate",
        "itemized_bill",
        "id_copy",
        "voucher",
    ]
    assert [(e.action, e.actor, e.from_state, e.to_state) for e in detail.timeline] == [
        ("claim.open", "张三", None, "draft"),
        ("claim.attach", "张三", None, None),
        ("claim.attach", "张三", None, None),
        ("claim.attach", "张三", None, None),
        ("claim.submit", "张三", "draft", "submitted"),
        ("claim.review", "system", "submitted", "under_review"),
        ("claim.approve", "王五", "under_review", "approved"),
        ("claim.pay", "王五", "approved", "paid"),
    ]
    assert [e.at for e in detail.timeline] == sorted(e.at for e in detail.timeline)
    with pytest.raises(NotFound):
        claim_detail(ctx, set(), second)
