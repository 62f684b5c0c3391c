"""Helpers every use case shares: audit rows, outbox notices and role checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.domain.audit import SYSTEM, AuditEntry
from core.domain.directory import STAFF_ROLES, Employee, Role
from core.domain.errors import PermissionDenied
from core.domain.notifications import Button, ChannelKind, Notification
from core.domain.workclock import CalendarNotCovered
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork


def audit(
    uow: UnitOfWork,
    at: datetime,
    action: str,
    subject: tuple[str, int],
    actor: Employee | None = None,
    moved: tuple[Any, Any] | None = None,
    channel: str | None = None,
    **detail: Any,
) -> None:
    uow.audit.add(
        AuditEntry(
            at=at,
            action=action,
            subject_kind=subject[0],
            subject_id=subject[1],
            actor_id=actor.id if actor else None,
            actor=actor.employee_no if actor else SYSTEM,
            channel=channel,
            from_state=_state(moved[0]) if moved else None,
            to_state=_state(moved[1]) if moved else None,
            detail=detail,
        )
    )


def _state(value: Any) -> str | None:
    """A state as text; ``None`` (nothing before an entity was created) stays NULL."""
    return None if value is None else str(value)


def notify(
    ctx: Context,
    uow: UnitOfWork,
    recipient: Employee,
    key: str,
    params: dict[str, Any],
    idempotency_key: str,
    channels: Iterable[ChannelKind] = (ChannelKind.CHAT,),
    buttons: Sequence[Button] = (),
    subject: tuple[str, int] | None = None,
) -> int:
    """Queue ``key`` for ``recipient`` on each enabled channel; returns how many were queued.

    Quiet hours: a chat push to staff (HR, finance) that is not urgent waits for the next
    working moment of their branch; alerts from level 2 up, and everything an employee is told
    about their own claim or contributions, go at once."""
    queued = 0
    hold_until = _quiet_until(ctx, uow, recipient, key)
    for channel in channels:
        if channel not in ctx.rules.channels and channel is not ChannelKind.CHAT:
            continue
        added = uow.outbox.enqueue(
            Notification(
                recipient_id=recipient.id,
                channel=channel,
                key=key,
                params=params,
                idempotency_key=f"{idempotency_key}:{recipient.id}:{channel}",
                created_at=ctx.now(),
                next_attempt_at=hold_until if channel is ChannelKind.CHAT else None,
                subject_kind=subject[0] if subject else None,
                subject_id=subject[1] if subject else None,
                buttons=[
                    {
                        "action": b.action,
                        "label_key": b.label_key,
                        "payload": b.payload,
                        "style": b.style,
                    }
                    for b in buttons
                ],
            )
        )
        queued += int(added)
    return queued


URGENT_SUFFIXES = (".level2", ".level3")
"""Escalations past the first level reach people whenever they happen, night or holiday."""


IMMEDIATE_KEYS = frozenset({"chat.reply"})
"""Answers to someone who was chatting a moment ago: never held for quiet hours."""


def urgent(key: str) -> bool:
    return key.endswith(URGENT_SUFFIXES) or key in IMMEDIATE_KEYS


def _quiet_until(ctx: Context, uow: UnitOfWork, recipient: Employee, key: str) -> datetime | None:
    """When a staff member's non-urgent push may go out: None for now."""
    if not ctx.rules.quiet_hours or recipient.role not in STAFF_ROLES or urgent(key):
        return None
    clock = ctx.work_clock(uow.directory.branch(recipient.branch_id).working_hours)
    now = ctx.now()
    try:
        if clock.is_working(now):
            return None
        return clock.next_working_moment(now)
    except CalendarNotCovered:
        return None  # no holiday data for this year: better early than held on a guess


def require_role(actor: Employee, *roles: Role) -> None:
    if actor.role not in roles:
        raise PermissionDenied(
            f"{actor.role} may not do this; needs {', '.join(str(r) for r in roles)}",
            role=str(actor.role),
        )
