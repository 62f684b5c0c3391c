"""Logs an operator can follow: one JSON object a line, every line of a request carrying its id
(given or made up, and echoed), the masked actor, no ID or mobile numbers; the level from
``HRBOT_LOG_LEVEL``, checked before anything starts."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bot import bridge, log_context, logs
from bot.app import create_app
from bot.settings import Settings
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from tests.cli_support import hrbot

ID_NUMBER, MOBILE = "110101199003071234", "13812345678"
SLACK_USER = "U0ZHANGSAN"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """JSON logging at DEBUG into a buffer; the test run's own logging is put back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    logs.configure(json_lines=True, level="DEBUG", stream=buffer)
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The real app over a migrated SQLite file, plus one test route standing in for a request
    whose handling logs from the event loop and from the core's thread, for a known sender."""
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(
        Settings(_env_file=None, database_url=url, documents_dir=tmp_path / "docs"),
        run_worker=False,
    )

    def in_the_core(note: str) -> None:
        logging.getLogger("hrbot.test.core").warning("core saw %s", note)

    async def handle() -> dict[str, str]:
        logging.getLogger("hrbot.test").info("received, from %s", MOBILE)
        with log_context.acting_as("slack", SLACK_USER):
            await bridge.call(in_the_core, f"ID {ID_NUMBER}")
        return {"ok": "yes"}

    app.add_api_route("/test/work", handle, methods=["POST"])
    return app


def parsed(buffer: io.StringIO) -> list[dict[str, Any]]:
    lines = buffer.getvalue().splitlines()
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]  # each line is one JSON object


def test_every_line_of_a_request_carries_its_id_and_the_masked_actor(
    app: FastAPI, log_lines: io.StringIO
) -> None:
    with TestClient(app) as client:
        log_lines.truncate(0)
        log_lines.seek(0)
        response = client.post("/test/work", headers={"X-Request-ID": "req-7Hq2.abc"})
    assert response.headers["X-Request-ID"] == "req-7Hq2.abc"

    entries = [e for e in parsed(log_lines) if e.get("request_id") == "req-7Hq2.abc"]
    by_logger = {e["logger"]: e for e in entries}
    assert set(by_logger) == {"hrbot.test", "hrbot.test.core", "hrbot.http"}
    core = by_logger["hrbot.test.core"]  # emitted in the bridge's thread
    assert core["actor"] == "slack:****GSAN"
    assert core["level"] == "warning"
    assert core["msg"] == "core saw ID 1101**********1234"
    assert by_logger["hrbot.test"]["msg"] == "received, from 138****5678"
    assert "actor" not in by_logger["hrbot.test"], "the sender was not known yet"
    access = by_logger["hrbot.http"]
    assert access | {"duration_ms": 0} == access | {
        "msg": "POST /test/work 200",
        "method": "POST",
        "path": "/test/work",
        "status": 200,
        "actor": "slack:****GSAN",  # learnt while handling, given to the request's own line
        "duration_ms": 0,
    }
    assert isinstance(access["duration_ms"], float)
    everything = log_lines.getvalue()
    assert ID_NUMBER not in everything and MOBILE not in everything
    assert SLACK_USER not in everything


def test_a_missing_or_unsafe_request_id_is_replaced_and_echoed(
    app: FastAPI, log_lines: io.StringIO
) -> None:
    with TestClient(app) as client:
        made_up = client.get("/healthz").headers["X-Request-ID"]
        forged = client.get("/healthz", headers={"X-Request-ID": 'a" injected\\n'})
        other = client.get("/healthz").headers["X-Request-ID"]
    assert len(made_up) == 32 and made_up != other
    replaced = forged.headers["X-Request-ID"]
    assert "injected" not in replaced and len(replaced) == 32
    probes = [e for e in parsed(log_lines) if e["logger"] == "hrbot.http"]
    assert [e["request_id"] for e in probes] == [made_up, replaced, other]
    assert {e["level"] for e in probes} == {"debug"}, "probes stay out of the INFO log"


def test_a_webhook_line_names_its_platform_and_outcome(
    app: FastAPI, log_lines: io.StringIO, tmp_path: Path
) -> None:
    with TestClient(app) as client:
        log_lines.truncate(0)
        log_lines.seek(0)
        status = client.post("/chat/api/click", headers={"X-Request-ID": "web-1"}).status_code
    (line,) = [e for e in parsed(log_lines) if e.get("request_id") == "web-1"]
    assert line["status"] == status == 403  # the web chat is closed outside demo mode
    assert (line["platform"], line["outcome"]) == ("web", "bad_signature")


def test_a_dashboard_request_line_names_the_account_behind_it(
    app: FastAPI, log_lines: io.StringIO
) -> None:
    from core.domain.accounts import AccountRole
    from core.services import accounts
    from tests.dashboard_support import HASHER, PASSWORD

    with TestClient(app) as client:
        ctx = client.app.state.services.ctx  # type: ignore[attr-defined]
        made = accounts.add_user(ctx, HASHER, "ops@example.com", AccountRole.ADMIN, PASSWORD)
        token = accounts.issue_api_token(ctx, "ops@example.com")
        signed = {"Authorization": f"Bearer {token}", "X-Request-ID": "dash-1"}
        assert client.get("/api/me", headers=signed).status_code == 200
        anonymous = client.get("/api/me", headers={"X-Request-ID": "dash-2"})
        assert anonymous.status_code == 401
    lines = {e.get("request_id"): e for e in parsed(log_lines) if e["logger"] == "hrbot.http"}
    assert lines["dash-1"]["actor"] == f"dashboard:{made.account.id}"
    assert "actor" not in lines["dash-2"]
    assert token not in log_lines.getvalue()


def test_the_log_level_is_a_checked_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).log_level == "INFO"
    assert Settings(_env_file=None, log_level=" debug ").log_level == "DEBUG"
    with pytest.raises(ValidationError, match="log level must be one of DEBUG, INFO"):
        Settings(_env_file=None, log_level="loud")

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    monkeypatch.setenv("HRBOT_LOG_LEVEL", "warning")
    try:
        logs.setup(json_lines=True)
        assert root.level == logging.WARNING
        monkeypatch.setenv("HRBOT_LOG_LEVEL", "chatty")
        with pytest.raises(ValueError, match=r"^HRBOT_LOG_LEVEL: log level must be one of"):
            logs.setup()
        assert root.level == logging.WARNING, "a bad value changes nothing"
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_bad_log_level_stops_the_start_in_one_line(command: str, tmp_path: Path) -> None:
    env = {
        "HRBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
        "HRBOT_LOG_LEVEL": "LOUD",
        "PATH": "/usr/bin:/bin",
    }
    result = hrbot(command, env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "hrbot: HRBOT_LOG_LEVEL: log level must be one of DEBUG, INFO, WARNING, ERROR, "
        "CRITICAL (not 'LOUD')"
    ]
