"""The web chat's mailbox: what was said to (and by) each person in the built-in web chat.

Rows are written with SQLAlchemy Core, not the ORM: the event stream of every open page polls
"messages after id N" about once a second, and Core keeps that query cheap (PERFORMANCE.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core.persistence import tables as t


class WebMessageRow(NamedTuple):
    id: int
    employee_id: int
    payload: dict[str, Any]
    created_at: datetime
    replaces_id: int | None


_COLUMNS = (
    t.web_messages.c.id,
    t.web_messages.c.employee_id,
    t.web_messages.c.payload,
    t.web_messages.c.created_at,
    t.web_messages.c.replaces_id,
)


class WebMessageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        employee_id: int,
        payload: dict[str, Any],
        created_at: datetime,
        replaces_id: int | None = None,
    ) -> int:
        statement = (
            insert(t.web_messages)
            .values(
                employee_id=employee_id,
                payload=payload,
                created_at=created_at,
                replaces_id=replaces_id,
            )
            .returning(t.web_messages.c.id)
        )
        return int(self.session.execute(statement).scalar_one())

    def after(self, employee_id: int, after_id: int, limit: int = 100) -> list[WebMessageRow]:
        """The person's messages with an id above ``after_id``, oldest first."""
        query = (
            select(*_COLUMNS)
            .where(t.web_messages.c.employee_id == employee_id, t.web_messages.c.id > after_id)
            .order_by(t.web_messages.c.id)
            .limit(limit)
        )
        return [WebMessageRow(*row) for row in self.session.execute(query)]

    def latest(self, employee_id: int, limit: int = 200) -> list[WebMessageRow]:
        """The person's newest ``limit`` messages, oldest first (a page's history on load)."""
        query = (
            select(*_COLUMNS)
            .where(t.web_messages.c.employee_id == employee_id)
            .order_by(t.web_messages.c.id.desc())
            .limit(limit)
        )
        rows = [WebMessageRow(*row) for row in self.session.execute(query)]
        rows.reverse()
        return rows

    def get(self, message_id: int) -> WebMessageRow | None:
        query = select(*_COLUMNS).where(t.web_messages.c.id == message_id)
        row = self.session.execute(query).first()
        return WebMessageRow(*row) if row else None

    def count(self, employee_id: int | None = None) -> int:
        query = select(func.count()).select_from(t.web_messages)
        if employee_id is not None:
            query = query.where(t.web_messages.c.employee_id == employee_id)
        return int(self.session.scalar(query) or 0)
