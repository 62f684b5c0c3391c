"""``hrbot telegram set-webhook URL``: the secret and the update types, against the fake."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.telegram_cli import telegram_app, webhook_url
from tests.integration.telegram.conftest import SECRET
from tests.integration.telegram.fake_bot_api import TOKEN, FakeBotApi

runner = CliRunner()


@pytest.fixture
def env(fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> FakeBotApi:
    monkeypatch.setenv("HRBOT_TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("HRBOT_TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("HRBOT_TELEGRAM_API_URL", fake.api_url)
    return fake


def test_set_webhook_registers_the_secret_and_the_update_types(env: FakeBotApi) -> None:
    result = runner.invoke(telegram_app, ["set-webhook", "https://hr.example.com"])
    assert result.exit_code == 0, result.output
    assert env.webhook == {
        "url": "https://hr.example.com/telegram/webhook",
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
        "drop_pending_updates": False,
    }
    info = runner.invoke(telegram_app, ["webhook-info"])
    assert "https://hr.example.com/telegram/webhook" in info.output


def test_set_webhook_refuses_without_a_secret(
    env: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HRBOT_TELEGRAM_WEBHOOK_SECRET")
    result = runner.invoke(telegram_app, ["set-webhook", "https://hr.example.com"])
    assert result.exit_code == 1 and "WEBHOOK_SECRET" in result.output
    assert env.calls == []


def test_set_webhook_says_what_telegram_refused(env: FakeBotApi) -> None:
    env.fail_next("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided")
    result = runner.invoke(telegram_app, ["set-webhook", "https://hr.example.com/hook"])
    assert result.exit_code == 1 and "HTTPS url must be provided" in result.output
    assert TOKEN not in result.output


@pytest.mark.parametrize("url", ["http://hr.example.com", "hr.example.com", "ftp://x"])
def test_set_webhook_wants_https(env: FakeBotApi, url: str) -> None:
    result = runner.invoke(telegram_app, ["set-webhook", url])
    assert result.exit_code == 2 and env.calls == []


def test_a_full_hook_url_is_kept() -> None:
    assert webhook_url("https://x.cn/hr/telegram/webhook") == "https://x.cn/hr/telegram/webhook"
    assert webhook_url("https://x.cn/") == "https://x.cn/telegram/webhook"
