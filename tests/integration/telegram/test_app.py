"""The real app factory with Telegram on: the lifespan mounts the webhook, starts and stops the
bot, and a webhook update is answered through the whole stack (database from settings)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bot.app import create_app
from core.persistence.uow import Database
from core.services.context import Context
from tests.integration.telegram.conftest import SECRET, ZHANG, settings_for
from tests.integration.telegram.fake_bot_api import FakeBotApi


def test_the_app_serves_telegram_from_its_lifespan(
    fake: FakeBotApi, demo_org: Context, db: Database, tmp_path: Path
) -> None:
    settings = settings_for(
        fake,
        database_url=db.engine.url.render_as_string(hide_password=False),
        documents_dir=tmp_path / "documents",
    )
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1_760_000_000,
            "chat": {"id": ZHANG, "type": "private", "first_name": "三"},
            "from": {"id": ZHANG, "is_bot": False, "first_name": "三"},
            "text": "/help",
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    with TestClient(create_app(settings, run_worker=False)) as client:
        assert client.post("/telegram/webhook", json=update).status_code == 403
        assert client.post("/telegram/webhook", json=update, headers=headers).status_code == 200
        fake.wait_for(lambda: bool(fake.calls_to("sendMessage", ZHANG)))
    assert [c.method for c in fake.calls][:1] == ["getMe"]
