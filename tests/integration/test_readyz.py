"""``/readyz``, as a load balancer sees it: ready only when the database answers and its schema
is this release's (SQLite files of the test's own; the schema changes here must not touch the
database other tests share)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from bot.app import create_app
from bot.settings import Settings
from core.persistence.engine import make_engine
from core.persistence.migrate import alembic_config, current_revision, head_revision, upgrade


def settings_for(url: str, tmp_path: Path) -> Settings:
    return Settings(_env_file=None, database_url=url, documents_dir=tmp_path / "documents")


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'ready.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def client_for(engine: Engine, tmp_path: Path) -> TestClient:
    url = engine.url.render_as_string(hide_password=False)
    return TestClient(create_app(settings_for(url, tmp_path), run_worker=False))


def downgrade_one(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")


def test_ready_when_the_schema_is_this_releases(migrated: Engine, tmp_path: Path) -> None:
    with client_for(migrated, tmp_path) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    head = head_revision()
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "revision": head,
        "head": head,
    }


def test_not_ready_while_migrations_are_behind(migrated: Engine, tmp_path: Path) -> None:
    downgrade_one(migrated)
    previous = current_revision(migrated)
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_revision(head_revision() or "")
    assert head is not None and previous == head.down_revision

    with client_for(migrated, tmp_path) as client:
        behind = client.get("/readyz")
        assert behind.status_code == 503
        assert behind.json() == {
            "status": "unavailable",
            "database": "migrations behind: run `hrbot db upgrade`",
            "revision": previous,
            "head": head.revision,
        }
        upgrade(migrated)  # what the operator is told to do
        assert client.get("/readyz").status_code == 200


def test_not_ready_on_a_schema_newer_than_this_release(migrated: Engine, tmp_path: Path) -> None:
    with migrated.begin() as connection:  # a later release migrated the database
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with client_for(migrated, tmp_path) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "9999_from_the_future is newer than this release" in response.json()["database"]


def test_not_ready_when_the_database_is_unreachable(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-file.db"
    blocked.mkdir()  # SQLite cannot open a directory: as good as a database that is down
    settings = settings_for(f"sqlite:///{blocked}", tmp_path)
    with TestClient(create_app(settings, run_worker=False)) as client:
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # alive, only not ready
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable: OperationalError"}


def test_not_ready_when_the_database_goes_away(migrated: Engine, tmp_path: Path) -> None:
    with client_for(migrated, tmp_path) as client:
        assert client.get("/readyz").status_code == 200
        services = client.app.state.services  # type: ignore[attr-defined]
        services.db.engine.dispose()
        path = Path(str(migrated.url.database))
        migrated.dispose()
        path.unlink()
        path.mkdir()
        gone = client.get("/readyz")
    assert gone.status_code == 503
    assert gone.json()["database"].startswith("unreachable")
