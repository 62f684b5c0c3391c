"""Digest runs (who was checked for which day's or week's digest) and the reads digests need.

A run row is claimed with an insert-or-ignore on (employee, kind, key) in the transaction that
queues the digest, so any number of workers, and a restart, check each person once per day or
week. The table is declared here, on the shared metadata, next to its only user; the unit of
work imports this module, so it is registered wherever the schema is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import (
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.domain.claims import Claim, ClaimState
from core.domain.directory import Employee, Role
from core.persistence import tables as t

digest_runs = t.digest_runs


class DigestRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def unchecked(self, kind: str, key: str, roles: Collection[Role]) -> Sequence[Employee]:
        """People with one of ``roles``, not marked as left, not yet checked for this digest
        (one query: the worker asks every round)."""
        e, runs = t.employees, digest_runs
        done = (
            select(runs.c.id)
            .where(runs.c.employee_id == e.c.id, runs.c.kind == kind, runs.c.key == key)
            .exists()
        )
        query = (
            select(Employee)
            .where(e.c.role.in_(list(roles)), e.c.leave_date.is_(None), ~done)
            .order_by(e.c.employee_no)
        )
        return self._session.scalars(query).all()

    def claim(self, employee_id: int, kind: str, key: str, now: datetime) -> bool:
        """Insert-or-ignore the run: True only for the one call that checks this person."""
        values = {
            "employee_id": employee_id,
            "kind": kind,
            "key": key,
            "checked_at": now,
            "sent": False,
        }
        dialect = self._session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(digest_runs).values(**values).on_conflict_do_nothing()
        returned = self._session.execute(statement.returning(digest_runs.c.id)).first()
        return returned is not None

    def mark_sent(self, employee_id: int, kind: str, key: str) -> None:
        self._session.execute(
            update(digest_runs)
            .where(
                digest_runs.c.employee_id == employee_id,
                digest_runs.c.kind == kind,
                digest_runs.c.key == key,
            )
            .values(sent=True)
        )

    def sent(self, kind: str, key: str) -> set[int]:
        """The people a digest was actually queued for."""
        query = select(digest_runs.c.employee_id).where(
            digest_runs.c.kind == kind, digest_runs.c.key == key, digest_runs.c.sent.is_(True)
        )
        return set(self._session.scalars(query).all())

    def claims_under_review(self) -> Sequence[tuple[Claim, Employee]]:
        """Every claim waiting for a finance decision, with its claimant."""
        query = (
            select(Claim, Employee)
            .join(Employee, t.employees.c.id == t.claims.c.employee_id)
            .where(t.claims.c.state == ClaimState.UNDER_REVIEW)
            .order_by(t.claims.c.id)
        )
        return [(claim, employee) for claim, employee in self._session.execute(query)]

    def alert_causes(self, since: datetime) -> Counter[str]:
        """Alerts opened since ``since`` by cause (the confirmed one, else the suspected one);
        alerts with neither are not counted."""
        a = t.alerts
        query = (
            select(a.c.cause, a.c.suspected_cause, func.count())
            .where(a.c.opened_at >= since)
            .group_by(a.c.cause, a.c.suspected_cause)
        )
        counts: Counter[str] = Counter()
        for cause, suspected, count in self._session.execute(query):
            chosen = cause or suspected
            if chosen is not None:
                counts[str(chosen)] += int(count)
        return counts
