"""Absences (``/away``): an approver or HR person away for some days, and who stands in.

Dates are inclusive local dates (``HRBOT_TIMEZONE``): an absence from 12-01 to 12-07 starts when
12-01 begins and ends when 12-07 ends. The substitute is never the person themselves and must be
able to do the work: any HR role stands in for an HR role, only finance for finance. Substitutes
never form a loop on any day (A for B while B for A, or A → B → C → A): nobody would act at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.domain.directory import HR_ROLES, STAFF_ROLES, Role
from core.domain.errors import DomainError, InvalidValue, PermissionDenied

MAX_DAYS = 366
"""The longest absence one command may set: a longer one is a change in the directory."""

AWAY_ROLES = STAFF_ROLES
"""Who may set an absence: the people items are routed to."""


class SubstituteCycle(DomainError):
    """The substitutes would go round in a loop on some day; ``chain`` names them in order."""

    code = "error.substitute_cycle"


@dataclass(eq=False)
class Absence:
    employee_id: int
    starts_on: date
    ends_on: date
    substitute_id: int | None
    created_at: datetime
    channel: str | None
    cancelled_at: datetime | None = None
    id: int | None = None

    def active_on(self, day: date) -> bool:
        """Away on ``day`` (a local date): from the start of ``starts_on`` to the end of
        ``ends_on``, unless cancelled."""
        return self.cancelled_at is None and self.starts_on <= day <= self.ends_on

    def overlaps(self, starts_on: date, ends_on: date) -> bool:
        return self.cancelled_at is None and self.starts_on <= ends_on and starts_on <= self.ends_on


def may_substitute(absent: Role, substitute: Role) -> bool:
    """Any HR role stands in for an HR role; only finance for finance."""
    if absent in HR_ROLES:
        return substitute in HR_ROLES
    return absent is Role.FINANCE and substitute is Role.FINANCE


def check_dates(starts_on: date, ends_on: date, today: date) -> None:
    if ends_on < starts_on:
        raise InvalidValue("the absence ends before it starts", field="dates")
    if ends_on < today:
        raise InvalidValue("the absence is already over", field="dates")
    if ends_on - starts_on >= timedelta(days=MAX_DAYS):
        raise InvalidValue(f"an absence lasts at most {MAX_DAYS} days", field="dates")


def check_absence(
    employee_id: int,
    role: Role,
    starts_on: date,
    ends_on: date,
    today: date,
    substitute: tuple[int, Role] | None,
) -> None:
    """Every rule but loops and overlaps (which need the other absences): raises on the first."""
    if role not in AWAY_ROLES:
        raise PermissionDenied("only HR and finance approvers set absences", role=str(role))
    check_dates(starts_on, ends_on, today)
    if substitute is None:
        return
    substitute_id, substitute_role = substitute
    if substitute_id == employee_id:
        raise InvalidValue("nobody substitutes for themselves", field="substitute_self")
    if not may_substitute(role, substitute_role):
        raise InvalidValue(
            f"a {substitute_role} cannot do the work of a {role}",
            field="substitute_role",
            role=str(role),
            substitute_role=str(substitute_role),
        )


def find_cycle(
    employee_id: int,
    substitute_id: int,
    starts_on: date,
    ends_on: date,
    others: Iterable[Absence],
) -> list[int] | None:
    """The loop the new absence would close, as employee ids ``[A, B, …, A]``, or None.

    Follows substitutes through the other absences, narrowing the window to the days every link
    shares: a chain that returns to ``employee_id`` with at least one day left is a loop.
    """
    by_employee: dict[int, list[Absence]] = {}
    for absence in others:
        if absence.cancelled_at is None and absence.substitute_id is not None:
            by_employee.setdefault(absence.employee_id, []).append(absence)

    def walk(person: int, low: date, high: date, chain: list[int]) -> list[int] | None:
        for absence in by_employee.get(person, ()):
            first, last = max(low, absence.starts_on), min(high, absence.ends_on)
            following = absence.substitute_id
            if first > last or following is None:
                continue
            if following == employee_id:
                return [*chain, following]
            if following in chain:
                continue  # a loop among the others does not involve this absence
            found = walk(following, first, last, [*chain, following])
            if found:
                return found
        return None

    return walk(substitute_id, starts_on, ends_on, [employee_id, substitute_id])


def stand_in(employee_id: int, absence_of: Callable[[int], Absence | None]) -> list[int]:
    """The chain from ``employee_id`` to whoever acts for them on one day.

    ``absence_of`` gives a person's absence that day, if any. The last id of the chain acts,
    unless that person is away too, which happens when the chain ends with nobody named or
    would loop: then nobody acts (the caller checks ``absence_of(chain[-1])``).
    """
    chain = [employee_id]
    while True:
        absence = absence_of(chain[-1])
        if absence is None or absence.substitute_id is None or absence.substitute_id in chain:
            return chain
        chain.append(absence.substitute_id)
