"""The worker: the scheduler (escalation sweeps, the monthly rosters), the settlement jobs
(gateway settlement only) and the outbox dispatcher, in one loop.

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
import threading
import time
import uuid
from dataclasses import dataclass, field

from bot import bridge
from bot.bootstrap import Services
from bot.i18n import CatalogRenderer
from bot.metrics import WorkerMetrics
from bot.routing import ChannelRouter
from core.services.absences import absence_reminders
from core.services.alerts import sweep_escalations
from core.services.approvals import plan_approval_waits, remind_due_approvals
from core.services.countdowns import fire_due_reminders, plan_countdowns
from core.services.delivery import deliver_due
from core.services.digests import run_digests
from core.services.roster import scheduled_rosters
from core.services.settlement import run_settlement

log = logging.getLogger("hrbot.worker")
PLAN_EVERY_SECONDS = 60.0
SETTLE_PER_TICK = 10
"""Gateway jobs per round: each may wait on a slow bureau, and the round should stay short."""


@dataclass
class Worker:
    services: Services
    router: ChannelRouter
    interval: float = 5.0
    plan_rosters: bool = True
    """Build the month's rosters in planning rounds (from ``HRBOT_ROSTER_DAY``); a process kept
    to delivery alone (tests of leases and kills) turns it off."""
    owner: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    )
    metrics: WorkerMetrics = field(default_factory=WorkerMetrics)
    """Times each round; the web app passes its own so ``/metrics`` shows them."""

    def __post_init__(self) -> None:
        settings = self.services.settings
        self.renderer = CatalogRenderer(settings.default_locale, settings.zone)
        self.stopping = threading.Event()
        self._planned_at = -PLAN_EVERY_SECONDS

    def tick(self) -> None:
        """One round: plan (countdowns, waiting approvals, the month's rosters), fire countdowns
        and approval reminders, run settlement jobs, fire due escalation steps, deliver notices.
        Its duration is observed (``hrbot_worker_sweep_duration_seconds``), failed rounds too."""
        with self.metrics.sweep():
            self._round()

    def _round(self) -> None:
        ctx, stop = self.services.ctx, self.stopping.is_set
        if time.monotonic() - self._planned_at >= PLAN_EVERY_SECONDS:
            plan_countdowns(ctx)
            plan_approval_waits(ctx)
            absence_reminders(ctx)
            if self.plan_rosters:
                self._build_rosters()
            self._planned_at = time.monotonic()
        fire_due_reminders(ctx, self.owner, stop=stop)
        remind_due_approvals(ctx, self.owner, stop=stop)
        self._digests()
        self._settle()
        swept = sweep_escalations(ctx, self.owner, stop=stop)
        delivered = deliver_due(ctx, self.router, self.renderer, self.owner, stop=stop)
        if swept.fired or swept.skipped or delivered.sent or delivered.retried or delivered.dead:
            log.info(
                "tick: %d steps fired, %d skipped; %d sent, %d retried, %d dead",
                swept.fired,
                swept.skipped,
                delivered.sent,
                delivered.retried,
                delivered.dead,
            )

    def _build_rosters(self) -> None:
        # A roster that cannot be built (bad directory data) must not stop alerts and notices.
        try:
            built = scheduled_rosters(self.services.ctx)
        except Exception:
            log.exception("monthly roster build failed; trying again next round")
            return
        if built:
            actions = [outcome.action for outcome in built]
            log.info(
                "rosters: %d built (%d created, %d replaced)",
                len(built),
                actions.count("created"),
                actions.count("replaced"),
            )

    def _digests(self) -> None:
        # Like rosters: a digest that cannot be built must not hold up alerts and notices.
        try:
            queued = run_digests(self.services.ctx)
        except Exception:
            log.exception("digests failed; trying again next round")
            return
        if queued:
            log.info("digests: %d queued", queued)

    def _settle(self) -> None:
        gateways = self.services.gateways
        if gateways is None:
            return
        stop = self.stopping.is_set
        try:  # as with rosters: a broken job must not hold up the notices behind it
            result = run_settlement(
                self.services.ctx, gateways, self.owner, limit=SETTLE_PER_TICK, stop=stop
            )
        except Exception:
            log.exception("settlement round failed; trying again next round")
            return
        if result.done or result.failed or result.skipped:
            log.info(
                "settlement: %d done, %d failed, %d skipped",
                result.done,
                result.failed,
                result.skipped,
            )

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker %s started (every %.1f s)", self.owner, self.interval)
        watcher = asyncio.create_task(self._watch(stop))
        while not stop.is_set():
            try:
                await bridge.call(self.tick)
            except Exception:  # the database may be away for a while: log, wait, try again
                log.exception("worker tick failed; retrying in %.1f s", self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
        await watcher
        log.info("worker %s stopped", self.owner)

    async def _watch(self, stop: asyncio.Event) -> None:
        # The tick runs in a thread: tell it to hand back its remaining leases when asked to stop.
        await stop.wait()
        self.stopping.set()


async def run_until_signalled(worker: Worker) -> None:
    """Run until SIGTERM or SIGINT; the tick in hand finishes before the loop ends."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await worker.run(stop)
