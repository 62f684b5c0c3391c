"""The worker: the scheduler (escalation sweeps) and the outbox dispatcher, in one loop.

``hrbot worker`` runs it alone; ``hrbot serve`` runs it inside the web process unless
``--no-worker``. Each tick does its work in short transactions, so stopping between ticks (on
SIGTERM) leaves nothing half-done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid
from dataclasses import dataclass, field

from bot import bridge
from bot.bootstrap import Services
from bot.i18n import CatalogRenderer
from bot.routing import ChannelRouter
from core.services.alerts import sweep_escalations
from core.services.delivery import deliver_due

log = logging.getLogger("hrbot.worker")


@dataclass
class Worker:
    services: Services
    router: ChannelRouter
    interval: float = 5.0
    owner: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    )

    def __post_init__(self) -> None:
        settings = self.services.settings
        self.renderer = CatalogRenderer(settings.default_locale, settings.zone)

    def tick(self) -> None:
        """One round: fire due escalation steps, then deliver due notifications."""
        swept = sweep_escalations(self.services.ctx)
        delivered = deliver_due(self.services.ctx, self.router, self.renderer)
        if swept.fired or swept.skipped or delivered.sent or delivered.retried or delivered.dead:
            log.info(
                "tick: %d steps fired, %d skipped; %d sent, %d retried, %d dead",
                swept.fired,
                swept.skipped,
                delivered.sent,
                delivered.retried,
                delivered.dead,
            )

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker %s started (every %.1f s)", self.owner, self.interval)
        while not stop.is_set():
            try:
                await bridge.call(self.tick)
            except Exception:  # the database may be away for a while: log, wait, try again
                log.exception("worker tick failed; retrying in %.1f s", self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
        log.info("worker %s stopped", self.owner)


async def run_until_signalled(worker: Worker) -> None:
    """Run until SIGTERM or SIGINT; the tick in hand finishes before the loop ends."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await worker.run(stop)
