"""Deadline countdowns: reminders before a batch's due date, and the alarm when it passes.

For each branch and month not yet paid, HR and the finance approver are reminded at T−3 and T−1
days (configurable) at 09:00 local time, and an alert opens the moment the due date has ended
unpaid. Each is a timer row, like an escalation step, so it fires once whatever the workers do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.domain.escalation import StepState, end_of_day_utc

REMINDER_HOUR = 9


class ReminderKind(StrEnum):
    DEADLINE_SOON = "deadline_soon"
    DEADLINE_PASSED = "deadline_passed"


@dataclass(eq=False)
class Reminder:
    batch_id: int
    kind: ReminderKind
    days_before: int
    due_at: datetime
    state: StepState = StepState.PENDING
    fired_at: datetime | None = None
    note: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    id: int = field(init=False)


def countdown(
    due_date: date, days_before: tuple[int, ...], tz: ZoneInfo
) -> list[tuple[ReminderKind, int, datetime]]:
    """When to remind (each ``days_before`` at 09:00 local) and when the due date has passed."""
    plan = [
        (
            ReminderKind.DEADLINE_SOON,
            days,
            datetime.combine(due_date - timedelta(days=days), time(REMINDER_HOUR), tz).astimezone(
                UTC
            ),
        )
        for days in sorted(set(days_before), reverse=True)
        if days > 0
    ]
    plan.append((ReminderKind.DEADLINE_PASSED, 0, end_of_day_utc(due_date, tz)))
    return plan
