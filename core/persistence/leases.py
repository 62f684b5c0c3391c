"""Claiming due timer rows with a lease, safely from any number of workers.

A worker claims a batch of due rows in one ``UPDATE … WHERE <still free> … RETURNING id``: a
compare-and-set on the lease columns, so two workers never hold the same row, on SQLite (which
serialises writers) as on PostgreSQL (where ``FOR UPDATE SKIP LOCKED`` also keeps them from
waiting on each other). A worker that dies simply lets its leases expire; the row is then free
again. Working on a row starts with a second compare-and-set on the owner (``hold``), in the same
transaction as the row's effects, so a row whose lease was lost is never worked on twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select, update
from sqlalchemy.orm import Session


def lease_is_free(table: Table, now: datetime) -> ColumnElement[bool]:
    return or_(table.c.lease_until.is_(None), table.c.lease_until < now)


def claim_due(
    session: Session,
    table: Table,
    due: ColumnElement[bool],
    order_by: list[Any],
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[int]:
    """Lease up to ``limit`` rows matching ``due`` to ``owner``; returns their ids in order."""
    candidates = (
        select(table.c.id).where(due, lease_is_free(table, now)).order_by(*order_by).limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(table)
        .where(table.c.id.in_(candidates.scalar_subquery()), lease_is_free(table, now))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(table.c.id)
    )
    claimed = set(session.execute(statement).scalars().all())
    if not claimed:
        return []
    ordered = session.execute(
        select(table.c.id).where(table.c.id.in_(claimed)).order_by(*order_by)
    ).scalars()
    return list(ordered)


def hold(
    session: Session, table: Table, row_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Renew ``owner``'s lease on a still-pending row, at the start of the transaction that works
    on it; False if the lease was lost (it expired and another worker took the row).

    The UPDATE also takes the row's write lock until commit, so nobody can take the row while
    its effects are being written.
    """
    result = session.execute(
        update(table)
        .where(and_(table.c.id == row_id, table.c.lease_owner == owner, table.c.state == "pending"))
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release(session: Session, table: Table, row_ids: list[int], owner: str) -> None:
    """Give back leases not worked on (graceful shutdown), so others need not wait."""
    if row_ids:
        session.execute(
            update(table)
            .where(table.c.id.in_(row_ids), table.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
