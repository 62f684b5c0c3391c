"""``GET /metrics`` on the real app: what an operator's Prometheus would read after Slack and
Telegram webhooks (answered, repeated, forged, malformed), with the database gauges computed at
the scrape from the rows really there."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select

from bot.app import create_app
from bot.settings import Settings
from core.domain.claims import ClaimType
from core.domain.escalation import SubjectKind
from core.domain.notifications import DeliveryState
from core.persistence import tables as t
from core.persistence.engine import make_engine
from core.persistence.uow import Database
from core.services import alerts, claims
from core.services.context import Context
from tests.fakes_slack import APP, TEAM, FakeSlack, dm_channel, fake_slack_server
from tests.fakes_slack import TOKEN as SLACK_TOKEN
from tests.integration.slack.conftest import SECRET as SLACK_SECRET
from tests.integration.slack.conftest import sign
from tests.integration.telegram.fake_bot_api import TOKEN as TELEGRAM_TOKEN
from tests.integration.telegram.fake_bot_api import FakeBotApi, fake_bot_api

FIXTURES = Path(__file__).parents[1] / "fixtures"
TELEGRAM_SECRET = "metrics-secret_Token"
SLACK_USER = "U0ZHANGSAN"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """SQLite only, even when CI adds PostgreSQL: the last test breaks its database file."""
    path = tmp_path / "hrbot.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeBotApi]]:
    with fake_slack_server() as slack, fake_bot_api() as telegram:
        yield slack, telegram


@pytest.fixture
def client(
    fakes: tuple[FakeSlack, FakeBotApi], ctx: Context, db: Database, tmp_path: Path
) -> Iterator[TestClient]:
    from bot.demo.org import load_demo_org

    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    slack, telegram = fakes
    settings = Settings(
        _env_file=None,
        database_url=db.engine.url.render_as_string(hide_password=False),
        documents_dir=tmp_path / "documents",
        secret_key="metrics-test-key",
        slack_bot_token=SLACK_TOKEN,
        slack_signing_secret=SLACK_SECRET,
        slack_api_url=slack.url,
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_webhook_secret=TELEGRAM_SECRET,
        telegram_api_url=telegram.api_url,
    )
    with TestClient(create_app(settings, run_worker=False)) as http:
        yield http


def slack_event(event_id: str) -> bytes:
    """The docs' direct-message fixture, addressed to this workspace and app from 张三."""
    payload = json.loads((FIXTURES / "slack" / "slack_message_im_event__docs.json").read_text())
    payload |= {"team_id": TEAM, "api_app_id": APP, "event_id": event_id}
    payload["authorizations"][0] |= {"team_id": TEAM, "user_id": "U0HRBOT", "is_bot": True}
    payload["event"] |= {"user": SLACK_USER, "channel": dm_channel(SLACK_USER), "text": "/help"}
    payload["event_time"] = int(time.time())
    return json.dumps(payload).encode()


def post_slack(http: TestClient, body: bytes, secret: str = SLACK_SECRET) -> int:
    headers = {"Content-Type": "application/json", **sign(body, secret=secret)}
    return int(http.post("/slack/events", content=body, headers=headers).status_code)


def telegram_update() -> dict[str, Any]:
    update: dict[str, Any] = json.loads(
        (FIXTURES / "telegram" / "telegram_update_message_text__hrbot.json").read_text()
    )
    return update


