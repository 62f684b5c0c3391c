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


FileRefusal = Callable[[IncomingMessage, Attachment], Awaitable[list[OutgoingMessage]]]


@dataclass(frozen=True)
class TelegramPorts:
    on_message: Callable[[IncomingMessage], Awaitable[list[OutgoingMessage]]]
    on_click: Callable[[ButtonClick], Awaitable[list[OutgoingMessage]]]
    record_updates: Callable[[list[str]], Awaitable[list[bool]]]
    """Records event ids in the inbox in one transaction; for each, True only the first time it
    is seen (the adapter batches concurrent requests into one call)."""
    oversized: Callable[[Oversized], Awaitable[list[OutgoingMessage]]]
    on_failure: Callable[[int | None, BaseException], Awaitable[None]]
    """A poison update: record a dead letter and alert; the chat's next updates go on."""
    mark_processed: Callable[[list[str]], Awaitable[None]] | None = None
    """Marks event ids done in the inbox (one transaction), so unfinished ones can be found."""
    unavailable: FileRefusal | None = None
    """A file Telegram would not hand over (``getFile``: a wrong or expired file id): what to
    tell the sender, nothing having been kept. Without it the update is a dead letter."""
    unsent: Callable[[str, list[OutgoingMessage]], Awaitable[None]] | None = None
    """Replies Telegram would not take after a quick retry, for ``(telegram user id)``: handed
    to the outbox, which retries them later. Without it the update fails (dead letter)."""
    apology: Callable[[str, str | None], Awaitable[list[OutgoingMessage]]] | None = None
    """What to tell ``(telegram user id, language code)`` when their update failed (a dead
    letter): that it may not have gone through. Without it they are told nothing."""
