"""Delegation: set and cancel absences, and decide who receives an item while someone is away.

Recipients are chosen when a notice is sent, so an absence changes where new items, reminders
and escalations go from its first day, while notices already sent stay where they are. An away
person with a present substitute is replaced by that substitute, who receives the item "on
behalf of" them; an away person with nobody to stand in is left out (an alert's level then goes
on to the next) and every HR director is told once that the mapping is broken.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from core.domain.absences import (
    AWAY_ROLES,
    Absence,
    SubstituteCycle,
    check_absence,
    find_cycle,
    stand_in,
)
from core.domain.directory import Employee, Role
from core.domain.errors import InvalidValue, NotFound
from core.services.common import audit, notify
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

REMIND_DAYS_BEFORE = 3
"""An approver away with no substitute is reminded this many days before the absence starts."""


@dataclass(frozen=True)
class AbsenceView:
    absence: Absence
    substitute: Employee | None


def set_away(
    ctx: Context,
    employee_id: int,
    starts_on: date,
    ends_on: date,
    substitute_employee_no: str | None,
    channel: str | None = None,
) -> AbsenceView:
    """Record an absence; refused (nothing stored) on bad dates, an unknown or unfit substitute,
    an overlap with the person's own absence, or a loop of substitutes."""
    with ctx.uow() as uow:
        employee = uow.directory.employee(employee_id)
        substitute = _substitute(uow, substitute_employee_no, ends_on)
        check_absence(
            employee.id,
            employee.role,
            starts_on,
            ends_on,
            ctx.today(),
            (substitute.id, substitute.role) if substitute else None,
        )
        others = uow.absences.overlapping(starts_on, ends_on)
        if any(other.employee_id == employee.id for other in others):
            raise InvalidValue(
                "an absence of yours already covers some of these days", field="overlap"
            )
        if substitute is not None:
            _refuse_cycle(uow, employee, substitute, starts_on, ends_on, others)
        absence = uow.absences.add(
            Absence(
                employee.id,
                starts_on,
                ends_on,
                substitute.id if substitute else None,
                ctx.now(),
                channel,
            )
        )
        assert absence.id is not None
        audit(
            uow,
            ctx.now(),
            "away.set",
            ("absence", absence.id),
            employee,
            channel=channel,
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat(),
            substitute=substitute.employee_no if substitute else None,
        )
        if substitute is not None:
            notify(
                ctx,
                uow,
                substitute,
                "delegation.you_substitute",
                _params(employee, absence),
                f"away:{absence.id}:substitute",
            )
        uow.commit()
        return AbsenceView(absence, substitute)


def cancel_away(
    ctx: Context, employee_id: int, absence_id: int, channel: str | None = None
) -> AbsenceView:
    """Cancel one of the person's own absences that is not over yet."""
    with ctx.uow() as uow:
        employee = uow.directory.employee(employee_id)
        absence = uow.absences.get(absence_id)
        if absence is None or absence.employee_id != employee.id:
            raise NotFound(f"no absence {absence_id} of yours", kind="absence")
        if absence.cancelled_at is not None or absence.ends_on < ctx.today():
            raise InvalidValue("this absence is already over or cancelled", field="absence")
        uow.absences.cancel(absence_id, ctx.now())
        absence.cancelled_at = ctx.now()
        audit(uow, ctx.now(), "away.cancel", ("absence", absence_id), employee, channel=channel)
        substitute = (
            uow.directory.employee(absence.substitute_id) if absence.substitute_id else None
        )
        if substitute is not None:
            notify(
                ctx,
                uow,
                substitute,
                "delegation.cancelled",
                _params(employee, absence),
                f"away:{absence_id}:cancelled",
            )
        uow.commit()
        return AbsenceView(absence, substitute)


def my_absences(ctx: Context, employee_id: int) -> list[AbsenceView]:
    """The person's absences that are not over, soonest first."""
    with ctx.uow() as uow:
        found = uow.absences.of(employee_id, since=ctx.today())
        people = uow.directory.employees(a.substitute_id for a in found if a.substitute_id)
        return [AbsenceView(a, people.get(a.substitute_id or 0)) for a in found]


def covering_today(ctx: Context, employee_id: int) -> list[Employee]:
    """Whom the person stands in for today (their absent colleagues)."""
    with ctx.uow() as uow:
        return standing_in_for(uow, uow.directory.employee(employee_id), ctx.today())


def employee_no_for_chat(ctx: Context, platform: str, user_id: str) -> str | None:
    """The employee number of a chat user (a Slack mention names the substitute)."""
    with ctx.uow() as uow:
        found = uow.directory.employee_by_chat(platform, user_id)
        return found.employee_no if found else None


def who_acts_for(
    uow: UnitOfWork, employee: Employee, day: date
) -> tuple[Employee | None, Employee | None]:
    """``(who acts, on behalf of whom)`` on ``day``: ``(employee, None)`` when present,
    ``(substitute, employee)`` when away, ``(None, employee)`` when nobody present stands in
    (no substitute named, the chain loops, or it ends with someone who has left)."""
    chain = stand_in(employee.id, lambda person: uow.absences.active_for(person, day))
    if uow.absences.active_for(chain[-1], day) is not None:
        return None, employee
    if len(chain) == 1:
        return employee, None
    acting = uow.directory.employee(chain[-1])
    return (acting, employee) if acting.is_active(day) else (None, employee)


