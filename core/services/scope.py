"""Who may act where: every action is checked against the actor's role and branches.

HR managers and directors see every branch; HR staff and finance approvers only the branches
they answer for, plus, on the days they stand in for someone away, that person's branches.
Checks live here, in the core, so chat, dashboard and CLI enforce the same rules whatever a
button or a form claims.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from core.domain.directory import Employee, Role
from core.domain.errors import PermissionDenied
from core.services.absences import standing_in_for
from core.services.common import require_role

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

GROUP_WIDE = frozenset({Role.HR_MANAGER, Role.HR_DIRECTOR})


def may_act_for_branch(
    uow: UnitOfWork, actor: Employee, branch_id: int, day: date | None = None
) -> bool:
    """The actor answers for the branch, or (given ``day``) stands in that day for someone away
    who does."""
    if _answers_for(uow, actor, branch_id):
        return True
    if day is None:
        return False
    return any(_answers_for(uow, p, branch_id) for p in standing_in_for(uow, actor, day))


def _answers_for(uow: UnitOfWork, actor: Employee, branch_id: int) -> bool:
    if actor.role in GROUP_WIDE:
        return True
    if actor.role in (Role.HR, Role.FINANCE):
        return branch_id in uow.directory.branches_of(actor.id)
    return False


def require_scope(
    uow: UnitOfWork, actor: Employee, branch_id: int, *roles: Role, day: date | None = None
) -> None:
    """The actor has one of ``roles`` and answers for ``branch_id`` (or, given ``day``, stands
    in that day for someone away who does); else ``PermissionDenied``."""
    require_role(actor, *roles)
    if not may_act_for_branch(uow, actor, branch_id, day):
        raise PermissionDenied("this branch is not yours to act for", rule="scope")


def on_behalf_of(
    uow: UnitOfWork, actor: Employee, branch_id: int, day: date, *roles: Role
) -> dict[str, str]:
    """Audit detail naming the absent person the actor stands in for on this branch, if any."""
    for person in standing_in_for(uow, actor, day):
        if (not roles or person.role in roles) and _answers_for(uow, person, branch_id):
            return {"on_behalf_of": person.employee_no}
    return {}


def branches_in_scope(uow: UnitOfWork, actor: Employee, day: date | None = None) -> set[int] | None:
    """The branch ids the actor may see; None means all of them. Given ``day``, also the
    branches of anyone away that day for whom the actor stands in (their borrowed work)."""
    if actor.role in GROUP_WIDE:
        return None
    mine = uow.directory.branches_of(actor.id)
    if day is None:
        return mine
    for absent in standing_in_for(uow, actor, day):
        if absent.role in GROUP_WIDE:
            return None
        if absent.role in (Role.HR, Role.FINANCE):  # as may_act_for_branch decides
            mine |= uow.directory.branches_of(absent.id)
    return mine
