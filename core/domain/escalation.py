"""Alerts and their escalation: who is told, when, and what pauses or ends it.

An alert (a branch's overdue batch, an employee's abnormal status, a held claim) is ``open →
acknowledged → resolved``. Its policy says which role each level reaches and how long after the
alert opened: by default the responsible HR at once, the HR manager at 24 h and the HR director at
48 h. Every level is a timer row (``EscalationStep``) with a due time in UTC, so any worker can
fire it after a restart, exactly once. Acknowledging needs a cause and an expected fix date and
pauses escalation until the end of that date; a missed date re-opens the alert at the next level.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo

from core.domain.contributions import DelayReason
from core.domain.directory import Role
from core.domain.errors import InvalidValue
from core.domain.statemachine import TransitionTable
from core.domain.workclock import Delay, DelayUnit, WorkClock


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


ALERT_LIFECYCLE = TransitionTable[AlertState](
    name="alert",
    initial=AlertState.OPEN,
    rows={
        (AlertState.OPEN, "acknowledge"): AlertState.ACKNOWLEDGED,
        (AlertState.ACKNOWLEDGED, "reopen"): AlertState.OPEN,
        (AlertState.OPEN, "resolve"): AlertState.RESOLVED,
        (AlertState.ACKNOWLEDGED, "resolve"): AlertState.RESOLVED,
    },
    finals=frozenset({AlertState.RESOLVED}),
)


class SubjectKind(StrEnum):
    CONTRIBUTION_BATCH = "contribution_batch"
    EMPLOYEE_STATUS = "employee_status"
    HELD_CLAIM = "held_claim"
    BATCH_APPROVAL = "batch_approval"
    """A batch waiting for HR's check or finance's approval past its own deadline."""
    CLAIM_APPROVAL = "claim_approval"
    """A claim waiting for finance's decision past its own deadline."""


