"""The database gauges, computed when Prometheus scrapes: a custom collector over
``core.persistence.gauges`` (three grouped counts on one connection, nothing cached).

Every web process and worker exposes the same figures (they read one database): aggregate them
with ``max``, not ``sum``. A database that cannot be read does not fail the scrape: the
webhook and sweep figures still come out, and ``hrbot_database_up`` says 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from core.domain.claims import ClaimState
from core.domain.notifications import ChannelKind, DeliveryState
from core.persistence.gauges import Gauges, read_gauges

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("hrbot.metrics")


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        "up": GaugeMetricFamily(
            "hrbot_database_up", "1 when the last scrape could read the database, else 0."
        ),
        "pending": GaugeMetricFamily(
            "hrbot_outbox_pending",
            "Notifications waiting to be delivered (outbox depth), by channel.",
            labels=["channel"],
        ),
        "attempts": GaugeMetricFamily(
            "hrbot_outbox_delivery_attempts",
            "Delivery attempts recorded on outbox rows, by channel and delivery state.",
            labels=["channel", "state"],
        ),
        "dead": GaugeMetricFamily(
            "hrbot_outbox_dead_letters",
            "Notifications given up after the last attempt (dead letters), by channel.",
            labels=["channel"],
        ),
        "alerts": GaugeMetricFamily(
            "hrbot_alerts_open",
            "Alerts not yet resolved, by escalation level and state (open, acknowledged).",
            labels=["level", "state"],
        ),
        "claims": GaugeMetricFamily(
            "hrbot_claims",
            "Claims by state (every state listed, zero included).",
            labels=["state"],
        ),
    }


class DatabaseCollector:
    """``engine`` gives the process's engine, or None before the app has started."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self.engine = engine

    def describe(self) -> Iterable[Metric]:
        # Names only: registering must not touch the database.
        return list(_families().values())

    def collect(self) -> Iterable[Metric]:
        families = _families()
        engine = self.engine()
        gauges = None
        if engine is not None:
            try:
                gauges = read_gauges(engine)
            except Exception as error:  # any driver error: report it, keep the scrape alive
                log.warning("metrics: database unreadable (%s)", type(error).__name__)
        families["up"].add_metric([], 1 if gauges is not None else 0)
        if gauges is not None:
            _fill(families, gauges)
        return list(families.values())


def _fill(families: dict[str, GaugeMetricFamily], gauges: Gauges) -> None:
    # Every channel and claim state appears, zero included, so a rate or an alert rule on a
    # series never sees it vanish when the last row leaves it.
    channels = {str(kind) for kind in ChannelKind} | {row.channel for row in gauges.outbox}
    for channel in sorted(channels):
        rows = [row for row in gauges.outbox if row.channel == channel]
        by_state = {row.state: row for row in rows}
        pending, dead = by_state.get(DeliveryState.PENDING), by_state.get(DeliveryState.DEAD)
        families["pending"].add_metric([channel], pending.rows if pending else 0)
        families["dead"].add_metric([channel], dead.rows if dead else 0)
        for state in sorted({str(s) for s in DeliveryState} | set(by_state)):
            row = by_state.get(state)
            families["attempts"].add_metric([channel, state], row.attempts if row else 0)
    for alert in sorted(gauges.alerts, key=lambda a: (a.level, a.state)):
        families["alerts"].add_metric([str(alert.level), alert.state], alert.alerts)
    for state in sorted({str(s) for s in ClaimState} | set(gauges.claims)):
        families["claims"].add_metric([state], gauges.claims.get(state, 0))
