"""Shared fixtures: a migrated database per test on SQLite, and on PostgreSQL when configured.

Set ``HRBOT_TEST_DATABASE_URL`` (``.ci/run`` does) to run every database test on PostgreSQL too.
Migrations run once per session per database; each test then starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine, text

from adapters.documents import FilesystemDocumentStore
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from core.persistence.tables import metadata
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services.context import Context, Rules

# CI runs the property-based tests on a fixed sequence of examples (``HYPOTHESIS_PROFILE=ci`` in
# .ci/run), so a red build always points at the change that made it; on a developer's machine
# every run draws new examples and may find what CI has not yet seen.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _worker_database(url: str | None) -> str | None:
    """Under ``pytest -n`` each worker truncates and migrates its own database (``hrbot_test_gw0``
    …), created on the same server, so two workers never empty each other's tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker or not url.startswith("postgresql"):
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    name = f"hrbot_test_{worker}"
    admin_url = make_url(url).set(database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    own = make_url(url).set(database=name).render_as_string(hide_password=False)
    os.environ["HRBOT_TEST_DATABASE_URL"] = own  # for the hrbot processes tests start
    return own


PG_URL = _worker_database(os.environ.get("HRBOT_TEST_DATABASE_URL"))
# One encryption key for the test process and every hrbot process it starts, wherever their
# working directory (the fallback, ./var/secret_key, depends on it); never a real one.
os.environ["HRBOT_ENCRYPTION_KEY"] = "hrbot-test-suite-encryption-key-not-secret"
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]

# 2026-10-12 09:00 in Shanghai: August and September are past their 15th-of-month due dates.
DEMO_NOW = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    assert PG_URL is not None
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path / "hrbot.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("pg_engine")
    names = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield engine


@pytest.fixture
def db(engine: Engine) -> Database:
    return Database(engine)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(DEMO_NOW)


@pytest.fixture
def rules() -> Rules:
    return Rules()


@pytest.fixture
def ctx(db: Database, clock: ManualClock, rules: Rules, tmp_path: Path) -> Context:
    store = FilesystemDocumentStore(tmp_path / "documents")
    return Context(uow=db.uow, clock=clock, documents=store, rules=rules)
