"""Dashboard accounts and login attempts, stored with SQLAlchemy Core (no ORM mapping: an
account is read whole or not at all, and attempts are only counted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from core.domain.accounts import Account, AccountRole
from core.persistence.tables import dashboard_users, login_attempts


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        email=row.email,
        role=AccountRole(row.role),
        password_hash=row.password_hash,
        created_at=row.created_at,
        employee_id=row.employee_id,
        api_token_hash=row.api_token_hash,
        disabled=bool(row.disabled),
        last_login_at=row.last_login_at,
    )


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, account: Account) -> Account:
        values = {
            "email": account.email,
            "role": account.role,
            "password_hash": account.password_hash,
            "employee_id": account.employee_id,
            "disabled": account.disabled,
            "created_at": account.created_at,
        }
        statement = insert(dashboard_users).values(**values).returning(dashboard_users.c.id)
        account.id = int(self._session.execute(statement).scalar_one())
        return account

    def by_email(self, email: str) -> Account | None:
        row = self._session.execute(
            select(dashboard_users).where(dashboard_users.c.email == email)
        ).first()
        return _account(row) if row else None

    def get(self, account_id: int) -> Account | None:
        row = self._session.execute(
            select(dashboard_users).where(dashboard_users.c.id == account_id)
        ).first()
        return _account(row) if row else None

    def by_token_hash(self, token_hash: str) -> Account | None:
        row = self._session.execute(
            select(dashboard_users).where(dashboard_users.c.api_token_hash == token_hash)
        ).first()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        rows = self._session.execute(select(dashboard_users).order_by(dashboard_users.c.email))
        return [_account(row) for row in rows]

    def update(self, account_id: int, **values: Any) -> None:
        self._session.execute(
            update(dashboard_users).where(dashboard_users.c.id == account_id).values(**values)
        )

    def record_attempt(self, email: str, address: str, at: datetime, succeeded: bool) -> None:
        self._session.execute(
            insert(login_attempts).values(
                email=email[:254], address=address[:64], at=at, succeeded=succeeded
            )
        )

    def failures_since(self, since: datetime, email: str, address: str) -> tuple[int, int]:
        """Failed attempts since ``since``: for this e-mail, and from this client address."""
        failed = login_attempts.c.succeeded.is_(False) & (login_attempts.c.at >= since)
        by_email = self._session.scalar(
            select(func.count()).where(failed & (login_attempts.c.email == email))
        )
        by_address = self._session.scalar(
            select(func.count()).where(failed & (login_attempts.c.address == address))
        )
        return int(by_email or 0), int(by_address or 0)
