"""Cards that carried buttons are updated for everyone who holds them once a decision is made.

"Approved by 孙丽 at 10:42", and the buttons are gone: each holder's card is replaced in place
(through the channel's ``update`` where the platform allows it, else a follow-up message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.domain.directory import Employee
from core.domain.notifications import ChannelKind, Notification
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork


def close_cards(
    ctx: Context, uow: UnitOfWork, subject: tuple[str, int], decision: str, actor: Employee | None
) -> int:
    """Queue a closing update for every card about ``subject``; returns how many."""
    now = ctx.now()
    closed = 0
    for card in uow.outbox.cards_about(subject[0], subject[1]):
        added = uow.outbox.enqueue(
            Notification(
                recipient_id=card.recipient_id,
                channel=ChannelKind.CHAT,
                key="card.closed",
                params={
                    "card_key": card.key,
                    "decision": decision,
                    "by": actor.name if actor else None,
                    "at": now.isoformat(),
                    **{k: v for k, v in card.params.items() if k in _KEPT},
                },
                idempotency_key=f"card:{card.id}:closed:{decision}",
                created_at=now,
                subject_kind=subject[0],
                subject_id=subject[1],
                replaces_id=card.id,
            )
        )
        closed += int(added)
    return closed


# What a closed card still shows of the original, so its holder knows what it was about.
_KEPT = ("claim", "branch", "period", "employee", "alert_id", "total")
