"""What the bot lends the Telegram adapter at start-up: async callables, nothing else.

The adapter never imports ``bot``: the conversation, the inbox and the dead-letter record reach
it through these, each already wrapped by the bot in its bridge to the synchronous core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.chat import Attachment, ButtonClick, IncomingMessage, OutgoingMessage


@dataclass(frozen=True)
class Oversized:
    """A file refused before download, and what the reply may offer instead."""

    message: IncomingMessage
    attachment: Attachment
    limit: int
    public_url: str | None
    """This server's public base URL, for a web upload link; None when unknown."""


@dataclass(frozen=True)
class TelegramPorts:
    on_message: Callable[[IncomingMessage], Awaitable[list[OutgoingMessage]]]
    on_click: Callable[[ButtonClick], Awaitable[list[OutgoingMessage]]]
    first_delivery: Callable[[str], Awaitable[bool]]
    """Records an ``update_id`` in the inbox; True only the first time it is seen."""
    oversized: Callable[[Oversized], Awaitable[list[OutgoingMessage]]]
    on_failure: Callable[[int | None, BaseException], Awaitable[None]]
    """A poison update: record a dead letter and alert; the chat's next updates go on."""
    processed: Callable[[str], Awaitable[None]] | None = None
    """Marks an ``update_id`` done in the inbox, so unfinished ones can be found."""
