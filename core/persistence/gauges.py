"""Operational reads for monitoring: outbox depth and dead letters, unresolved alerts, claims;
and the schema's revision, for the readiness probe.

``/metrics`` (and ``hrbot worker --metrics-port``) read these at every scrape, so each figure is
one grouped statement, all three on one connection; nothing is cached, so a scrape always shows
the database as it is. Plain values come back: the Prometheus side lives in ``bot``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, inspect, select, text

from core.domain.escalation import AlertState
from core.persistence import tables as t


@dataclass(frozen=True)
class OutboxCount:
    """Outbox rows of one channel in one delivery state, and their delivery attempts."""

    channel: str
    state: str
    rows: int
    attempts: int


@dataclass(frozen=True)
class AlertCount:
    """Unresolved alerts at one escalation level in one state (open or acknowledged)."""

    level: int
    state: str
    alerts: int


@dataclass(frozen=True)
class Gauges:
    outbox: tuple[OutboxCount, ...]
    alerts: tuple[AlertCount, ...]
    claims: dict[str, int]
    """Claims by state; states with no claim are absent."""


def read_gauges(engine: Engine) -> Gauges:
    """Three grouped counts on one connection; raises the driver's error when the database is
    away (the caller reports it as a metric rather than failing the scrape)."""
    o, a, c = t.outbox.c, t.alerts.c, t.claims.c
    outbox_query = select(
        o.channel, o.state, func.count(), func.coalesce(func.sum(o.attempts), 0)
    ).group_by(o.channel, o.state)
    alerts_query = (
        select(a.level, a.state, func.count())
        .where(a.state != AlertState.RESOLVED)
        .group_by(a.level, a.state)
    )
    claims_query = select(c.state, func.count()).group_by(c.state)
    with engine.connect() as connection:
        outbox = tuple(
            OutboxCount(str(channel), str(state), int(rows), int(attempts))
            for channel, state, rows, attempts in connection.execute(outbox_query)
        )
        alerts = tuple(
            AlertCount(int(level), str(state), int(count))
            for level, state, count in connection.execute(alerts_query)
        )
        claims = {str(state): int(count) for state, count in connection.execute(claims_query)}
    return Gauges(outbox, alerts, claims)


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None before the first migration), as
    ``migrate.current_revision`` reads it but without Alembic's two INFO lines per call: a
    readiness probe asks every few seconds. Raises the driver's error when the database is away."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return next(iter(versions), None)
