"""Prometheus metrics: what the web process counts, what a worker times, and where both are read.

Every app and every worker owns a ``CollectorRegistry`` (never prometheus_client's global one),
so tests, and several apps in one process, count separately. The figures read from the database
(outbox, alerts, claims) are computed at scrape time by ``DatabaseCollector``; the README's
"Metrics and health" section lists every name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from bot.metrics_db import DatabaseCollector

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("hrbot.metrics")

WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds; Slack gives up after 3 s, so the interesting part is below it."""
SWEEP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds; a round should stay well inside the worker's interval (5 s by default)."""


class WorkerMetrics:
    """The worker's own figure: how long each round (plan, sweep, settle, deliver) took."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.sweep_seconds = Histogram(
            "hrbot_worker_sweep_duration_seconds",
            "Duration of one worker round (timers, sweeps, settlement, deliveries), by outcome.",
            ["outcome"],
            registry=self.registry,
            buckets=SWEEP_BUCKETS,
        )

    @contextmanager
    def sweep(self) -> Iterator[None]:
        """Time the block; a round that raises is observed with ``outcome="error"``."""
        started = time.perf_counter()
        outcome = "error"
        try:
            yield
            outcome = "ok"
        finally:
            self.sweep_seconds.labels(outcome).observe(time.perf_counter() - started)


class WebMetrics:
    """Webhook requests (Slack, Telegram, the web chat's posts) and repeated deliveries."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["platform", "outcome"]
        self.requests = Counter(
            "hrbot_webhook_requests",
            "Webhook requests answered, by platform and outcome.",
            labels,
            registry=registry,
        )
        self.latency = Histogram(
            "hrbot_webhook_request_duration_seconds",
            "Time to answer a webhook request, by platform and outcome.",
            labels,
            registry=registry,
            buckets=WEBHOOK_BUCKETS,
        )
        self.duplicates = Counter(
            "hrbot_inbox_duplicates",
            "Deliveries the inbox had already seen (platform retries), dropped unprocessed.",
            ["platform"],
            registry=registry,
        )

    def observe(self, platform: str, outcome: str, seconds: float) -> None:
        self.requests.labels(platform, outcome).inc()
        self.latency.labels(platform, outcome).observe(seconds)
        if outcome == "duplicate":
            self.duplicates.labels(platform).inc()


class AppMetrics:
    """One web process's registry: its webhook figures, the in-process worker's rounds
    (``hrbot serve`` without ``--no-worker``), and the database gauges."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self.registry = CollectorRegistry()
        self.web = WebMetrics(self.registry)
        self.worker = WorkerMetrics(self.registry)
        self.registry.register(DatabaseCollector(engine))


def serve_worker_metrics(
    metrics: WorkerMetrics, engine: Engine, port: int, host: str
) -> Callable[[], None]:
    """``hrbot worker --metrics-port``: the worker's registry, with the database gauges, on
    ``http://host:port/metrics`` from a daemon thread; returns the function that stops it."""
    metrics.registry.register(DatabaseCollector(lambda: engine))
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    log.info("worker metrics on http://%s:%d/metrics", host, port)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
