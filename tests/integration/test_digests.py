"""Daily digests per approver and HR and the weekly summary per HR director, on a fixed data set.

Monday 2026-10-12 09:00 (Shanghai). 上海分公司 (SH01): September's batch waits for finance (due
09-15: late), October's for HR; 张三's claim is under review; 孙八's claim was held on Sunday and
its alert has escalated to the HR manager (late). 北京分公司 (BJ01): October's batch waits for its
own HR, who must see nothing of SH01.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Translator
from core.domain.batches import BatchState
from core.domain.contributions import DelayReason
from core.domain.digests import DigestKind
from core.domain.directory import Employee, Role
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services import digests
from core.services.absences import set_away
from core.services.alerts import sweep_escalations
from core.services.claims import submit_claim
from core.services.context import Context, Rules
from core.services.digests import run_digests
from tests.conftest import DEMO_NOW
from tests.factories import (
    Org,
    add_branch,
    add_employee,
    add_records,
    make_batch,
    make_org,
    notices,
    open_complete_claim,
)

SUNDAY_8AM = datetime(2026, 10, 11, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rules() -> Rules:
    return Rules(digest_hour=9)


@dataclass
class World:
    sh: Org
    bj_hr: Employee
    sun: Employee


@pytest.fixture
def world(ctx: Context, clock: ManualClock) -> World:
    clock.set(SUNDAY_8AM)
    sh = make_org(ctx)
    sun = add_employee(ctx, sh.branch, "SH01-E002", "孙八")
    add_records(ctx, sh.employee, ["2026-07", "2026-08", "2026-09"])
    add_records(
        ctx,
        sun,
        ["2026-07", "2026-08", "2026-09"],
        unpaid=["2026-09"],
        delay_reason=DelayReason.FINANCE_APPROVAL,
    )
    for person in (sh.employee, sun):  # C000001 goes to review, C000002 is held
        submit_claim(ctx, open_complete_claim(ctx, person), person.id)
    make_batch(ctx, sh, "2026-09", BatchState.FINANCE_PENDING)
    make_batch(ctx, sh, "2026-10")
    bj = add_branch(ctx, "BJ01", "北京分公司")
    bj_hr = add_employee(ctx, bj, "BJ01-H001", "周九", Role.HR, responsible_for=[bj])
    make_batch(ctx, Org(bj, bj_hr, bj_hr, sh.finance), "2026-10")
    clock.set(DEMO_NOW)
    sweep_escalations(ctx, "test")  # 25 h after opening: the HR manager has been told
    return World(sh, bj_hr, sun)


def digest_of(ctx: Context, person: Employee, key: str = "digest.daily") -> list[dict[str, Any]]:
    return [n.params for n in notices(ctx, key, to=person)]


HELD = "#1 上海分公司 C000002"


def test_each_approver_and_hr_gets_what_waits_for_them(ctx: Context, world: World) -> None:
    assert run_digests(ctx) == 5  # four daily digests, the director's weekly summary
    sh = world.sh
    assert digest_of(ctx, sh.hr) == [
        {
            "day": "2026-10-12",
            "total": 2,
            "batch_count": 1,
            "batch_refs": ["上海分公司 2026-10"],
            "claim_count": 0,
            "claim_refs": [],
            "alert_count": 1,
            "alert_refs": [HELD],
            "late_count": 1,
            "late_refs": [HELD],
        }
    ]
    assert digest_of(ctx, sh.finance) == [
        {
            "day": "2026-10-12",
            "total": 2,
            "batch_count": 1,
            "batch_refs": ["上海分公司 2026-09"],
            "claim_count": 1,
            "claim_refs": ["C000001 张三"],
            "alert_count": 0,
            "alert_refs": [],
            "late_count": 1,
            "late_refs": ["上海分公司 2026-09"],
        }
    ]
    assert sh.hr_manager is not None
    (manager,) = digest_of(ctx, sh.hr_manager)
    assert (manager["total"], manager["alert_refs"], manager["late_refs"]) == (1, [HELD], [HELD])
    assert (manager["batch_count"], manager["claim_count"]) == (0, 0)


def test_nobody_gets_an_empty_digest(ctx: Context, world: World) -> None:
    run_digests(ctx)
    assert world.sh.hr_director is not None
    assert digest_of(ctx, world.sh.hr_director) == []  # the alert has not reached level 3
    assert all(n.params["total"] > 0 for n in notices(ctx, "digest.daily"))
    with ctx.uow() as uow:
        checked = {p.id for p in uow.digests.unchecked(DigestKind.DAILY, "2026-10-12", {Role.HR})}
        sent = uow.digests.sent(DigestKind.DAILY, "2026-10-12")
    assert checked == set()  # everyone was checked …
    assert world.sh.hr_director.id not in sent  # … and the empty one is not recorded as sent


def test_hr_of_one_branch_sees_nothing_of_another(ctx: Context, world: World) -> None:
    run_digests(ctx)
    assert digest_of(ctx, world.bj_hr) == [
        {
            "day": "2026-10-12",
            "total": 1,
            "batch_count": 1,
            "batch_refs": ["北京分公司 2026-10"],
            "claim_count": 0,
            "claim_refs": [],
            "alert_count": 0,
            "alert_refs": [],
            "late_count": 0,
            "late_refs": [],
        }
    ]
    assert all("北京" not in ref for ref in digest_of(ctx, world.sh.hr)[0]["batch_refs"])


def test_once_a_day_however_often_and_by_however_many_workers(
    ctx: Context,
    world: World,
    db: Database,
    clock: ManualClock,
    rules: Rules,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(DEMO_NOW - timedelta(minutes=1))
    assert run_digests(ctx) == 0  # 08:59: not yet
    clock.set(DEMO_NOW)
    assert run_digests(ctx) == 5
    assert run_digests(ctx) == 0
    # A second worker that read who was unchecked before the first one wrote: the run rows stop it.
    other = Context(uow=Database(db.engine).uow, clock=clock, documents=ctx.documents, rules=rules)
    assert world.sh.hr_director is not None
    stale = {
        DigestKind.DAILY: [p.id for p in (world.sh.hr, world.sh.finance, world.bj_hr)],
        DigestKind.WEEKLY: [world.sh.hr_director.id],
    }
    monkeypatch.setattr(digests, "_unchecked", lambda _ctx, kind, *rest: stale[kind])
    assert run_digests(other) == 0
    monkeypatch.undo()
    assert (len(notices(ctx, "digest.daily")), len(notices(ctx, "digest.weekly"))) == (4, 1)
    clock.advance(DAY)  # Tuesday: a new day's digests, no weekly summary
    assert run_digests(ctx) == 4
    days = [n.params["day"] for n in notices(ctx, "digest.daily", to=world.sh.hr)]
    assert days == ["2026-10-12", "2026-10-13"]


def test_no_daily_digest_on_the_weekend(ctx: Context, world: World, clock: ManualClock) -> None:
    clock.set(DEMO_NOW + 5 * DAY)  # Saturday 09:00
    assert run_digests(ctx) == 0
    assert notices(ctx, "digest.daily") == []


def test_a_substitute_sees_the_work_of_the_colleague_away(ctx: Context, world: World) -> None:
    sh = world.sh
    assert sh.hr_manager is not None
    set_away(ctx, sh.hr.id, date(2026, 10, 12), date(2026, 10, 14), sh.hr_manager.employee_no)
    run_digests(ctx)
    assert digest_of(ctx, sh.hr) == []
    (manager,) = digest_of(ctx, sh.hr_manager)
    assert (manager["batch_refs"], manager["alert_refs"]) == (["上海分公司 2026-10"], [HELD])


def test_the_weekly_summary_goes_to_directors_on_its_day(
    ctx: Context, world: World, clock: ManualClock
) -> None:
    run_digests(ctx)
    assert [n.to for n in notices(ctx, "digest.weekly")] == ["SH01-D001"]
    assert notices(ctx, "digest.weekly")[0].params == {
        "week": "2026-W42",
        "overdue_count": 2,
        "overdue_refs": ["北京分公司 2026-09", "上海分公司 2026-09"],
        "alert_count": 1,
        "level1": 0,
        "level2": 1,
        "level3": 0,
        "cause": "finance_approval",
        "cause_count": 1,
        "causes": ["finance_approval"],
        "cause_counts": [1],
        "flagged_count": 0,
        "flagged_refs": [],
    }
    for _ in range(6):  # Tuesday to Sunday: not its day
        clock.advance(DAY)
        run_digests(ctx)
    assert len(notices(ctx, "digest.weekly")) == 1
    clock.advance(DAY)  # the next Monday: the next week's summary
    run_digests(ctx)
    assert [n.params["week"] for n in notices(ctx, "digest.weekly")] == ["2026-W42", "2026-W43"]


def test_an_empty_weekly_summary_is_skipped(ctx: Context) -> None:
    org = make_org(ctx)
    batch_id = make_batch(ctx, org, "2026-09", BatchState.SUBMITTED)
    with ctx.uow() as uow:
        uow.batches.get(batch_id).move("pay")
        uow.commit()
    assert run_digests(ctx) == 0  # nothing overdue, no alert, and nothing waits for anyone
    assert notices(ctx) == []


def test_digests_read_well_in_both_languages(ctx: Context, world: World) -> None:
    run_digests(ctx)
    daily = digest_of(ctx, world.sh.finance)[0]
    (weekly,) = [n.params for n in notices(ctx, "digest.weekly")]
    zh, en = Translator("zh-CN", SHANGHAI), Translator("en", SHANGHAI)
    assert en("digest.daily", **daily).splitlines() == [
        "📋 Your digest for 2026-10-12: 2 waiting for you, 1 of them late.",
        "• Contribution batches to verify or approve (1): 上海分公司 2026-09",
        "• Claims to review (1): C000001 张三",
        "• Alerts to acknowledge (0): ",
        "⏰ Late (1): 上海分公司 2026-09",
    ]
    assert "近 4 周告警的主要原因：财务审批未完成（1 条）" in zh("digest.weekly", **weekly)
    assert "北京分公司 2026-09、上海分公司 2026-09" in zh("digest.weekly", **weekly)
    assert "level 2: 1" in en("digest.weekly", **weekly)
