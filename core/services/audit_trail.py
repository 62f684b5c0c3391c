"""The audit trail as a use case: checking its hash chain end to end, and the audit rows for
what changes no state (a button clicked in chat, a claim viewed on the dashboard or the API, a
report exported through the API).

State changes and document reads write their rows inside their own use cases; the rows here go
in a unit of work of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.domain.audit import AuditEntry
from core.domain.audit_chain import ChainBreak, ChainWalk
from core.domain.errors import NotFound
from core.services.accounts import actor_label
from core.services.context import Context

PAGE = 2000
"""Rows read per query while verifying: memory stays flat however long the trail."""

UNLINKED = "unlinked"
"""The actor of a click by a chat user not yet linked to an employee."""

_TARGETS = {"claim_id": "claim", "batch_id": "batch", "alert_id": "alert", "handoff_id": "handoff"}


@dataclass(frozen=True)
class Verdict:
    rows: int
    """Rows found in order before the first break (all of them when the chain is intact)."""
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def trail_length(ctx: Context) -> int:
    with ctx.uow() as uow:
        return uow.audit.count()


def verify_trail(ctx: Context, progress: Callable[[int], None] | None = None) -> Verdict:
    """Walks the whole chain in id order, a page per unit of work; stops at the first break.
    ``progress`` hears how many rows each page held."""
    walk = ChainWalk()
    with ctx.uow() as uow:
        head = uow.audit.chain_head()  # before the walk: rows added meanwhile are walked too
    after = 0
    while True:
        with ctx.uow() as uow:
            rows = uow.audit.chain_page(after, PAGE)
        if not rows:
            return Verdict(walk.rows, walk.finish(head))
        for row in rows:
            broken = walk.step(row)
            if broken is not None:
                return Verdict(walk.rows, broken)
        after = rows[-1].id
        if progress is not None:
            progress(len(rows))


def record_click(
    ctx: Context,
    actor_id: int | None,
    channel: str,
    session_id: int,
    button: str,
    payload: Mapping[str, Any],
) -> None:
    """A button tapped in chat: who, which button, on what, through which platform. Only the ids
    the button names are kept, never free text it may carry (a question typed earlier)."""
    targets = {key: payload[key] for key in _TARGETS if isinstance(payload.get(key), int)}
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id) if actor_id is not None else None
        uow.audit.add(
            AuditEntry(
                at=ctx.now(),
                action="chat.click",
                subject_kind="chat_session",
                subject_id=session_id,
                actor_id=actor.id if actor else None,
                actor=actor.employee_no if actor else UNLINKED,
                channel=channel,
                detail={"button": button, **targets},
            )
        )
        uow.commit()


def record_operator_action(
    ctx: Context, operator: str, action: str, subject: tuple[str, int], **detail: Any
) -> None:
    """Something done at the command line (``report.export``): the operator is the machine's
    user running ``hrbot``, the only name the command line knows."""
    actor = f"operator:{operator[:64]}"
    with ctx.uow() as uow:
        uow.audit.add(_entry(ctx, action, subject, None, actor, "cli", detail))
        uow.commit()


def record_account_view(
    ctx: Context,
    account_id: int,
    action: str,
    subject: tuple[str, int],
    channel: str,
    **detail: Any,
) -> None:
    """Something a dashboard or API account looked at or took away (``claim.view``,
    ``report.export``), named as the account's other audit rows name it."""
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise NotFound(f"no account {account_id}", kind="account")
        actor = actor_label(account)
        uow.audit.add(_entry(ctx, action, subject, account.employee_id, actor, channel, detail))
        uow.commit()


def _entry(
    ctx: Context,
    action: str,
    subject: tuple[str, int],
    actor_id: int | None,
    actor: str,
    channel: str,
    detail: dict[str, Any],
) -> AuditEntry:
    return AuditEntry(
        at=ctx.now(),
        action=action,
        subject_kind=subject[0],
        subject_id=subject[1],
        actor_id=actor_id,
        actor=actor,
        channel=channel,
        detail=detail,
    )
