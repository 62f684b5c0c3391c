"""Column types that keep the domain's values exact across SQLite and PostgreSQL, and
encrypted where they are sensitive."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Dialect, String, Text
from sqlalchemy.types import DateTime, TypeDecorator

from core.domain.periods import Period
from core.encryption_keys import current_keyring


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every database.

    SQLite keeps no time zone, so storing naive UTC everywhere makes both databases agree.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Money(TypeDecorator[Decimal]):
    """Yuan with two decimals, stored as integer fen: exact on SQLite too, and summable in SQL."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        cents = Decimal(value) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"amount {value} has more than two decimals")
        return int(cents)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        # scaleb keeps the two decimals exactly (1234567 → 12345.67), cheaper than dividing.
        return None if value is None else Decimal(value).scaleb(-2)


class PeriodType(TypeDecorator[Period]):
    impl = String(7)
    cache_ok = True

    def process_bind_param(self, value: Period | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Period | None:
        return None if value is None else Period.parse(value)


class JSONText(TypeDecorator[Any]):
    """JSON kept as text so it reads the same on both databases and in a dump."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


class EncryptedString(TypeDecorator[str]):
    """Text encrypted at rest (AES-GCM, core/encryption.py) with the process's keyring.

    Each write draws a new nonce, so equal values never look equal in the database: compare
    through the column's blind index (core/persistence/blind_index.py), never with ``==``.
    The empty string stays empty: it says nothing, and ``coalesce(column, '') = ''`` keeps
    meaning "no value".
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return value if not value else current_keyring().encrypt_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return value if not value else current_keyring().decrypt_text(value)
