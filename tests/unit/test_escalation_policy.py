"""The escalation policy: who is told when, and the instant a fix date ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.domain.directory import Role
from core.domain.errors import InvalidValue
from core.domain.escalation import (
    EscalationPolicy,
    PolicyLevel,
    default_policy,
    end_of_day_utc,
    local_today,
)

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("start_level", "expected"),
    [
        (1, [(1, T0), (2, T0 + 24 * H), (3, T0 + 48 * H)]),
        (2, [(2, T0), (3, T0 + 24 * H)]),
        (3, [(3, T0)]),
    ],
)
def test_default_schedule(start_level: int, expected: list[tuple[int, datetime]]) -> None:
    assert default_policy().schedule(start_level, T0) == expected


def test_default_policy_reaches_hr_then_manager_then_director() -> None:
    policy = default_policy()
    assert [(lvl.level, lvl.role, lvl.after) for lvl in policy.levels] == [
        (1, Role.HR, timedelta(0)),
        (2, Role.HR_MANAGER, 24 * H),
        (3, Role.HR_DIRECTOR, 48 * H),
    ]
    assert policy.level(1).channels == ("chat", "email")
    assert policy.top == 3


def test_delays_are_configurable() -> None:
    policy = default_policy(hr_hours=1, manager_hours=4, director_hours=12)
    assert policy.schedule(1, T0) == [(1, T0), (2, T0 + 3 * H), (3, T0 + 11 * H)]
    assert policy.schedule(2, T0) == [(2, T0), (3, T0 + 8 * H)]


def test_a_two_level_policy() -> None:
    policy = EscalationPolicy(
        "short", (PolicyLevel(1, Role.HR, 0 * H), PolicyLevel(2, Role.HR_DIRECTOR, 2 * H)), 4
    )
    assert policy.schedule(1, T0) == [(1, T0), (2, T0 + 2 * H)]
    assert policy.top == 2


@pytest.mark.parametrize(
    "levels",
    [
        pytest.param((), id="no-levels"),
        pytest.param((PolicyLevel(2, Role.HR, 0 * H),), id="not-starting-at-1"),
        pytest.param(
            (PolicyLevel(1, Role.HR, 0 * H), PolicyLevel(3, Role.HR_DIRECTOR, H)), id="gap"
        ),
        pytest.param(
            (PolicyLevel(1, Role.HR, 5 * H), PolicyLevel(2, Role.HR_MANAGER, H)),
            id="decreasing-delay",
        ),
    ],
)
def test_malformed_policies_are_refused(levels: tuple[PolicyLevel, ...]) -> None:
    with pytest.raises(InvalidValue):
        EscalationPolicy("bad", levels)


def test_levels_survive_their_stored_form() -> None:
    policy = EscalationPolicy(
        "custom",
        (
            PolicyLevel(1, Role.HR, 0 * H, ("chat",)),
            PolicyLevel(2, Role.HR_MANAGER, 90 * timedelta(minutes=1), ("chat", "email", "sms")),
        ),
        3,
    )
    again = EscalationPolicy.from_json("custom", 3, policy.levels_json())
    assert again == policy


@pytest.mark.parametrize(
    ("day", "tz", "ends_at"),
    [
        (date(2026, 10, 13), SHANGHAI, datetime(2026, 10, 13, 16, 0, tzinfo=UTC)),
        (date(2026, 12, 31), SHANGHAI, datetime(2026, 12, 31, 16, 0, tzinfo=UTC)),
        (date(2026, 10, 13), ZoneInfo("UTC"), datetime(2026, 10, 14, 0, 0, tzinfo=UTC)),
        # Daylight saving: 2026-03-08 is 23 hours long in New York.
        (date(2026, 3, 8), ZoneInfo("America/New_York"), datetime(2026, 3, 9, 4, 0, tzinfo=UTC)),
    ],
)
def test_a_fix_date_ends_at_local_midnight(day: date, tz: ZoneInfo, ends_at: datetime) -> None:
    assert end_of_day_utc(day, tz) == ends_at
    assert local_today(ends_at - timedelta(seconds=1), tz) == day
    assert local_today(ends_at, tz) == day + timedelta(days=1)


def test_repeats_tell_the_last_level_again_one_gap_apart() -> None:
    from datetime import UTC, datetime, timedelta

    from core.domain.escalation import default_policy

    start = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
    plan = default_policy(repeat=2).schedule(1, start)
    hours = [(level, (due - start) / timedelta(hours=1)) for level, due in plan]
    assert hours == [(1, 0), (2, 24), (3, 48), (3, 72), (3, 96)]
    # Re-opened at level 3 after a missed fix date: level 3 now, then its two repeats.
    again = default_policy(repeat=2).schedule(3, start)
    assert [(due - start) / timedelta(hours=1) for _, due in again] == [0, 24, 48]


def test_repeat_bounds_and_stored_form_round_trip() -> None:
    import pytest

    from core.domain.errors import InvalidValue
    from core.domain.escalation import EscalationPolicy, default_policy
    from core.domain.workclock import Delay, DelayUnit

    with pytest.raises(InvalidValue):
        default_policy(repeat=11)
    policy = default_policy(unit=DelayUnit.WORKING_HOURS, repeat=1)
    every = EscalationPolicy(policy.name, policy.levels, 3, 1, Delay(4, DelayUnit.WORKING_HOURS))
    back = EscalationPolicy.from_json("default", 3, every.levels_json(), 1, every.repeat_text())
    assert back == every
    with pytest.raises(InvalidValue):  # repeats count in the levels' unit
        EscalationPolicy(policy.name, policy.levels, 1, 1, Delay.calendar(4))
