"""The Telegram side of a running server: the Application, the intake, polling when asked.

``start()`` and ``stop()`` belong in the web app's lifespan. Telegram being unreachable at start
does not stop the server: start-up is retried in the background while the webhook answers 503,
which Telegram retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from telegram.error import InvalidToken, TelegramError

from adapters.telegram.application import TelegramApplication, build_application
from adapters.telegram.batching import InboxGate
from adapters.telegram.config import TelegramConfig
from adapters.telegram.handlers import UpdateHandlers
from adapters.telegram.intake import Intake
from adapters.telegram.polling import BACKOFF_CAP, BACKOFF_START, Poller
from adapters.telegram.ports import TelegramPorts
from adapters.telegram.webhook import webhook_endpoint

log = logging.getLogger("hrbot.telegram")


class TelegramRuntime:
    def __init__(self, config: TelegramConfig, ports: TelegramPorts) -> None:
        config.check()  # webhook mode without a secret never starts
        self.config = config
        self.inbox = InboxGate(ports.record_updates, ports.mark_processed)
        self.handlers = UpdateHandlers(ports, config.download_limit, self.inbox)
        self.application: TelegramApplication = build_application(config, self.handlers)
        self.intake = Intake(self.application, self.inbox.first, ports.on_failure)
        self.poller = Poller(self.intake, config)
        self._background: list[asyncio.Task[None]] = []
        self._parser: asyncio.Task[None] | None = None

    def endpoint(self) -> Callable[[Request], Awaitable[Response]]:
        """The ``POST /telegram/webhook`` handler; in polling mode (no secret) it answers 403."""
        secret = self.config.webhook_secret if self.config.mode == "webhook" else None
        return webhook_endpoint(self.intake, secret)

    async def start(self) -> None:
        """Connect (``getMe``) and start handling; on a network failure, keep trying meanwhile."""
        try:
            await self._boot()
        except InvalidToken:
            raise
        except TelegramError as error:
            log.warning("telegram unreachable at start (%s); retrying in the background", error)
            self._background.append(asyncio.create_task(self._boot_later()))

    async def join(self) -> None:
        """Wait until every queued update has been handled (tests, graceful drains)."""
        await self.intake.join()

    async def stop(self) -> None:
        """Refuse new updates (503: Telegram retries), finish the accepted ones, disconnect."""
        self.intake.closed = True
        await _cancel(self._background)  # polling and start-up retries
        if self._parser is not None:
            await self.intake.raw.join()  # accepted updates are handled, not dropped
            await _cancel([self._parser])
            self._parser = None
        if self.application.running:
            await self.application.stop()  # PTB finishes what is on its own queue
        await self.application.shutdown()

    async def _boot(self) -> None:
        await self.application.initialize()
        if self.config.mode == "webhook" and self.handlers.public_url is None:
            self.handlers.public_url = self.config.public_url or await self._webhook_origin()
        await self.application.start()
        self._parser = asyncio.create_task(self.intake.run())
        if self.config.mode == "polling":
            self.handlers.public_url = self.config.public_url
            self._background.append(asyncio.create_task(self.poller.run()))
        log.info("telegram started in %s mode", self.config.mode)

    async def _boot_later(self) -> None:
        delay = BACKOFF_START
        while not self.application.running:
            await asyncio.sleep(delay)
            try:
                await self._boot()
            except TelegramError as error:
                log.warning("telegram still unreachable (%s)", error)
                delay = min(delay * 2, BACKOFF_CAP)

    async def _webhook_origin(self) -> str | None:
        """The public origin Telegram posts to is where users reach the web chat too."""
        try:
            info = await self.application.bot.get_webhook_info()
        except TelegramError:
            return None
        if not info.url:
            return None
        parts = urlsplit(info.url)
        return f"{parts.scheme}://{parts.netloc}"


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    tasks.clear()
