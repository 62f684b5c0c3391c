"""Escalation timing with the injected clock: who is chased when, and what stops it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from core.domain.contributions import DelayReason
from core.domain.errors import IllegalTransition, InvalidValue, PermissionDenied
from core.domain.escalation import AlertState, StepKind, StepState, SubjectKind, default_policy
from core.ports import ManualClock
from core.services.alerts import acknowledge_alert, resolve_alert, sweep_escalations
from core.services.claims import submit_claim
from core.services.context import Context, Rules
from tests.factories import Org, add_records, audit_trail, make_org, notices, open_complete_claim

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# The end of 2026-10-13 in Shanghai, when a fix promised for the 13th is missed.
END_OF_OCT_13 = datetime(2026, 10, 13, 16, 0, tzinfo=UTC)


def held_claim_alert(ctx: Context, org: Org) -> int:
    """Submit 张三's claim with August and September overdue; returns the alert's id."""
    add_records(
        ctx,
        org.employee,
        ["2026-08", "2026-09", "2026-10"],
        unpaid=["2026-08", "2026-09", "2026-10"],
        delay_reason=DelayReason.FINANCE_APPROVAL,
    )
    claim_id = open_complete_claim(ctx, org.employee)
    submit_claim(ctx, claim_id, org.employee.id)
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim_id)
        return alert.id


def sweep_at(ctx: Context, clock: ManualClock, instant: datetime) -> tuple[int, int]:
    clock.set(instant)
    result = sweep_escalations(ctx)
    return result.fired, result.skipped


def alert_state(ctx: Context, alert_id: int) -> tuple[AlertState, int]:
    with ctx.uow() as uow:
        alert = uow.alerts.get(alert_id)
        return alert.state, alert.level


def keys_to(ctx: Context, prefix: str = "alert.") -> list[tuple[str, str]]:
    return [(n.key, n.to) for n in notices(ctx) if n.key.startswith(prefix)]


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


def test_level_two_fires_at_24_hours_and_not_a_minute_before(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    alert_id = held_claim_alert(ctx, org)
    assert org.hr_manager is not None and org.hr_director is not None
    assert keys_to(ctx) == [("alert.level1", org.hr.employee_no)]

    assert sweep_at(ctx, clock, T0 + 23 * HOUR + 59 * MINUTE) == (0, 0)
    assert notices(ctx, "alert.level2") == []
    assert alert_state(ctx, alert_id) == (AlertState.OPEN, 1)

    assert sweep_at(ctx, clock, T0 + 24 * HOUR) == (1, 0)
    (level2,) = notices(ctx, "alert.level2")
    assert level2.to == org.hr_manager.employee_no
    assert level2.params["level"] == 2
    assert alert_state(ctx, alert_id) == (AlertState.OPEN, 2)

    assert sweep_at(ctx, clock, T0 + 47 * HOUR + 59 * MINUTE) == (0, 0)
    assert notices(ctx, "alert.level3") == []

    assert sweep_at(ctx, clock, T0 + 48 * HOUR) == (1, 0)
    (level3,) = notices(ctx, "alert.level3")
    assert level3.to == org.hr_director.employee_no  # the group's director: no branch row needed
    assert alert_state(ctx, alert_id) == (AlertState.OPEN, 3)
    escalations = [
        (a.from_state, a.to_state)
        for a in audit_trail(ctx, "alert", alert_id)
        if a.action == "alert.escalate"
    ]
    assert escalations == [("0", "1"), ("1", "2"), ("2", "3")]

    # Nothing is left to fire, however long it stays open.
    assert sweep_at(ctx, clock, T0 + 30 * 24 * HOUR) == (0, 0)


def test_acknowledging_pauses_until_the_fix_date_ends_then_reopens_at_the_next_level(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    alert_id = held_claim_alert(ctx, org)
    assert org.hr_manager is not None and org.hr_director is not None
    clock.set(T0 + 2 * HOUR)
    alert = acknowledge_alert(
        ctx, alert_id, org.hr.id, DelayReason.FINANCE_APPROVAL, date(2026, 10, 13), "finance asked"
    )
    assert alert.state is AlertState.ACKNOWLEDGED
    (cause,) = notices(ctx, "alert.cause_found")
    assert cause.to == org.employee.employee_no
    assert cause.params["cause"] == "finance_approval"
    assert cause.params["fix_date"] == "2026-10-13"

    # Paused: neither the 24-hour nor the 48-hour... nor any time before the fix date ends.
    assert sweep_at(ctx, clock, T0 + 24 * HOUR) == (0, 0)
    assert sweep_at(ctx, clock, END_OF_OCT_13 - timedelta(seconds=1)) == (0, 0)
    assert notices(ctx, "alert.level2") == []
    assert alert_state(ctx, alert_id) == (AlertState.ACKNOWLEDGED, 1)

    # Missed: re-opened at level 2, and the HR who promised the date is told.
    assert sweep_at(ctx, clock, END_OF_OCT_13) == (1, 0)
    assert alert_state(ctx, alert_id) == (AlertState.OPEN, 2)
    assert [n.to for n in notices(ctx, "alert.level2")] == [org.hr_manager.employee_no]
    (missed,) = notices(ctx, "alert.fix_date_missed")
    assert missed.to == org.hr.employee_no
    reopen = [a for a in audit_trail(ctx, "alert", alert_id) if a.action == "alert.reopen"]
    assert [(a.from_state, a.to_state) for a in reopen] == [("acknowledged", "open")]
    assert reopen[0].detail["missed_fix_date"] == "2026-10-13"

    # The next level counts from the re-opening, as the policy says (24 h after level 2).
    assert sweep_at(ctx, clock, END_OF_OCT_13 + 23 * HOUR + 59 * MINUTE) == (0, 0)
    assert sweep_at(ctx, clock, END_OF_OCT_13 + 24 * HOUR) == (1, 0)
    assert [n.to for n in notices(ctx, "alert.level3")] == [org.hr_director.employee_no]


def test_acknowledging_after_level_two_reopens_at_level_three(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    alert_id = held_claim_alert(ctx, org)
    sweep_at(ctx, clock, T0 + 25 * HOUR)  # the manager has been told
    acknowledge_alert(ctx, alert_id, org.hr.id, DelayReason.BANK_FAILURE, date(2026, 10, 13))
    assert sweep_at(ctx, clock, END_OF_OCT_13 - MINUTE) == (0, 0)
    assert sweep_at(ctx, clock, END_OF_OCT_13) == (1, 0)
    assert alert_state(ctx, alert_id) == (AlertState.OPEN, 3)
    assert len(notices(ctx, "alert.level3")) == 1


def test_a_fix_date_of_today_pauses_until_local_midnight(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    alert_id = held_claim_alert(ctx, org)
    acknowledge_alert(ctx, alert_id, org.hr.id, DelayReason.OTHER, date(2026, 10, 12))
    end_of_oct_12 = datetime(2026, 10, 12, 16, 0, tzinfo=UTC)
    assert sweep_at(ctx, clock, end_of_oct_12 - timedelta(seconds=1)) == (0, 0)
    assert sweep_at(ctx, clock, end_of_oct_12) == (1, 0)
    assert alert_state(ctx, alert_id) == (AlertState.OPEN, 2)


def test_acknowledging_needs_hr_and_a_date_not_in_the_past(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    alert_id = held_claim_alert(ctx, org)
    with pytest.raises(PermissionDenied):
        acknowledge_alert(ctx, alert_id, org.finance.id, DelayReason.OTHER, date(2026, 10, 13))
    with pytest.raises(PermissionDenied):
        acknowledge_alert(ctx, alert_id, org.employee.id, DelayReason.OTHER, date(2026, 10, 13))
    with pytest.raises(InvalidValue):
        acknowledge_alert(ctx, alert_id, org.hr.id, DelayReason.OTHER, date(2026, 10, 11))
    assert alert_state(ctx, alert_id) == (AlertState.OPEN, 1)
    assert notices(ctx, "alert.cause_found") == []
    # The refused acknowledgements paused nothing.
    assert sweep_at(ctx, clock, T0 + 24 * HOUR) == (1, 0)


def test_resolving_cancels_every_pending_step(ctx: Context, org: Org, clock: ManualClock) -> None:
    alert_id = held_claim_alert(ctx, org)
    clock.set(T0 + HOUR)
    alert = resolve_alert(ctx, alert_id, org.hr.id, "paid by hand at the bureau")
    assert (alert.state, alert.resolved_by, alert.resolved_at) == (
        AlertState.RESOLVED,
        org.hr.id,
        T0 + HOUR,
    )
    with ctx.uow() as uow:
        assert [s.state for s in uow.alerts.steps(alert_id)] == [
            StepState.FIRED,
            StepState.CANCELLED,
            StepState.CANCELLED,
        ]
    assert sweep_at(ctx, clock, T0 + 100 * HOUR) == (0, 0)
    assert keys_to(ctx) == [("alert.level1", org.hr.employee_no)]
    with pytest.raises(IllegalTransition):
        resolve_alert(ctx, alert_id, org.hr.id, "again")
    with pytest.raises(IllegalTransition):
        acknowledge_alert(ctx, alert_id, org.hr.id, DelayReason.OTHER, date(2026, 10, 31))


def test_resolving_an_acknowledged_alert_cancels_its_reopening(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    alert_id = held_claim_alert(ctx, org)
    acknowledge_alert(ctx, alert_id, org.hr.id, DelayReason.OTHER, date(2026, 10, 13))
    resolve_alert(ctx, alert_id, org.hr.id, "fixed")
    assert sweep_at(ctx, clock, END_OF_OCT_13 + 72 * HOUR) == (0, 0)
    assert notices(ctx, "alert.fix_date_missed") == []
    assert alert_state(ctx, alert_id) == (AlertState.RESOLVED, 1)


def test_after_downtime_each_overdue_step_fires_once_in_order(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    alert_id = held_claim_alert(ctx, org)
    assert org.hr_manager is not None and org.hr_director is not None

    assert sweep_at(ctx, clock, T0 + 5 * 24 * HOUR) == (2, 0)
    assert keys_to(ctx) == [
        ("alert.level1", org.hr.employee_no),
        ("alert.level2", org.hr_manager.employee_no),
        ("alert.level3", org.hr_director.employee_no),
    ]
    with ctx.uow() as uow:
        steps = uow.alerts.steps(alert_id)
        assert [(s.level, s.state, s.fired_at) for s in steps] == [
            (1, StepState.FIRED, T0),
            (2, StepState.FIRED, T0 + 5 * 24 * HOUR),
            (3, StepState.FIRED, T0 + 5 * 24 * HOUR),
        ]
    assert sweep_at(ctx, clock, T0 + 5 * 24 * HOUR) == (0, 0)
    assert sweep_at(ctx, clock, T0 + 6 * 24 * HOUR) == (0, 0)
    assert len(keys_to(ctx)) == 3


def test_after_downtime_a_missed_fix_date_reopens_once(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    alert_id = held_claim_alert(ctx, org)
    acknowledge_alert(ctx, alert_id, org.hr.id, DelayReason.OTHER, date(2026, 10, 13))
    later = END_OF_OCT_13 + 10 * 24 * HOUR
    assert sweep_at(ctx, clock, later) == (1, 0)
    assert sweep_at(ctx, clock, later) == (0, 0)
    assert len(notices(ctx, "alert.fix_date_missed")) == 1
    assert len(notices(ctx, "alert.level2")) == 1
    # Level 3 is due a day after the re-opening, not at once.
    assert sweep_at(ctx, clock, later + 24 * HOUR) == (1, 0)


def test_a_level_with_nobody_to_notify_is_skipped_and_recorded(
    ctx: Context, clock: ManualClock
) -> None:
    org = make_org(ctx, with_manager=False)
    assert org.hr_director is not None
    alert_id = held_claim_alert(ctx, org)

    assert sweep_at(ctx, clock, T0 + 24 * HOUR) == (0, 1)
    assert notices(ctx, "alert.level2") == []
    assert alert_state(ctx, alert_id) == (AlertState.OPEN, 1)
    with ctx.uow() as uow:
        skipped = [s for s in uow.alerts.steps(alert_id) if s.level == 2]
        assert [(s.state, s.fired_at) for s in skipped] == [(StepState.SKIPPED, T0 + 24 * HOUR)]
        assert skipped[0].note is not None and "hr_manager" in skipped[0].note
    (record,) = [
        a for a in audit_trail(ctx, "alert", alert_id) if a.action == "alert.level_skipped"
    ]
    assert record.detail == {"level": 2, "role": "hr_manager"}

    # The next level still fires on time, and the skipped one is not retried.
    assert sweep_at(ctx, clock, T0 + 48 * HOUR) == (1, 0)
    assert [n.to for n in notices(ctx, "alert.level3")] == [org.hr_director.employee_no]
    assert sweep_at(ctx, clock, T0 + 96 * HOUR) == (0, 0)


def test_a_leaver_is_not_chased(ctx: Context, clock: ManualClock) -> None:
    org = make_org(ctx)
    assert org.hr_manager is not None
    with ctx.uow() as uow:
        uow.directory.employee(org.hr_manager.id).leave_date = date(2026, 9, 30)
        uow.commit()
    held_claim_alert(ctx, org)
    assert sweep_at(ctx, clock, T0 + 24 * HOUR) == (0, 1)
    assert notices(ctx, to=org.hr_manager) == []


def test_an_alert_keeps_the_policy_it_started_with(ctx: Context, clock: ManualClock) -> None:
    org = make_org(ctx)
    assert org.hr_manager is not None and org.hr_director is not None
    alert_id = held_claim_alert(ctx, org)
    acknowledge_alert(ctx, alert_id, org.hr.id, DelayReason.OTHER, date(2026, 10, 13))

    # The policy is changed to 1 h / 2 h while the alert is paused.
    quick = dataclasses.replace(
        ctx, rules=Rules(policy=default_policy(manager_hours=1, director_hours=2))
    )
    assert sweep_at(quick, clock, END_OF_OCT_13) == (1, 0)
    assert alert_state(ctx, alert_id) == (AlertState.OPEN, 2)
    # Level 3 still follows the alert's own policy: 24 h after level 2, not 1 h.
    assert sweep_at(quick, clock, END_OF_OCT_13 + 23 * HOUR) == (0, 0)
    assert sweep_at(quick, clock, END_OF_OCT_13 + 24 * HOUR) == (1, 0)

    # A new alert under the new policy gets a new version and the new timing.
    with ctx.uow() as uow:
        first_version = uow.alerts.get(alert_id).policy_version
    hired = make_org(quick, code="BJ01")
    later = END_OF_OCT_13 + 25 * HOUR
    clock.set(later)
    second = held_claim_alert(quick, hired)
    with ctx.uow() as uow:
        assert uow.alerts.get(second).policy_version == first_version + 1
        reopen_steps = [s for s in uow.alerts.steps(second) if s.kind is StepKind.REOPEN]
        assert reopen_steps == []
    assert sweep_at(quick, clock, later + HOUR) == (1, 0)
    assert alert_state(ctx, second) == (AlertState.OPEN, 2)
