"""Admins edit the escalation policy: each edit is a new version that new alerts start with,
while an alert already open escalates to the end on the version it opened with. A refused edit
(nothing changed, a typo in the levels) stores nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from core.domain.directory import Role
from core.domain.errors import InvalidValue
from core.domain.escalation import SubjectKind
from core.domain.policy_text import format_levels, parse_levels
from core.domain.workclock import Delay, DelayUnit
from core.ports import ManualClock
from core.services.alerts import open_alert, sweep_escalations
from core.services.context import Context
from core.services.policies import edit_policy, show_policy
from tests.factories import Org, add_employee, audit_trail, make_org, notices, row_counts

HOUR = timedelta(hours=1)
FASTER = "hr:0h,hr_manager:4h,hr_director:8h"


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


def status_alert(ctx: Context, org: Org, employee_no: str) -> int:
    """An alert on one employee's status, opened now under the current policy."""
    person = add_employee(ctx, org.branch, employee_no, "员工")
    with ctx.uow() as uow:
        alert = open_alert(ctx, uow, (SubjectKind.EMPLOYEE_STATUS, person.id), org.branch.id)
        uow.commit()
        return alert.id


def level_of(ctx: Context, alert_id: int) -> int:
    with ctx.uow() as uow:
        return uow.alerts.get(alert_id).level


def version_of(ctx: Context, alert_id: int) -> int:
    with ctx.uow() as uow:
        return uow.alerts.get(alert_id).policy_version


