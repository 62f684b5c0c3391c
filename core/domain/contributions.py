"""Contribution records and the status rules shared by ``hrbot status``, the bot and the dashboard.

The rules (CONTRACT.md): the window is the N most recent months up to the current one, minus
months outside employment. A month is ``paid_on_time`` when paid on or before its due date,
``paid_late`` when paid after it, ``overdue`` when unpaid once its due date has ended,
``unpaid_not_due`` before that; the current month with no record is ``unpaid_not_due`` and a past
month with no record ``not_enrolled``. ``lapsed`` if any month is not enrolled or ``lapse_after``
consecutive months are overdue; else ``delayed`` if any is overdue; else ``normal``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from core.domain.directory import Employee
from core.domain.periods import Period, window

CLAIM_CHECK_MONTHS = 3
SELF_SERVICE_MONTHS = 6
LAPSE_AFTER_OVERDUE_MONTHS = 3


class MonthState(StrEnum):
    PAID_ON_TIME = "paid_on_time"
    PAID_LATE = "paid_late"
    UNPAID_NOT_DUE = "unpaid_not_due"
    OVERDUE = "overdue"
    NOT_ENROLLED = "not_enrolled"


class Status(StrEnum):
    NORMAL = "normal"
    DELAYED = "delayed"
    LAPSED = "lapsed"


class DelayReason(StrEnum):
    FINANCE_APPROVAL = "finance_approval"
    HR_VERIFICATION = "hr_verification"
    BUREAU_SYSTEM = "bureau_system"
    BANK_FAILURE = "bank_failure"
    DATA_ERROR = "data_error"
    OTHER = "other"


@dataclass(eq=False)
class ContributionRecord:
    """One employee's contribution for one month (the natural key is employee + period)."""

    employee_id: int
    period: Period
    base: Decimal
    employer_amount: Decimal
    employee_amount: Decimal
    due_date: date
    paid_date: date | None = None
    delay_reason: DelayReason | None = None
    id: int = field(init=False)

    def state_on(self, today: date) -> MonthState:
        if self.paid_date is not None:
            return (
                MonthState.PAID_ON_TIME if self.paid_date <= self.due_date else MonthState.PAID_LATE
            )
        return MonthState.OVERDUE if today > self.due_date else MonthState.UNPAID_NOT_DUE

    def mark_paid(self, paid_on: date) -> None:
        if self.paid_date is None:
            self.paid_date = paid_on


@dataclass(frozen=True)
class MonthView:
    period: Period
    state: MonthState
    due_date: date | None = None
    paid_date: date | None = None
    delay_reason: DelayReason | None = None


@dataclass(frozen=True)
class StatusReport:
    employee_no: str
    status: Status
    months: tuple[MonthView, ...]

    @property
    def overdue(self) -> tuple[MonthView, ...]:
        return tuple(m for m in self.months if m.state is MonthState.OVERDUE)

    @property
    def problem_months(self) -> tuple[MonthView, ...]:
        bad = {MonthState.OVERDUE, MonthState.NOT_ENROLLED}
        return tuple(m for m in self.months if m.state in bad)

    def to_json(self) -> dict[str, object]:
        return {
            "employee_no": self.employee_no,
            "status": str(self.status),
            "months": [
                {
                    "period": str(m.period),
                    "state": str(m.state),
                    "due_date": m.due_date.isoformat() if m.due_date else None,
                    "paid_date": m.paid_date.isoformat() if m.paid_date else None,
                }
                for m in self.months
            ],
        }


def month_views(
    employee: Employee, records: Iterable[ContributionRecord], today: date, months: int
) -> tuple[MonthView, ...]:
    by_period = {record.period: record for record in records}
    current = Period.of(today)
    views = []
    for period in window(current, months):
        if not employee.employed_in(period):
            continue
        record = by_period.get(period)
        if record is not None:
            views.append(
                MonthView(
                    period,
                    record.state_on(today),
                    record.due_date,
                    record.paid_date,
                    record.delay_reason,
                )
            )
        elif period == current:
            views.append(MonthView(period, MonthState.UNPAID_NOT_DUE))
        else:
            views.append(MonthView(period, MonthState.NOT_ENROLLED))
    return tuple(views)


def overall_status(views: Iterable[MonthView], lapse_after: int) -> Status:
    run = longest = 0
    any_overdue = False
    for view in views:
        if view.state is MonthState.NOT_ENROLLED:
            return Status.LAPSED
        if view.state is MonthState.OVERDUE:
            any_overdue = True
            run += 1
            longest = max(longest, run)
        else:
            run = 0
    if longest >= lapse_after:
        return Status.LAPSED
    return Status.DELAYED if any_overdue else Status.NORMAL


def evaluate(
    employee: Employee,
    records: Iterable[ContributionRecord],
    today: date,
    months: int,
    lapse_after: int = LAPSE_AFTER_OVERDUE_MONTHS,
) -> StatusReport:
    """The status of ``employee`` on local date ``today`` over the last ``months`` months."""
    views = month_views(employee, records, today, months)
    return StatusReport(employee.employee_no, overall_status(views, lapse_after), views)
