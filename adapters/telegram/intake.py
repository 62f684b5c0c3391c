"""The one way in for updates, from the webhook and from polling alike.

A request only records the update's id in the inbox (group-committed) and queues the raw update:
Telegram waits for our 200 before it sends more, so the answer comes first. Parsing the update
(about 0.14 ms of CPU) and the conversation's work come after, in arrival order, and wait while
webhook requests are in flight: a burst is acknowledged at full speed and handled right after it.
No update waits more than ``MAX_DEFER`` for that, so work always progresses under steady load.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update

from adapters.telegram import shapes
from adapters.telegram.application import TelegramApplication

QUIET = 0.005
"""Seconds without a new webhook request after which the backlog is worked off."""
MAX_DEFER = 2.0
"""Seconds an accepted update may wait for the webhook to fall quiet before it is handled."""


class Intake:
    """Records each update once, queues it, and feeds the application after the answers."""

    def __init__(
        self,
        application: TelegramApplication,
        first_delivery: Callable[[str], Awaitable[bool]],
        on_failure: Callable[[int | None, BaseException], Awaitable[None]],
    ) -> None:
        self.application = application
        self.first_delivery = first_delivery
        self.on_failure = on_failure
        self.raw: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self.closed = False
        self._in_flight = 0
        self._last_seen = 0.0

    @property
    def ready(self) -> bool:
        return bool(self.application.running) and not self.closed

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Mark a webhook request in flight while its body is read and recorded."""
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._last_seen = time.monotonic()

    async def accept(self, payload: dict[str, Any]) -> bool:
        """Queue a raw update unless seen before; True if queued. ValueError if it has no id."""
        update_id = payload.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise ValueError("no update_id")
        if not await self.first_delivery(str(update_id)):
            return False
        self.raw.put_nowait((time.monotonic(), payload))
        return True

    async def accept_update(self, update: Update) -> bool:
        """Queue an already parsed update (from ``getUpdates``) unless seen before."""
        if not await self.first_delivery(str(update.update_id)):
            return False
        await self.application.update_queue.put(update)
        return True

    async def run(self) -> None:
        """Parse queued raw updates in arrival order and hand them to the application."""
        while True:
            received, payload = await self.raw.get()
            try:
                await self._after_the_answers(received)
                shapes.check(payload)  # types PTB does not check, before its filters read them
                update = Update.de_json(payload, self.application.bot)
            except Exception as error:  # a shape PTB cannot read: a dead letter, not a retry
                await self.on_failure(payload.get("update_id"), error)
            else:
                await self.application.update_queue.put(update)
            finally:
                self.raw.task_done()

    async def join(self) -> None:
        await self.raw.join()
        await self.application.update_queue.join()

    async def _after_the_answers(self, received: float) -> None:
        """Wait until no request is in flight nor was for ``QUIET`` s, at most ``MAX_DEFER`` s
        after the update arrived."""
        while True:
            now = time.monotonic()
            quiet_at = now + QUIET if self._in_flight else self._last_seen + QUIET
            wait = min(quiet_at, received + MAX_DEFER) - now
            if wait <= 0:
                return
            await asyncio.sleep(wait)
