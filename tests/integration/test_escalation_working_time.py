"""Alerts escalating in working time: the branch's calendar (mainland holidays and 调休), its own
working hours, and a year the holiday data lacks (falls back to calendar hours, loudly)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.holidays import ChineseWorkdays
from core.domain.contributions import DelayReason
from core.domain.escalation import StepState, SubjectKind, default_policy
from core.domain.periods import Period
from core.domain.workclock import DelayUnit
from core.ports import ManualClock
from core.services.alerts import sweep_escalations
from core.services.claims import submit_claim
from core.services.context import Context
from core.services.queries import claim_progress, open_alerts_for
from tests.factories import Org, add_records, audit_trail, make_org, open_complete_claim
from tests.integration.test_escalation import keys_to

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def working(ctx: Context) -> Context:
    policy = default_policy(0, 24, 48, DelayUnit.WORKING_HOURS)
    rules = dataclasses.replace(ctx.rules, policy=policy)
    return dataclasses.replace(ctx, rules=rules, calendar=ChineseWorkdays())


def held_claim_alert(ctx: Context, org: Org) -> int:
    """张三's claim, held because the two months before this one are unpaid past due."""
    this = Period.of(ctx.today())
    months = [str(this.shift(-2)), str(this.shift(-1)), str(this)]
    add_records(ctx, org.employee, months, unpaid=months, delay_reason=DelayReason.FINANCE_APPROVAL)
    claim_id = open_complete_claim(ctx, org.employee)
    submit_claim(ctx, claim_id, org.employee.id)
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim_id)
        return alert.id


def due_times(ctx: Context, alert_id: int) -> list[tuple[int, datetime]]:
    with ctx.uow() as uow:
        steps = uow.alerts.steps(alert_id)
        return sorted((s.level, s.due_at) for s in steps if s.state is StepState.PENDING)


def test_the_manager_is_told_after_24_working_hours_not_24_hours(
    working: Context, clock: ManualClock
) -> None:
    org = make_org(working)
    clock.set(local(2025, 9, 26, 17, 0))  # Friday evening before the National Day week
    alert_id = held_claim_alert(working, org)
    assert due_times(working, alert_id) == [
        (2, local(2025, 9, 30, 14, 0)),  # Sunday 28 Sep is a 调休 workday
        (3, local(2025, 10, 11, 11, 0)),  # Saturday 11 Oct too; 1-8 Oct are holidays
    ]
    clock.set(local(2025, 9, 27, 17, 0))  # 24 calendar hours later: a Saturday off
    assert sweep_escalations(working).fired == 0
    clock.set(local(2025, 9, 30, 14, 0))
    assert sweep_escalations(working).fired == 1
    assert org.hr_manager is not None
    assert ("alert.level2", org.hr_manager.employee_no) in keys_to(working)


def test_a_branch_with_its_own_working_hours(working: Context, clock: ManualClock) -> None:
    org = make_org(working)
    with working.uow() as uow:
        uow.directory.branch(org.branch.id).working_hours = "08:00-12:00"
        uow.commit()
    clock.set(local(2025, 11, 3, 9, 0))  # a Monday: 3 h today, then 4 h a day
    alert_id = held_claim_alert(working, org)
    # 3 + 4 x 5 (Tue to next Mon) = 23 h; the 24th is Tuesday 11 Nov, 08:00-09:00.
    assert due_times(working, alert_id)[0] == (2, local(2025, 11, 11, 9, 0))


def test_a_year_without_holiday_data_escalates_in_calendar_hours_and_says_so(
    working: Context, clock: ManualClock
) -> None:
    org = make_org(working)
    opened = local(2031, 3, 3, 10, 0)
    clock.set(opened)
    alert_id = held_claim_alert(working, org)
    assert due_times(working, alert_id) == [
        (2, opened + timedelta(hours=24)),
        (3, opened + timedelta(hours=48)),
    ]
    (entry,) = [e for e in audit_trail(working, "alert", alert_id) if "calendar" in e.action]
    assert entry.action == "alert.calendar_not_covered" and entry.detail == {"year": 2031}


def test_countdowns_count_the_same_working_time(working: Context, clock: ManualClock) -> None:
    org = make_org(working)
    clock.set(local(2025, 9, 26, 17, 0))
    alert_id = held_claim_alert(working, org)
    with working.uow() as uow:
        claim_id = uow.alerts.get(alert_id).subject_id
    assert claim_progress(working, claim_id).hr_time_left == timedelta(hours=24)
    clock.set(local(2025, 9, 27, 12, 0))  # Saturday: Friday's last hour is gone, no more
    assert claim_progress(working, claim_id).hr_time_left == timedelta(hours=23)
    (summary,) = open_alerts_for(working, org.hr.id)
    assert summary.time_left == timedelta(hours=23)
    assert summary.next_escalation == local(2025, 9, 30, 14, 0)
    assert summary.working_time and claim_progress(working, claim_id).hr_working_time
    # What people read names the unit: 23 working hours, not 23 h.
    from bot.i18n import Translator

    zh, en = Translator("zh-CN", SHANGHAI), Translator("en", SHANGHAI)
    unit = {"hours_left": 23, "hours_unit": en("unit.working_hours")}
    assert "next escalation in 23 working hours" in en("chat.alert_line", **unit)
    unit["hours_unit"] = zh("unit.working_hours")
    assert "人事须在 23 个工作小时内给出原因" in zh("chat.progress_held", **unit)


def test_calendar_hour_countdowns_keep_saying_hours(ctx: Context, clock: ManualClock) -> None:
    org = make_org(ctx)
    alert_id = held_claim_alert(ctx, org)
    with ctx.uow() as uow:
        claim_id = uow.alerts.get(alert_id).subject_id
    assert not claim_progress(ctx, claim_id).hr_working_time
    (summary,) = open_alerts_for(ctx, org.hr.id)
    assert not summary.working_time