def test_an_edit_is_a_new_version_that_only_new_alerts_use(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    start = clock.now()
    before = status_alert(ctx, org, "SH01-E101")  # settings: manager at 24 h, director at 48 h
    assert show_policy(ctx).source == "settings"

    saved = edit_policy(ctx, FASTER, None, None, "admin@example.com", "faster", "dashboard")

    assert saved.version == version_of(ctx, before) + 1
    assert format_levels(saved.levels) == FASTER
    shown = show_policy(ctx)
    assert (shown.source, shown.version, shown.text) == ("edited", saved.version, FASTER)
    after = status_alert(ctx, org, "SH01-E102")
    assert version_of(ctx, after) == saved.version

    clock.set(start + 4 * HOUR)
    sweep_escalations(ctx)
    assert (level_of(ctx, before), level_of(ctx, after)) == (1, 2)
    assert org.hr_manager is not None and org.hr_director is not None
    assert len(notices(ctx, to=org.hr_manager)) == 1  # only the new alert reached the manager
    clock.set(start + 8 * HOUR)
    sweep_escalations(ctx)
    assert (level_of(ctx, before), level_of(ctx, after)) == (1, 3)
    clock.set(start + 24 * HOUR)
    sweep_escalations(ctx)
    assert level_of(ctx, before) == 2  # the old alert keeps its 24 h
    clock.set(start + 48 * HOUR)
    sweep_escalations(ctx)
    assert level_of(ctx, before) == 3
    assert len(notices(ctx, to=org.hr_director)) == 2


def test_the_edit_is_audited_with_both_versions_and_the_levels(ctx: Context, org: Org) -> None:
    saved = edit_policy(ctx, FASTER, 1, "6h", "admin@example.com", "测试", "dashboard")

    (entry,) = audit_trail(ctx, "policy", saved.version)
    assert entry.action == "policy.edit" and entry.channel == "dashboard"
    assert entry.actor == "admin@example.com"
    assert entry.detail["from_version"] == saved.version - 1  # the settings' version, stored
    assert entry.detail["to_version"] == saved.version
    assert entry.detail["from_levels"] == "hr:0h,hr_manager:24h,hr_director:48h"
    assert entry.detail["levels"] == FASTER
    assert (entry.detail["repeat"], entry.detail["repeat_every"]) == (1, "6h")
    assert entry.detail["note"] == "测试"


def test_an_edit_that_changes_nothing_is_refused(ctx: Context, org: Org) -> None:
    edit_policy(ctx, FASTER, 2, None, "cli")
    counts = row_counts(ctx)

    with pytest.raises(InvalidValue, match="nothing changed") as same:
        edit_policy(ctx, "hr：0h， hr_manager:4h,hr_director:8h", None, None, "cli")
    with pytest.raises(InvalidValue, match="nothing changed"):
        edit_policy(ctx, FASTER, 2, "4h", "cli")  # 4 h is already the gap between repeats

    assert same.value.params["reason"] == "unchanged"
    assert row_counts(ctx) == counts


@pytest.mark.parametrize(
    ("levels", "repeat", "every", "reason", "words"),
    [
        ("", None, None, "empty", "at least one level"),
        ("hr:0h,hr_manager", None, None, "format", "level 2"),
        ("hr:0h,boss:24h", None, None, "role", "unknown role 'boss'"),
        ("hr:0h,finance:24h", None, None, "not_hr", "finance is not an HR role"),
        ("employee:0h", None, None, "not_hr", "employee is not an HR role"),
        ("hr:0h,hr_manager:soon", None, None, "delay", "24h, 24wh or 3wd"),
        ("hr:0h,hr_manager:1.5wd", None, None, "delay", "whole number"),
        ("hr:0h,hr_manager:24wh", None, None, "units", "same unit"),
        ("hr:0h,hr_manager:48h,hr_director:24h", None, None, "decreasing", "must not decrease"),
        (FASTER, 11, None, "repeat", "repeat must be 0 to 10"),
        (FASTER, 2, "1wd", "repeat_every", "levels' unit (h)"),
        (FASTER, 2, "0h", "repeat_every", "more than zero"),
        (",".join(["hr:0h"] * 11), None, None, "too_many", "at most 10 levels"),
    ],
)
def test_a_mistake_in_the_text_is_refused_and_nothing_is_stored(
    ctx: Context,
    org: Org,
    levels: str,
    repeat: int | None,
    every: str | None,
    reason: str,
    words: str,
) -> None:
    counts = row_counts(ctx)

    with pytest.raises(InvalidValue, match=re.escape(words)) as refused:
        edit_policy(ctx, levels, repeat, every, "cli")

    assert refused.value.params["reason"] == reason
    assert row_counts(ctx) == counts
    assert show_policy(ctx).source == "settings"


def test_an_edit_based_on_an_older_version_is_refused(ctx: Context, org: Org) -> None:
    edit_policy(ctx, FASTER, None, None, "first@example.com", based_on=0)
    with pytest.raises(InvalidValue, match="edited meanwhile"):
        edit_policy(ctx, "hr:0h,hr_director:2h", None, None, "second@example.com", based_on=0)
    assert show_policy(ctx).text == FASTER


def test_history_counts_the_alerts_started_under_each_version(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    status_alert(ctx, org, "SH01-E201")
    status_alert(ctx, org, "SH01-E202")
    clock.advance(HOUR)
    edit_policy(ctx, FASTER, 0, None, "admin@example.com", "faster")
    status_alert(ctx, org, "SH01-E203")

    history = show_policy(ctx).history

    assert [(v.policy.version, v.alerts) for v in history] == [(1, 2), (2, 1)]
    assert [v.edited_by for v in history] == [None, "admin@example.com"]
    assert history[1].note == "faster" and history[1].edited_at == clock.now()
    assert history[1].policy.repeat == 0


def test_the_text_form_reads_back_to_the_same_levels() -> None:
    levels = parse_levels("HR:0wd ; hr-manager : 1wd\n人事总监:3wd")
    assert [(lvl.role, lvl.delay) for lvl in levels] == [
        (Role.HR, Delay(0, DelayUnit.WORKING_DAYS)),
        (Role.HR_MANAGER, Delay(1, DelayUnit.WORKING_DAYS)),
        (Role.HR_DIRECTOR, Delay(3, DelayUnit.WORKING_DAYS)),
    ]
    assert parse_levels(format_levels(levels)) == levels


def test_an_edit_back_to_earlier_levels_is_recorded_as_the_edited_version(
    ctx: Context, org: Org
) -> None:
    first = status_alert(ctx, org, "SH01-E201")  # the settings' levels, stored as v1
    edit_policy(ctx, FASTER, None, None, "admin@example.com")
    back = edit_policy(ctx, format_levels(ctx.rules.policy.levels), None, None, "admin@example.com")
    later = status_alert(ctx, org, "SH01-E202")
    assert (version_of(ctx, first), version_of(ctx, later)) == (1, back.version)
    counts = {v.policy.version: v.alerts for v in show_policy(ctx).history}
    assert counts[back.version] == 1 and counts[1] == 1
