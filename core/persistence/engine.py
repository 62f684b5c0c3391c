"""Engines for SQLite (embedded default, WAL) and PostgreSQL (production, psycopg 3), each
with the encryption keyring installed and blind indexes kept (core/persistence/blind_index.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from core.encryption import Keyring
from core.encryption_keys import install_keyring
from core.persistence.blind_index import install_blind_indexes


def make_engine(url: str, *, keyring: Keyring | None = None, **kwargs: Any) -> Engine:
    """One engine (one connection pool) per process; SQLite gets WAL and a busy timeout.

    ``keyring`` (from settings) becomes the process's keyring for encrypted columns and
    documents; without one, the keyring is resolved from the environment on first use.
    """
    if keyring is not None:
        install_keyring(keyring)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    install_blind_indexes(engine)
    event.listen(engine, "handle_error", _drop_after_failed_commit)
    return engine


def _drop_after_failed_commit(context: Any) -> None:
    """A COMMIT the driver refused may leave its transaction open (SQLite does, after ``database
    is locked``); back in the pool, the next unit of work on that connection would commit it,
    outbox rows included, of a change whose caller was told it failed. A connection whose
    COMMIT, ROLLBACK or BEGIN failed is closed instead (that one only: the others are fine)."""
    if context.statement is None and context.connection is not None and not context.is_disconnect:
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = False


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; NORMAL is durable across application crashes
    # (only an OS crash can lose the last commits) and ~4x faster than FULL (PERFORMANCE.md).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
