"""The web app's health checks, over HTTP through the app's own lifespan."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import Settings
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade


def settings_for(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'app.db'}", documents_dir=tmp_path / "documents"
    )


def test_healthz_answers_without_a_database(tmp_path: Path) -> None:
    with TestClient(create_app(settings_for(tmp_path))) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_fails_until_migrations_are_applied(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with TestClient(create_app(settings)) as client:
        behind = client.get("/readyz")
        assert behind.status_code == 503
        assert "hrbot db upgrade" in behind.json()["database"]
        engine = make_engine(settings.database_url)
        upgrade(engine)
        engine.dispose()
        assert client.get("/readyz").status_code == 200
