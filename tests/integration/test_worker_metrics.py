"""The worker's rounds, timed: ``Worker.tick`` observes each one (failed ones too), and
``hrbot worker --metrics-port`` serves them with the database gauges; the web app running its
own worker shows them on its ``/metrics``."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from adapters.recording import RecordingChannel
from bot.app import create_app
from bot.bootstrap import Services
from bot.demo.org import load_demo_org
from bot.metrics import serve_worker_metrics
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import Platform
from core.persistence.engine import make_engine
from core.persistence.uow import Database
from core.services.context import Context

SWEEPS = "hrbot_worker_sweep_duration_seconds_count"


@pytest.fixture
def engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """SQLite only (the rules for this suite); the worker needs nothing else."""
    path = tmp_path / "hrbot.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def worker(ctx: Context, db: Database) -> Worker:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    router = ChannelRouter(chats={Platform.RECORDING: RecordingChannel()})
    return Worker(Services(Settings(_env_file=None), db, ctx), router)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sweeps(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], outcome: str) -> float:
    return found.get((SWEEPS, (("outcome", outcome),)), 0.0)


def test_each_tick_is_timed(worker: Worker) -> None:
    worker.tick()
    worker.tick()
    found = samples(generate_latest(worker.metrics.registry).decode())
    assert sweeps(found, "ok") == 2
    assert sweeps(found, "error") == 0
    assert found[("hrbot_worker_sweep_duration_seconds_sum", (("outcome", "ok"),))] > 0


def test_a_failed_tick_is_timed_as_an_error(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def database_away(*_: object, **__: object) -> None:
        raise ConnectionError("database away")

    monkeypatch.setattr("bot.worker.sweep_escalations", database_away)
    with pytest.raises(ConnectionError):
        worker.tick()
    found = samples(generate_latest(worker.metrics.registry).decode())
    assert sweeps(found, "error") == 1
    assert sweeps(found, "ok") == 0


def test_the_worker_serves_its_metrics_on_a_port(worker: Worker) -> None:
    port = _free_port()
    stop = serve_worker_metrics(worker.metrics, worker.services.db.engine, port, "127.0.0.1")
    try:
        worker.tick()
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    finally:
        stop()
    assert response.status_code == 200
    found = samples(response.text)
    assert sweeps(found, "ok") == 1
    assert found[("hrbot_database_up", ())] == 1
    assert found[("hrbot_claims", (("state", "draft"),))] == 0
    with pytest.raises(httpx.TransportError):  # stopped means closed
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)


def test_the_web_apps_own_worker_shows_on_its_metrics(db: Database, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        database_url=db.engine.url.render_as_string(hide_password=False),
        documents_dir=tmp_path / "documents",
    )
    with TestClient(create_app(settings, run_worker=True)) as client:
        deadline = time.monotonic() + 20
        while True:  # the worker's first round starts with the app, in its own thread
            found = samples(client.get("/metrics").text)
            if sweeps(found, "ok") >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert sweeps(found, "ok") >= 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
