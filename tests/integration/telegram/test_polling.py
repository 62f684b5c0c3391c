"""``HRBOT_TELEGRAM_MODE=polling``: ``getUpdates`` through the same inbox as the webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.persistence.uow import Database
from core.services.context import Context
from tests.integration.telegram.conftest import (
    ZHANG,
    Harness,
    start_harness,
    stop_harness,
    wait_until,
)
from tests.integration.telegram.fake_bot_api import FakeBotApi


@pytest.fixture
async def polling(fake: FakeBotApi, demo_org: Context, db: Database) -> AsyncIterator[Harness]:
    fake.webhook = {"url": "https://old.example.com/telegram/webhook"}
    h = await start_harness(
        fake, demo_org, db, telegram_mode="polling", telegram_webhook_secret=None
    )
    try:
        yield h
    finally:
        await stop_harness(h)


async def test_polling_removes_the_webhook_and_asks_only_for_what_it_handles(
    polling: Harness,
) -> None:
    assert await polling.user(ZHANG).says("/help") == ["chat.help"]
    methods = [c.method for c in polling.fake.calls]
    assert methods.index("deleteWebhook") < methods.index("getUpdates")
    assert polling.fake.webhook == {}
    poll = polling.fake.calls_to("getUpdates")[0]
    assert poll.get("allowed_updates") == ["message", "callback_query"]


async def test_an_update_fetched_twice_has_one_effect(polling: Harness) -> None:
    zhang = polling.user(ZHANG)
    update = zhang.message_update(text="/help")
    await polling.deliver(update)
    await polling.deliver(update)  # e.g. fetched again after a crash before confirming
    assert len(polling.fake.calls_to("sendMessage", ZHANG)) == 1


async def test_a_failing_get_updates_is_waited_out(polling: Harness) -> None:
    polling.fake.fail_next("getUpdates", 500, "Internal Server Error", times=2)
    before = len(polling.fake.calls_to("getUpdates"))
    await wait_until(lambda: len(polling.fake.calls_to("getUpdates")) >= before + 3)
    assert await polling.user(ZHANG).says("/help") == ["chat.help"]


async def test_the_webhook_is_closed_in_polling_mode(polling: Harness) -> None:
    response = await polling.post(polling.user(ZHANG).message_update(text="/help"), secret="x")
    assert response.status_code == 403
