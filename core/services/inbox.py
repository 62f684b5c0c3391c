"""Webhook de-duplication: each platform delivery is recorded once, before any work is done.

Platforms retry deliveries they think were lost; recording ``(platform, event_id)`` under a unique
key first, and acting only when the insert happened, gives each event exactly one effect however
many times (or how concurrently) it arrives.
"""

from __future__ import annotations

from core.services.context import Context


def first_delivery(ctx: Context, platform: str, event_id: str) -> bool:
    """True the first time this event is seen (and records it); False for every repeat."""
    with ctx.uow() as uow:
        fresh = uow.inbox.record(platform, event_id[:128], ctx.now())
        uow.commit()
        return fresh


def mark_processed(ctx: Context, platform: str, event_id: str) -> None:
    with ctx.uow() as uow:
        uow.inbox.mark_processed(platform, event_id[:128])
        uow.commit()