def delegates(
    ctx: Context, uow: UnitOfWork, people: Iterable[Employee], day: date | None = None
) -> list[tuple[Employee, Employee]]:
    """``(who receives, for whom)`` for each person an item would go to, each receiver once.

    Empty when everyone is away with nobody to stand in: the caller then skips the level.
    """
    day = day or ctx.today()
    chosen: list[tuple[Employee, Employee]] = []
    for person in people:
        acting, _ = who_acts_for(uow, person, day)
        if acting is None:
            _report_broken(ctx, uow, person, day)
        elif all(acting.id != other.id for other, _ in chosen):
            chosen.append((acting, person))
    return chosen


def behalf_params(acting: Employee, original: Employee) -> dict[str, Any]:
    """What a notice adds when its receiver stands in for someone (the renderer says so)."""
    if acting.id == original.id:
        return {}
    return {"on_behalf_of": original.name, "on_behalf_of_no": original.employee_no}


def behalf_detail(pairs: Sequence[tuple[Employee, Employee]]) -> dict[str, Any]:
    """For an audit row: receiver's employee number → the absent person's, when any."""
    stand_ins = {a.employee_no: o.employee_no for a, o in pairs if a.id != o.id}
    return {"on_behalf_of": stand_ins} if stand_ins else {}


def standing_in_for(uow: UnitOfWork, actor: Employee, day: date) -> list[Employee]:
    """Everyone whose work ``actor`` does on ``day``, through chains of substitutes too."""
    if uow.absences.active_for(actor.id, day) is not None:
        return []  # away themselves: their substitute acts, not they
    found: list[Employee] = []
    seen = {actor.id}
    waiting = [actor.id]
    while waiting:
        for absence in uow.absences.covered_by(waiting.pop(), day):
            if absence.employee_id not in seen:
                seen.add(absence.employee_id)
                waiting.append(absence.employee_id)
                found.append(uow.directory.employee(absence.employee_id))
    return found


def absence_reminders(ctx: Context) -> int:
    """Remind each approver whose absence starts in three days with no substitute, once."""
    day = ctx.today() + timedelta(days=REMIND_DAYS_BEFORE)
    queued = 0
    with ctx.uow() as uow:
        for absence in uow.absences.starting_on(day):
            employee = uow.directory.employee(absence.employee_id)
            if absence.substitute_id is not None or employee.role not in AWAY_ROLES:
                continue
            assert absence.id is not None
            queued += notify(
                ctx,
                uow,
                employee,
                "delegation.no_substitute",
                _params(employee, absence),
                f"away:{absence.id}:no_substitute",
            )
        uow.commit()
    return queued


def _substitute(uow: UnitOfWork, employee_no: str | None, ends_on: date) -> Employee | None:
    if employee_no is None:
        return None
    found = uow.directory.employee_by_no(employee_no.strip().lstrip("@"))
    if found is None:
        raise InvalidValue(f"no employee {employee_no}", field="substitute", value=employee_no)
    if found.leave_date is not None and found.leave_date < ends_on:
        raise InvalidValue("the substitute leaves before the absence ends", field="substitute_left")
    return found


def _refuse_cycle(
    uow: UnitOfWork,
    employee: Employee,
    substitute: Employee,
    starts_on: date,
    ends_on: date,
    others: list[Absence],
) -> None:
    chain = find_cycle(employee.id, substitute.id, starts_on, ends_on, others)
    if chain is None:
        return
    people = uow.directory.employees(chain)
    raise SubstituteCycle(
        "these substitutes would go round in a loop",
        chain=[people[i].name for i in chain],
        chain_nos=[people[i].employee_no for i in chain],
    )


def _report_broken(ctx: Context, uow: UnitOfWork, person: Employee, day: date) -> None:
    """Audit once per absence, and tell every HR director, that nobody stands in for ``person``."""
    absence = uow.absences.active_for(person.id, day)
    if absence is None or absence.id is None:
        return
    entries = uow.audit.for_subject("absence", absence.id)
    if any(entry.action == "away.mapping_broken" for entry in entries):
        return
    audit(
        uow,
        ctx.now(),
        "away.mapping_broken",
        ("absence", absence.id),
        employee=person.employee_no,
        day=day.isoformat(),
    )
    for director in uow.directory.with_role(Role.HR_DIRECTOR):
        notify(
            ctx,
            uow,
            director,
            "delegation.mapping_broken",
            _params(person, absence),
            f"away:{absence.id}:broken",
        )


def _params(employee: Employee, absence: Absence) -> dict[str, Any]:
    return {
        "absence_id": absence.id,
        "employee": employee.name,
        "employee_no": employee.employee_no,
        "starts_on": absence.starts_on.isoformat(),
        "ends_on": absence.ends_on.isoformat(),
    }