def post_telegram(http: TestClient, body: Any, secret: str = TELEGRAM_SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    if isinstance(body, bytes):
        response = http.post("/telegram/webhook", content=body, headers=headers)
    else:
        response = http.post("/telegram/webhook", json=body, headers=headers)
    return int(response.status_code)


def scrape(http: TestClient) -> tuple[Samples, dict[str, str]]:
    """Every sample by (name, labels), and each family's type; the text must parse."""
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(response.text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, types


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_webhook_requests_are_counted_and_timed_by_platform_and_outcome(
    client: TestClient, fakes: tuple[FakeSlack, FakeBotApi]
) -> None:
    slack, telegram = fakes
    first = slack_event("Ev0METRICS1")
    assert post_slack(client, first) == 200
    assert post_slack(client, first) == 200  # Slack's retry of the same delivery
    assert post_slack(client, slack_event("Ev0METRICS2"), secret="not-the-secret") == 401
    update = telegram_update()
    assert post_telegram(client, update) == 200
    assert post_telegram(client, update) == 200  # the same update_id again
    assert post_telegram(client, update, secret="wrong") == 403
    assert post_telegram(client, b"{not json") == 400
    telegram.wait_for(lambda: bool(telegram.calls_to("sendMessage", 1001001)))

    samples, types = scrape(client)

    assert types["hrbot_webhook_requests"] == "counter"
    assert types["hrbot_webhook_request_duration_seconds"] == "histogram"
    expected = {
        ("slack", "ok"): 1,
        ("slack", "duplicate"): 1,
        ("slack", "bad_signature"): 1,
        ("telegram", "ok"): 1,
        ("telegram", "duplicate"): 1,
        ("telegram", "bad_signature"): 1,
        ("telegram", "malformed"): 1,
    }
    for (platform, outcome), count in expected.items():
        labels = {"platform": platform, "outcome": outcome}
        assert value(samples, "hrbot_webhook_requests_total", **labels) == count, labels
        timed = value(samples, "hrbot_webhook_request_duration_seconds_count", **labels)
        assert timed == count, labels
        slowest = value(
            samples, "hrbot_webhook_request_duration_seconds_bucket", le="+Inf", **labels
        )
        assert slowest == count
    counted = {
        (dict(labels)["platform"], dict(labels)["outcome"])
        for name, labels in samples
        if name == "hrbot_webhook_requests_total"
    }
    assert counted == set(expected), "no other platform or outcome was counted"
    assert value(samples, "hrbot_inbox_duplicates_total", platform="slack") == 1
    assert value(samples, "hrbot_inbox_duplicates_total", platform="telegram") == 1
    # Probes and scrapes are not webhooks.
    assert not any(dict(labels).get("platform") == "web" for _, labels in samples)
    assert slack.posts(dm_channel(SLACK_USER)), "the answered event was really handled"


def test_database_gauges_show_the_rows_at_scrape_time(client: TestClient, ctx: Context) -> None:
    before, types = scrape(client)
    assert value(before, "hrbot_database_up") == 1
    assert types["hrbot_outbox_pending"] == "gauge"
    assert value(before, "hrbot_claims", state="draft") == 0
    assert not [k for k in before if k[0] == "hrbot_alerts_open"]

    with ctx.uow() as uow:
        zhang = uow.directory.employee_by_no("E1001")
        assert zhang is not None
        alert = alerts.open_alert(
            ctx, uow, (SubjectKind.EMPLOYEE_STATUS, zhang.id), zhang.branch_id, zhang.id
        )
        uow.commit()
        level = alert.level
    claims.open_claim(ctx, zhang.id, ClaimType.HOSPITALIZATION)
    claims.open_claim(ctx, zhang.id, ClaimType.OUTPATIENT)
    pending = _pending_by_channel(ctx)
    assert sum(pending.values()) > 0, "opening the alert queued notices"

    after, _ = scrape(client)

    assert value(after, "hrbot_alerts_open", level=str(level), state="open") == 1
    assert value(after, "hrbot_claims", state="draft") == 2
    assert value(after, "hrbot_claims", state="paid") == 0  # every state is listed
    for channel in ("chat", "email", "sms"):
        shown = value(after, "hrbot_outbox_pending", channel=channel)
        assert shown == pending.get(channel, 0), channel
        assert value(after, "hrbot_outbox_dead_letters", channel=channel) == 0
    assert value(after, "hrbot_outbox_delivery_attempts", channel="chat", state="pending") == 0


def test_dead_letters_and_attempts_are_shown_by_channel(client: TestClient, ctx: Context) -> None:
    with ctx.uow() as uow:
        zhang = uow.directory.employee_by_no("E1001")
        assert zhang is not None
        alerts.open_alert(ctx, uow, (SubjectKind.EMPLOYEE_STATUS, zhang.id), zhang.branch_id)
        uow.commit()
    o = t.outbox.c
    with ctx.uow() as uow:  # the dispatcher gave up on every notice after five attempts
        uow.session.execute(t.outbox.update().values(state=DeliveryState.DEAD, attempts=5))
        uow.commit()
        query = select(o.channel, func.count()).group_by(o.channel)
        dead = {str(channel): int(n) for channel, n in uow.session.execute(query)}

    samples, _ = scrape(client)

    assert dead, "the alert queued notices"
    for channel, rows in dead.items():
        assert value(samples, "hrbot_outbox_dead_letters", channel=channel) == rows
        assert value(samples, "hrbot_outbox_pending", channel=channel) == 0
        attempts = value(samples, "hrbot_outbox_delivery_attempts", channel=channel, state="dead")
        assert attempts == 5 * rows


def test_an_unreadable_database_does_not_fail_the_scrape(client: TestClient) -> None:
    client.app.state.services.db.engine.dispose()  # type: ignore[attr-defined]
    path = Path(client.app.state.services.db.engine.url.database)  # type: ignore[attr-defined]
    path.unlink()
    path.mkdir()  # a directory where the database file was: SQLite cannot open it

    samples, _ = scrape(client)

    assert value(samples, "hrbot_database_up") == 0
    assert not [k for k in samples if k[0] == "hrbot_outbox_pending"]


def _pending_by_channel(ctx: Context) -> dict[str, int]:
    o = t.outbox.c
    query = (
        select(o.channel, func.count()).where(o.state == DeliveryState.PENDING).group_by(o.channel)
    )
    with ctx.uow() as uow:
        return {str(channel): int(n) for channel, n in uow.session.execute(query)}


def test_with_a_token_set_only_a_scrape_that_presents_it_is_answered(
    ctx: Context, db: Database, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None,
        database_url=db.engine.url.render_as_string(hide_password=False),
        documents_dir=tmp_path / "documents",
        secret_key="metrics-test-key",
        metrics_token="scrape-token-for-tests",  # pragma: allowlist secret
    )
    with TestClient(create_app(settings, run_worker=False)) as http:
        refused = http.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "hrbot_" not in refused.text
        wrong = http.get("/metrics", headers={"Authorization": "Bearer not-it"})
        assert wrong.status_code == 401
        answered = http.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"})
        assert answered.status_code == 200 and "hrbot_database_up" in answered.text
