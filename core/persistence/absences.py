"""Absences and their substitutes, stored with SQLAlchemy Core (no ORM mapping: a handful of
rows per person, read whole and changed only by cancelling)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from core.domain.absences import Absence
from core.persistence.tables import absences as table

_LIVE = table.c.cancelled_at.is_(None)


def _absence(row: Any) -> Absence:
    return Absence(
        id=row.id,
        employee_id=row.employee_id,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        substitute_id=row.substitute_id,
        created_at=row.created_at,
        channel=row.channel,
        cancelled_at=row.cancelled_at,
    )


class AbsenceRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, absence: Absence) -> Absence:
        values = {
            "employee_id": absence.employee_id,
            "starts_on": absence.starts_on,
            "ends_on": absence.ends_on,
            "substitute_id": absence.substitute_id,
            "created_at": absence.created_at,
            "channel": absence.channel,
        }
        statement = insert(table).values(**values).returning(table.c.id)
        absence.id = int(self._session.execute(statement).scalar_one())
        return absence

    def get(self, absence_id: int) -> Absence | None:
        row = self._session.execute(select(table).where(table.c.id == absence_id)).first()
        return _absence(row) if row else None

    def active_for(self, employee_id: int, day: date) -> Absence | None:
        """The person's absence on ``day`` (a local date), if they are away."""
        query = (
            select(table)
            .where(table.c.employee_id == employee_id, _LIVE)
            .where(table.c.starts_on <= day, table.c.ends_on >= day)
            .order_by(table.c.id)
        )
        row = self._session.execute(query).first()
        return _absence(row) if row else None

    def of(self, employee_id: int, since: date | None = None) -> list[Absence]:
        """The person's absences not cancelled, ending on ``since`` or later when given."""
        query = select(table).where(table.c.employee_id == employee_id, _LIVE)
        if since is not None:
            query = query.where(table.c.ends_on >= since)
        rows = self._session.execute(query.order_by(table.c.starts_on, table.c.id))
        return [_absence(row) for row in rows]

    def overlapping(self, starts_on: date, ends_on: date) -> list[Absence]:
        """Every absence not cancelled that shares a day with ``starts_on``–``ends_on``."""
        query = select(table).where(
            _LIVE, table.c.starts_on <= ends_on, table.c.ends_on >= starts_on
        )
        return [_absence(row) for row in self._session.execute(query.order_by(table.c.id))]

    def covered_by(self, substitute_id: int, day: date) -> list[Absence]:
        """The absences on ``day`` that name ``substitute_id`` as the substitute."""
        query = select(table).where(
            _LIVE,
            table.c.substitute_id == substitute_id,
            table.c.starts_on <= day,
            table.c.ends_on >= day,
        )
        return [_absence(row) for row in self._session.execute(query.order_by(table.c.id))]

    def starting_on(self, day: date) -> list[Absence]:
        query = select(table).where(_LIVE, table.c.starts_on == day)
        return [_absence(row) for row in self._session.execute(query.order_by(table.c.id))]

    def cancel(self, absence_id: int, at: datetime) -> bool:
        """Cancel unless already cancelled; True if this call did."""
        statement = (
            update(table)
            .where(table.c.id == absence_id, _LIVE)
            .values(cancelled_at=at)
            .returning(table.c.id)
        )
        return self._session.execute(statement).first() is not None
