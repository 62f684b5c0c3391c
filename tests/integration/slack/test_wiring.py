"""Wiring: Slack is on only with both settings, mounts beside the rest of the app, answers Slack's
URL check, and costs nothing at import time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from adapters.slack.config import SlackConfig
from bot.app import create_app
from bot.conversation import Conversation
from bot.demo.org import load_demo_org
from bot.platforms.slack import mount_slack, slack_enabled
from bot.settings import Settings
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from tests.fakes_slack import TOKEN, FakeSlack, dm_channel, key_of
from tests.integration.slack.conftest import SECRET, SlackHarness, envelope, sign

ROOT = Path(__file__).resolve().parents[3]


def test_slack_is_on_with_both_settings_and_off_with_neither() -> None:
    assert slack_enabled(Settings(slack_bot_token=TOKEN, slack_signing_secret=SECRET))
    assert not slack_enabled(Settings(slack_bot_token=None, slack_signing_secret=None))


@pytest.mark.parametrize(
    ("token", "secret", "missing"),
    [(TOKEN, None, "HRBOT_SLACK_SIGNING_SECRET"), (None, SECRET, "HRBOT_SLACK_BOT_TOKEN")],
)
def test_one_setting_without_the_other_is_an_error(
    token: str | None, secret: str | None, missing: str
) -> None:
    with pytest.raises(ValueError, match=missing):
        slack_enabled(Settings(slack_bot_token=token, slack_signing_secret=secret))


def test_the_adapter_never_runs_without_a_signing_secret() -> None:
    with pytest.raises(ValueError):
        SlackConfig(bot_token=TOKEN, signing_secret="")


def test_importing_the_wiring_does_not_import_bolt() -> None:
    code = (
        "import sys, bot.platforms.slack, adapters.slack; "
        "sys.exit(1 if 'slack_bolt' in sys.modules or 'slack_sdk' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0


async def test_slack_url_verification_is_answered(slack: SlackHarness) -> None:
    body = json.dumps(
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    ).encode()
    response = await slack.post(body, {"Content-Type": "application/json", **sign(body)})
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


async def test_a_mention_in_a_channel_is_answered_in_a_dm(slack: SlackHarness) -> None:
    mention = {
        "type": "app_mention",
        "user": "U0ZHANGSAN",
        "text": "<@U0HRBOT> /status",
        "ts": "1515449522.000016",
        "channel": "C0GENERAL",
        "event_ts": "1515449522.000016",
    }
    await slack.send_event(envelope(mention))
    assert [c.params["users"] for c in slack.fake.calls_to("conversations.open")] == ["U0ZHANGSAN"]
    posted = slack.fake.posts(dm_channel("U0ZHANGSAN"))
    assert [key_of(c) for c in posted] == ["chat.status", "chat.status_delayed"]
    assert not slack.fake.posts("C0GENERAL"), "nothing personal in a shared channel"


def _migrated(tmp_path: Path, settings: Settings) -> Settings:
    url = f"sqlite:///{tmp_path / 'hrbot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return settings.model_copy(update={"database_url": url, "documents_dir": tmp_path / "docs"})


async def test_mounted_on_the_real_app_factory(
    tmp_path: Path, fake_slack: FakeSlack, slack_settings: Settings
) -> None:
    app = create_app(_migrated(tmp_path, slack_settings), run_worker=False)
    event = {"type": "message", "channel": "DU0EMILY", "user": "U0EMILY", "text": "/help"}
    body = json.dumps(envelope(event | {"ts": "1.1", "channel_type": "im"})).encode()
    async with app.router.lifespan_context(app):
        services = app.state.services
        with services.ctx.uow() as uow:
            load_demo_org(uow, services.ctx.today(), services.ctx.now())
            uow.commit()
        bot = mount_slack(app, services, Conversation(services.ctx))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hrbot.test") as http:
            assert (await http.get("/healthz")).status_code == 200
            headers = {"Content-Type": "application/json", **sign(body)}
            assert (await http.post("/slack/events", content=body, headers=headers)).is_success
            assert await bot.drain()
            assert (await http.post("/slack/events", content=body)).status_code == 401
        await bot.close()
    (answer,) = fake_slack.posts("DU0EMILY")
    assert key_of(answer) == "chat.help" and "I can help you" in answer.params["text"]


def test_the_manifest_asks_for_what_the_adapter_uses() -> None:
    import yaml

    from adapters.slack.app import SUBSCRIBED_EVENTS

    manifest = yaml.safe_load((ROOT / "slack-manifest.yml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert scopes >= {"chat:write", "im:write", "im:history", "files:read", "users:read"}
    settings = manifest["settings"]
    events = settings["event_subscriptions"]
    assert {e.split(".")[0] for e in events["bot_events"]} <= set(SUBSCRIBED_EVENTS)
    assert "app_mentions:read" in scopes or "app_mention" not in events["bot_events"]
    assert settings["interactivity"]["is_enabled"]
    urls = (events["request_url"], settings["interactivity"]["request_url"])
    assert all(url.endswith("/slack/events") for url in urls)