class StepState(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class StepKind(StrEnum):
    ESCALATE = "escalate"
    REOPEN = "reopen"


@dataclass(frozen=True)
class PolicyLevel:
    level: int
    role: Role
    delay: Delay
    """How long after the alert opened (or re-opened at the first level) this level is told:
    calendar hours, working hours or working days of the branch's calendar. A ``timedelta`` is
    taken as calendar hours."""
    channels: tuple[str, ...] = ("chat", "email")

    def __post_init__(self) -> None:
        if isinstance(self.delay, timedelta):
            hours = self.delay.total_seconds() / 3600
            object.__setattr__(self, "delay", Delay.calendar(hours))

    @property
    def after(self) -> timedelta:
        """The delay as a duration (calendar and working hours; working days have none)."""
        return self.delay.span


DEFAULT_REPEAT = 2
"""How many times the last level is told again, one interval apart, before the alert goes on
the weekly management list."""
MAX_REPEAT = 10


@dataclass(frozen=True)
class EscalationPolicy:
    name: str
    levels: tuple[PolicyLevel, ...]
    version: int = 1
    repeat: int = 0
    """The last level is told again this many times, ``repeat_every`` apart."""
    repeat_every: Delay | None = None
    """The gap between repeats; by default the gap between the last two levels (or one day)."""

    def __post_init__(self) -> None:
        numbers = [lvl.level for lvl in self.levels]
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise InvalidValue("policy levels must be numbered 1, 2, 3 …", policy=self.name)
        if not 0 <= self.repeat <= MAX_REPEAT:
            raise InvalidValue(f"repeat must be 0 to {MAX_REPEAT}", policy=self.name)
        if self.repeat_every is not None and (
            self.repeat_every.unit is not self.levels[0].delay.unit or self.repeat_every.amount <= 0
        ):
            raise InvalidValue(
                "repeats count in the levels' unit and must be more than zero", policy=self.name
            )
        if len({lvl.delay.unit for lvl in self.levels}) > 1:
            raise InvalidValue("every level of a policy counts in the same unit", policy=self.name)
        amounts = [lvl.delay.amount for lvl in self.levels]
        if any(b < a for a, b in pairwise(amounts)):
            raise InvalidValue("policy delays must not decrease", policy=self.name)

    def level(self, number: int) -> PolicyLevel:
        return self.levels[min(number, self.top) - 1]

    @property
    def interval(self) -> Delay:
        """The gap between repeats of the last level."""
        if self.repeat_every is not None:
            return self.repeat_every
        if self.top > 1:
            gap = self.levels[-1].delay.amount - self.levels[-2].delay.amount
            if gap > 0:
                return Delay(gap, self.unit)
        return Delay(1 if self.unit is DelayUnit.WORKING_DAYS else 24, self.unit)

    @property
    def top(self) -> int:
        return len(self.levels)

    @property
    def unit(self) -> DelayUnit:
        return self.levels[0].delay.unit

    def schedule(
        self, start_level: int, start_at: datetime, clock: WorkClock | None = None
    ) -> list[tuple[int, datetime]]:
        """Due times of ``start_level`` and every level above it, then the last level's repeats,
        counting from ``start_at``; working-time delays count on ``clock`` (the branch's
        calendar and working hours). A repeat is the last level again: same number, later."""
        if self.unit is not DelayUnit.HOURS and clock is None:
            raise InvalidValue("a working-time policy needs the branch's clock", policy=self.name)
        start_level = min(start_level, self.top)
        base = self.level(start_level).delay.amount
        last = self.levels[-1].delay.amount
        plan = [(lvl.level, lvl.delay.amount) for lvl in self.levels[start_level - 1 :]]
        plan += [(self.top, last + k * self.interval.amount) for k in range(1, self.repeat + 1)]
        due = []
        for number, amount in plan:
            offset = Delay(amount - base, self.unit)
            if clock is None or self.unit is DelayUnit.HOURS:
                due.append((number, start_at + offset.span))
            else:
                due.append((number, clock.add(start_at, offset)))
        return due

    def in_calendar_hours(self) -> EscalationPolicy:
        """The same policy on the wall clock (a working day as 24 h): the fallback when the
        holiday calendar has no data for a year, so an alert still escalates, later than never."""
        if self.unit is DelayUnit.HOURS:
            return self
        per = 24 if self.unit is DelayUnit.WORKING_DAYS else 1
        levels = tuple(
            replace(lvl, delay=Delay.calendar(lvl.delay.amount * per)) for lvl in self.levels
        )
        every = self.repeat_every
        return replace(
            self,
            levels=levels,
            repeat_every=Delay.calendar(every.amount * per) if every is not None else None,
        )

    def levels_json(self) -> str:
        """The stored form; calendar hours keep their first format (``after_seconds``), so a
        policy that did not change is never stored as a new version."""
        items = []
        for lvl in self.levels:
            item: dict[str, object] = {
                "level": lvl.level,
                "role": str(lvl.role),
                "channels": list(lvl.channels),
            }
            if lvl.delay.unit is DelayUnit.HOURS:
                item["after_seconds"] = int(lvl.after.total_seconds())
            else:
                item["delay"] = str(lvl.delay)
            items.append(item)
        return json.dumps(items, sort_keys=True)

    def repeat_text(self) -> str | None:
        """The stored form of ``repeat_every`` (None: the gap between the last two levels)."""
        return str(self.repeat_every) if self.repeat_every is not None else None

    @classmethod
    def from_json(
        cls,
        name: str,
        version: int,
        text: str,
        repeat: int = 0,
        repeat_every: str | None = None,
    ) -> EscalationPolicy:
        levels = tuple(
            PolicyLevel(
                int(item["level"]),
                Role(item["role"]),
                Delay.parse(item["delay"])
                if "delay" in item
                else Delay.calendar(int(item["after_seconds"]) / 3600),
                tuple(item["channels"]),
            )
            for item in json.loads(text)
        )
        every = Delay.parse(repeat_every) if repeat_every else None
        return cls(name, levels, version, repeat, every)


@dataclass(frozen=True)
class PolicyVersion:
    """One stored version of a policy: who wrote it (None: taken from settings) and how many
    alerts started under it (they keep it to the end)."""

    policy: EscalationPolicy
    edited_at: datetime | None
    edited_by: str | None
    note: str | None
    alerts: int


def default_policy(
    hr_hours: float = 0,
    manager_hours: float = 24,
    director_hours: float = 48,
    unit: DelayUnit = DelayUnit.HOURS,
    repeat: int = 0,
) -> EscalationPolicy:
    """The seed's policy: HR at once, the HR manager after 24 h, the HR director after 48 h
    (in calendar hours unless ``unit`` says working hours or working days); settings add the
    director's repeats (``HRBOT_ESCALATION_REPEAT``, 2 unless changed)."""
    return EscalationPolicy(
        "default",
        (
            PolicyLevel(1, Role.HR, Delay(hr_hours, unit)),
            PolicyLevel(2, Role.HR_MANAGER, Delay(manager_hours, unit)),
            PolicyLevel(3, Role.HR_DIRECTOR, Delay(director_hours, unit)),
        ),
        repeat=repeat,
    )


@dataclass(eq=False)
class Alert:
    subject_kind: SubjectKind
    subject_id: int
    branch_id: int
    opened_at: datetime
    policy_name: str
    policy_version: int
    employee_id: int | None = None
    suspected_cause: DelayReason | None = None
    state: AlertState = AlertState.OPEN
    level: int = 0
    cause: DelayReason | None = None
    cause_note: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = None
    expected_fix_date: date | None = None
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    resolution: str | None = None
    flagged_at: datetime | None = None
    """When the policy ran out (last level told, repeats and all) with the alert still open:
    from then on it is on the weekly management list until resolved."""
    id: int = field(init=False)

    def move(self, event: str) -> tuple[AlertState, AlertState]:
        before = self.state
        self.state = ALERT_LIFECYCLE.apply(before, event)
        return before, self.state

    def acknowledge(
        self, by: int, cause: DelayReason, fix_date: date, now: datetime, today: date
    ) -> tuple[AlertState, AlertState]:
        if fix_date < today:
            raise InvalidValue("the expected fix date is in the past", field="fix_date")
        moved = self.move("acknowledge")
        self.cause = cause
        self.acknowledged_at = now
        self.acknowledged_by = by
        self.expected_fix_date = fix_date
        return moved

    def resolve(
        self, by: int | None, resolution: str, now: datetime
    ) -> tuple[AlertState, AlertState]:
        moved = self.move("resolve")
        self.resolved_at = now
        self.resolved_by = by
        self.resolution = resolution
        return moved


@dataclass(eq=False)
class EscalationStep:
    """A timer row: tell ``level`` at ``due_at`` unless cancelled first. Fires at most once."""

    alert_id: int
    level: int
    due_at: datetime
    kind: StepKind = StepKind.ESCALATE
    state: StepState = StepState.PENDING
    fired_at: datetime | None = None
    note: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    id: int = field(init=False)


def end_of_day_utc(day: date, tz: ZoneInfo) -> datetime:
    """The instant ``day`` ends in ``tz`` (midnight after it), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()
