"""The directory: a group's branches, departments and employees, and who answers for what.

HR and finance staff are employees too; their role says what they may do, and their
responsibilities say for which branches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from core.domain.periods import Period


class Role(StrEnum):
    EMPLOYEE = "employee"
    HR = "hr"
    HR_MANAGER = "hr_manager"
    HR_DIRECTOR = "hr_director"
    FINANCE = "finance"


HR_ROLES = frozenset({Role.HR, Role.HR_MANAGER, Role.HR_DIRECTOR})
STAFF_ROLES = HR_ROLES | {Role.FINANCE}
"""The people who act on cases: HR at every level and finance (not plain employees)."""


class Locale(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


def employed_in(hire_date: date, leave_date: date | None, period: Period) -> bool:
    """Employed at any time in the month: from the hire month to the leave month."""
    if period < Period.of(hire_date):
        return False
    return leave_date is None or period <= Period.of(leave_date)


@dataclass(eq=False)
class Branch:
    code: str
    name: str
    city: str = ""
    region: str = ""
    due_day: int = 15
    """Day of the month by which the branch's contributions for that month must be paid."""
    working_hours: str | None = None
    """Its own working hours (``09:00-18:00``) for working-time deadlines; None: the default."""
    id: int = field(init=False)


@dataclass(eq=False)
class Department:
    branch_id: int
    name: str
    id: int = field(init=False)


@dataclass(eq=False)
class Employee:
    employee_no: str
    name: str
    branch_id: int
    hire_date: date
    role: Role = Role.EMPLOYEE
    id_number: str | None = None
    department_id: int | None = None
    manager_id: int | None = None
    email: str | None = None
    phone: str | None = None
    slack_user_id: str | None = None
    telegram_user_id: str | None = None
    locale: Locale | None = None
    leave_date: date | None = None
    contribution_base: Decimal | None = None
    id: int = field(init=False)

    def employed_in(self, period: Period) -> bool:
        """Employed at any time in the month: from the hire month to the leave month."""
        return employed_in(self.hire_date, self.leave_date, period)

    def is_active(self, today: date) -> bool:
        return self.hire_date <= today and (self.leave_date is None or self.leave_date >= today)


@dataclass(eq=False)
class Responsibility:
    """An HR person or finance approver answering for one branch."""

    employee_id: int
    branch_id: int
    id: int = field(init=False)


@dataclass(eq=False)
class Assignment:
    """From ``start_date`` on, the employee belongs to ``branch_id`` (a hire or a transfer).

    The roster reads this history to put each month on the branch that paid it; with no
    history, the employee's current branch is used for every month.
    """

    employee_id: int
    branch_id: int
    start_date: date
    id: int = field(init=False)
