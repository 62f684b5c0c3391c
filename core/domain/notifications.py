"""Notifications as data: who is told what, through which channel, exactly once.

The domain decides *that* somebody is told, with a message key and parameters; the bot renders
the key in the recipient's language and an adapter delivers it. The idempotency key makes a
second attempt to enqueue the same notice a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ChannelKind(StrEnum):
    CHAT = "chat"
    """The recipient's chat: Slack, Telegram or the web chat, whichever they use."""
    EMAIL = "email"
    SMS = "sms"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True)
class Button:
    """A one-tap action offered with a notice, e.g. finance approving a batch."""

    action: str
    label_key: str
    payload: dict[str, Any]
    style: str = "default"


@dataclass(eq=False)
class Notification:
    recipient_id: int
    channel: ChannelKind
    key: str
    params: dict[str, Any]
    idempotency_key: str
    created_at: datetime
    buttons: list[dict[str, Any]] = field(default_factory=list)
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    external_id: str | None = None
    last_error: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    subject_kind: str | None = None
    """What the notice is about (``claim``, ``batch``, ``alert``), so its card can be updated."""
    subject_id: int | None = None
    replaces_id: int | None = None
    """For a card update: the notice whose message this one replaces in place."""
    id: int = field(init=False)
