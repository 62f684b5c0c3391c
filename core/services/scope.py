"""Who may act where: every action is checked against the actor's role and branches.

HR managers and directors see every branch; HR staff and finance approvers only the branches
they answer for. Checks live here, in the core, so chat, dashboard and CLI enforce the same rules
whatever a button or a form claims.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.domain.directory import Employee, Role
from core.domain.errors import PermissionDenied
from core.services.common import require_role

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

GROUP_WIDE = frozenset({Role.HR_MANAGER, Role.HR_DIRECTOR})


def may_act_for_branch(uow: UnitOfWork, actor: Employee, branch_id: int) -> bool:
    if actor.role in GROUP_WIDE:
        return True
    if actor.role in (Role.HR, Role.FINANCE):
        return branch_id in uow.directory.branches_of(actor.id)
    return False


def require_scope(uow: UnitOfWork, actor: Employee, branch_id: int, *roles: Role) -> None:
    """The actor has one of ``roles`` and answers for ``branch_id``; else ``PermissionDenied``."""
    require_role(actor, *roles)
    if not may_act_for_branch(uow, actor, branch_id):
        raise PermissionDenied("this branch is not yours to act for", rule="scope")


def branches_in_scope(uow: UnitOfWork, actor: Employee) -> set[int] | None:
    """The branch ids the actor may see; None means all of them."""
    if actor.role in GROUP_WIDE:
        return None
    return uow.directory.branches_of(actor.id)
