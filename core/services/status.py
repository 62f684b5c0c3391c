"""The contribution status check: ``hrbot status``, the bot's /status and the claim check."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from core.domain.contributions import StatusReport, evaluate
from core.domain.directory import Employee
from core.domain.errors import InvalidValue, NotFound
from core.domain.periods import Period
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork


def status_of(
    uow: UnitOfWork, employee: Employee, today: date, months: int, lapse_after: int
) -> StatusReport:
    since = Period.of(today).shift(-(months - 1))
    records = uow.contributions.for_employee(employee.id, since=since)
    return evaluate(employee, records, today, months, lapse_after)


def check_status(ctx: Context, employee_no: str, months: int | None = None) -> StatusReport:
    """Status of one employee over the self-service window (6 months unless told)."""
    window = ctx.rules.self_service_months if months is None else months
    if not 1 <= window <= 120:
        raise InvalidValue("months must be between 1 and 120", field="months")
    with ctx.uow() as uow:
        employee = uow.directory.employee_by_no(employee_no.strip())
        if employee is None:
            raise NotFound(f"no employee with number {employee_no.strip()!r}", kind="employee")
        return status_of(uow, employee, ctx.today(), window, ctx.rules.lapse_after)
