"""The built-in web chat's use cases: post a message to a person's web mailbox, read it back.

Pushes (notices from the outbox) and the turns of a conversation are both kept per employee, so
a page that reloads shows the same story, any web process can serve the event stream (it polls
the database, never process memory), and a card update can replace the bubble it updates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.domain.directory import Employee, Role
from core.domain.errors import NotFound
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.web_messages import WebMessageRow

HISTORY_LIMIT = 200
_ROLE_ORDER = (Role.EMPLOYEE, Role.HR, Role.HR_MANAGER, Role.HR_DIRECTOR, Role.FINANCE)


@dataclass(frozen=True)
class WebMessage:
    id: int
    payload: dict[str, Any]
    created_at: datetime
    replaces_id: int | None = None
    """The earlier message (a card) this one replaces in place."""


@dataclass(frozen=True)
class Person:
    """Someone a demo visitor may play: just enough to choose, nothing personal."""

    employee_id: int
    employee_no: str
    name: str
    role: str
    branch: str
    locale: str | None


def _message(row: WebMessageRow) -> WebMessage:
    return WebMessage(row.id, row.payload, row.created_at, row.replaces_id)


def post(
    ctx: Context, employee_id: int, payloads: list[dict[str, Any]], replaces_id: int | None = None
) -> list[WebMessage]:
    """Store messages for one person in one transaction; ``replaces_id`` marks a card update."""
    now = ctx.now()
    with ctx.uow() as uow:
        ids = [uow.web_messages.add(employee_id, p, now, replaces_id) for p in payloads]
        uow.commit()
    return [WebMessage(i, p, now, replaces_id) for i, p in zip(ids, payloads, strict=True)]


def post_to_number(
    ctx: Context, employee_no: str, payload: dict[str, Any], replaces_id: int | None = None
) -> int:
    """Store a push for the person with this employee number (the web chat's address)."""
    with ctx.uow() as uow:
        employee = uow.directory.employee_by_no(employee_no)
        if employee is None:
            raise NotFound(f"no employee {employee_no}", kind="employee")
        if replaces_id is not None:
            replaced = uow.web_messages.get(replaces_id)
            if replaced is None or replaced.employee_id != employee.id:
                replaces_id = None  # never let one person's update touch another's bubble
        message_id = uow.web_messages.add(employee.id, payload, ctx.now(), replaces_id)
        uow.commit()
        return message_id


def messages_after(
    ctx: Context, employee_id: int, after_id: int, limit: int = 100
) -> list[WebMessage]:
    with ctx.uow() as uow:
        return [_message(r) for r in uow.web_messages.after(employee_id, after_id, limit)]


def history(ctx: Context, employee_id: int, limit: int = HISTORY_LIMIT) -> list[WebMessage]:
    with ctx.uow() as uow:
        return [_message(r) for r in uow.web_messages.latest(employee_id, limit)]


def people(ctx: Context) -> list[Person]:
    """Everyone currently employed, employees first, then HR, managers, directors, finance."""
    today = ctx.today()
    with ctx.uow() as uow:
        branches = {b.id: b.name for b in uow.directory.branches()}
        found = [e for role in _ROLE_ORDER for e in uow.directory.with_role(role)]
    return [_person(e, branches) for e in found if e.is_active(today)]


def person(ctx: Context, employee_no: str) -> Person | None:
    """The current employee with this number, or None (unknown or left)."""
    with ctx.uow() as uow:
        employee = uow.directory.employee_by_no(employee_no)
        if employee is None or not employee.is_active(ctx.today()):
            return None
        return _person(
            employee, {employee.branch_id: uow.directory.branch(employee.branch_id).name}
        )


def _person(employee: Employee, branches: dict[int, str]) -> Person:
    return Person(
        employee_id=employee.id,
        employee_no=employee.employee_no,
        name=employee.name,
        role=str(employee.role),
        branch=branches.get(employee.branch_id, ""),
        locale=str(employee.locale) if employee.locale else None,
    )


def document_for(ctx: Context, employee_id: int, content: bytes) -> int | None:
    """The id of the person's own claim document with exactly these bytes (a voucher the bot
    just handed them), so the page can offer it through the audited download route instead of
    keeping a copy of the bytes anywhere else."""
    digest = hashlib.sha256(content).hexdigest()
    with ctx.uow() as uow:
        for claim in reversed(uow.claims.of_employee(employee_id)):
            for document in uow.claims.documents(claim.id):
                if document.sha256 == digest:
                    return document.id
    return None
