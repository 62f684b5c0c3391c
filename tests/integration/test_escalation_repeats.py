"""Repeat and end: the last level is told again ``repeat`` times, a day apart; once the policy
has run out with the alert still open, it is flagged for the weekly management list. An alert
escalates to the end on the policy version it opened with, whatever an admin edits later."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Translator
from core.domain.contributions import DelayReason
from core.domain.directory import Role
from core.domain.escalation import EscalationPolicy, PolicyLevel, SubjectKind, default_policy
from core.domain.workclock import Delay
from core.ports import ManualClock
from core.services.alerts import resolve_alert, sweep_escalations
from core.services.claims import submit_claim
from core.services.context import Context, Rules
from core.services.digests import weekly_summary
from tests.factories import (
    Org,
    add_employee,
    add_records,
    audit_trail,
    make_org,
    notices,
    open_complete_claim,
)

MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]
HOUR = timedelta(hours=1)


@pytest.fixture
def rules() -> Rules:
    return Rules(policy=default_policy(repeat=2))


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


def held_claim_alert(ctx: Context, org: Org) -> int:
    add_records(
        ctx, org.employee, MONTHS, unpaid=MONTHS[1:], delay_reason=DelayReason.FINANCE_APPROVAL
    )
    claim_id = open_complete_claim(ctx, org.employee)
    submit_claim(ctx, claim_id, org.employee.id)
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim_id)
        return alert.id


def at(ctx: Context, clock: ManualClock, start: datetime, hours: float) -> None:
    clock.set(start + hours * HOUR)
    sweep_escalations(ctx)


def test_the_director_is_told_twice_more_a_day_apart_then_the_alert_is_flagged(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    start = clock.now()
    alert_id = held_claim_alert(ctx, org)
    at(ctx, clock, start, 48)
    assert [n.to for n in notices(ctx, "alert.level3")] == ["SH01-D001"]
    at(ctx, clock, start, 72 - 0.01)
    assert len(notices(ctx, "alert.level3")) == 1
    at(ctx, clock, start, 72)
    assert len(notices(ctx, "alert.level3")) == 2
    with ctx.uow() as uow:
        assert uow.alerts.get(alert_id).flagged_at is None  # one repeat still to come
    at(ctx, clock, start, 96)
    assert [n.to for n in notices(ctx, "alert.level3")] == ["SH01-D001"] * 3
    with ctx.uow() as uow:
        assert uow.alerts.get(alert_id).flagged_at == start + 96 * HOUR
    flags = [e for e in audit_trail(ctx, "alert", alert_id) if e.action == "alert.flag"]
    assert len(flags) == 1

    at(ctx, clock, start, 24 * 10)
    assert len(notices(ctx, "alert.level3")) == 3  # the policy has ended: no more pushes

    summary = weekly_summary(ctx, clock.now().date())
    assert summary.flagged == (f"#{alert_id} 上海分公司 L3",)
    params = summary.params()
    zh = Translator("zh-CN", ZoneInfo("Asia/Shanghai"))("digest.weekly", **params)
    assert f"需管理层处理的告警（1）：#{alert_id} 上海分公司 L3" in zh
    assert "近 4 周告警的主要原因：财务审批未完成（1 条）" in zh

    resolve_alert(ctx, alert_id, org.hr.id, "paid in the end")
    assert weekly_summary(ctx, clock.now().date()).flagged == ()


def test_a_resolved_alert_is_never_flagged(ctx: Context, org: Org, clock: ManualClock) -> None:
    start = clock.now()
    alert_id = held_claim_alert(ctx, org)
    at(ctx, clock, start, 73)
    resolve_alert(ctx, alert_id, org.hr.id, "fixed")
    at(ctx, clock, start, 200)
    with ctx.uow() as uow:
        assert uow.alerts.get(alert_id).flagged_at is None
    assert len(notices(ctx, "alert.level3")) == 2


def test_an_alert_keeps_its_policy_version_when_an_admin_edits_the_policy(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    start = clock.now()
    first = held_claim_alert(ctx, org)
    quick = EscalationPolicy(
        "default",
        (
            PolicyLevel(1, Role.HR, Delay.calendar(0)),
            PolicyLevel(2, Role.HR_DIRECTOR, Delay.calendar(4)),
        ),
    )
    with ctx.uow() as uow:
        edited = uow.alerts.save_edited_policy(quick, clock.now(), "admin@example.com", "faster")
        uow.commit()
    with ctx.uow() as uow:
        first_alert = uow.alerts.get(first)
        assert first_alert.policy_version != edited.version
    at(ctx, clock, start, 4)
    assert notices(ctx, "alert.level2") == []  # the first alert still waits its 24 h

    # A new alert opens under the edited version: the director at 4 h, no repeats, then flagged.
    other = add_employee(ctx, org.branch, "SH01-E002", "吴十")
    add_records(ctx, other, MONTHS, unpaid=MONTHS[1:])
    claim_id = open_complete_claim(ctx, other)
    submit_claim(ctx, claim_id, other.id)
    with ctx.uow() as uow:
        (second,) = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim_id)
        assert second.policy_version == edited.version
    at(ctx, clock, start, 8 + 0.01)
    assert [n.to for n in notices(ctx, "alert.level2")] == ["SH01-D001"]
    with ctx.uow() as uow:
        assert uow.alerts.get(second.id).flagged_at is not None
    at(ctx, clock, start, 24)
    assert [n.to for n in notices(ctx, "alert.level2")] == ["SH01-D001", "SH01-M001"]
