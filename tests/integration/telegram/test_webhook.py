"""``POST /telegram/webhook``: the secret, de-duplication by ``update_id``, poison updates."""

from __future__ import annotations

import asyncio
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from adapters.telegram.config import TelegramConfigError
from bot.bootstrap import Services
from bot.i18n import Translator
from bot.platforms.telegram import mount_telegram
from core.persistence import tables as t
from core.persistence.uow import Database
from core.services.context import Context
from tests.integration.telegram.conftest import (
    SECRET,
    ZHANG,
    Harness,
    RecordingConversation,
    settings_for,
    start_harness,
    stop_harness,
)
from tests.integration.telegram.fake_bot_api import FakeBotApi


def rows(db: Database, table: Any) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def apology_in(locale: str) -> str:
    return Translator(locale, ZoneInfo("Asia/Shanghai"))("chat.failed")


def replies_to(h: Harness, user: int) -> int:
    return len(h.fake.calls_to("sendMessage", user))


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("wrong-secret", id="wrong"),
        pytest.param(SECRET[:-1], id="prefix"),
        pytest.param(SECRET + "x", id="longer"),
        pytest.param(SECRET.swapcase(), id="case-changed"),
        pytest.param(SECRET.upper(), id="upper"),
        pytest.param("a" * 257, id="257-chars"),
        pytest.param(" " + SECRET, id="leading-space"),
        pytest.param(SECRET.replace("s", "ş", 1), id="non-ascii"),
    ],
)
async def test_anything_but_the_exact_secret_is_403_and_writes_nothing(
    tg: Harness, db: Database, secret: str | None
) -> None:
    sessions_before = rows(db, t.chat_sessions)
    tg.fake.reset()
    update = tg.user(ZHANG).message_update(text="/status")
    headers: dict[bytes, bytes] = {}
    if secret is not None:  # raw UTF-8 bytes, as a client may send them
        headers[b"X-Telegram-Bot-Api-Secret-Token"] = secret.encode()
    response = await tg.client.post("/telegram/webhook", json=update, headers=headers)
    await tg.runtime.join()
    assert response.status_code == 403
    assert rows(db, t.inbox) == 0 and rows(db, t.chat_sessions) == sessions_before
    assert tg.fake.calls == []


async def test_the_exact_secret_is_accepted(tg: Harness, db: Database) -> None:
    response = await tg.post(tg.user(ZHANG).message_update(text="/help"))
    await tg.runtime.join()
    assert response.status_code == 200 and rows(db, t.inbox) == 1
    assert replies_to(tg, ZHANG) == 1


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}']
)
async def test_a_malformed_body_with_the_right_secret_is_400(tg: Harness, body: bytes) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    response = await tg.client.post("/telegram/webhook", content=body, headers=headers)
    assert response.status_code == 400


@pytest.mark.parametrize("times", [2, 3, 5])
async def test_the_same_update_sent_again_and_again_has_one_effect(
    tg: Harness, db: Database, times: int
) -> None:
    update = tg.user(ZHANG).message_update(text="/status")
    for _ in range(times):
        assert (await tg.post(update)).status_code == 200  # Telegram stops retrying on 200
    await tg.runtime.join()
    assert rows(db, t.inbox) == 1
    assert len(tg.fake.calls_to("sendMessage", ZHANG)) == 2  # one status strip + its note


@pytest.mark.parametrize("times", [2, 5])
async def test_the_same_update_sent_concurrently_has_one_effect(
    tg: Harness, db: Database, times: int
) -> None:
    update = tg.user(ZHANG).message_update(text="/claim")
    responses = await asyncio.gather(*(tg.post(update) for _ in range(times)))
    await tg.runtime.join()
    assert [r.status_code for r in responses] == [200] * times
    assert rows(db, t.inbox) == 1
    assert len(tg.fake.calls_to("sendMessage", ZHANG)) == 1


async def test_a_lower_update_id_after_a_reset_is_processed(tg: Harness, db: Database) -> None:
    zhang = tg.user(ZHANG)
    high = zhang.message_update(text="/help")
    high["update_id"] = 900_000_000
    low = zhang.message_update(text="/help")
    low["update_id"] = 3  # ids start again lower after a long quiet spell
    for update in (high, low):
        assert (await tg.post(update)).status_code == 200
    await tg.runtime.join()
    assert rows(db, t.inbox) == 2 and replies_to(tg, ZHANG) == 2


async def test_one_press_delivered_as_several_queries_changes_state_once(
    tg: Harness, db: Database
) -> None:
    zhang = tg.user(ZHANG)
    await zhang.says("/claim")
    token = next(b.token for m in zhang.last for b in m.buttons if b.action == "wizard.type")
    presses = [zhang.click_update(token) for _ in range(3)]  # three ids, three query ids
    await asyncio.gather(*(tg.post(p) for p in presses))
    await tg.runtime.join()
    with db.engine.connect() as connection:
        claims = connection.execute(select(func.count()).select_from(t.claims)).scalar_one()
    assert claims == 1
    answered = {c.get("callback_query_id") for c in tg.fake.calls_to("answerCallbackQuery")}
    assert answered == {p["callback_query"]["id"] for p in presses}  # every query answered


async def test_a_poison_update_is_set_aside_and_the_chat_goes_on(
    tg: Harness, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    zhang = tg.user(ZHANG)
    real = tg.conversation.on_message

    def explode_once(message: Any, employee_id: int | None = None) -> Any:
        monkeypatch.setattr(tg.conversation, "on_message", real)
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(tg.conversation, "on_message", explode_once)
    poison = zhang.message_update(text="/status")
    assert (await tg.post(poison)).status_code == 200
    await tg.runtime.join()
    # 张三 is told, in his language, that his message may not have gone through.
    assert zhang.texts() == [apology_in("zh-CN")]
    assert await zhang.says("/help") == ["chat.help"]  # the next update of the same chat
    with tg.ctx.uow() as uow:
        (dead,) = [a for a in uow.audit.all() if a.action == "inbox.dead_letter"]
    assert dead.detail["update_id"] == poison["update_id"]
    assert "a bug in a handler" in dead.detail["error"]
    with db.engine.connect() as connection:
        processed = dict(connection.execute(select(t.inbox.c.event_id, t.inbox.c.processed)).all())
    assert processed[str(poison["update_id"])] is False  # found again by anyone who looks


async def test_an_update_ptb_cannot_read_is_a_dead_letter_not_a_retry_loop(tg: Harness) -> None:
    broken = {"update_id": 4242, "message": {"message_id": 1, "chat": {"id": ZHANG}}}
    for _ in range(2):
        assert (await tg.post(broken)).status_code == 200
    await tg.runtime.join()
    with tg.ctx.uow() as uow:
        dead = [a for a in uow.audit.all() if a.action == "inbox.dead_letter"]
    assert len(dead) == 1


def test_webhook_mode_refuses_to_start_without_a_secret(
    fake: FakeBotApi, ctx: Context, db: Database
) -> None:
    settings = settings_for(fake, telegram_webhook_secret=None)
    with pytest.raises(TelegramConfigError, match="WEBHOOK_SECRET"):
        mount_telegram(FastAPI(), Services(settings, db, ctx), RecordingConversation(ctx))


def test_polling_mode_needs_no_secret_and_its_webhook_answers_403(
    fake: FakeBotApi, ctx: Context, db: Database
) -> None:
    settings = settings_for(fake, telegram_webhook_secret=None, telegram_mode="polling")
    runtime = mount_telegram(FastAPI(), Services(settings, db, ctx), RecordingConversation(ctx))
    assert runtime.config.mode == "polling"


async def test_before_start_the_webhook_answers_503_so_telegram_retries(
    fake: FakeBotApi, demo_org: Context, db: Database
) -> None:
    import httpx

    app = FastAPI()
    mount_telegram(app, Services(settings_for(fake), db, demo_org), RecordingConversation(demo_org))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/telegram/webhook",
            json={"update_id": 1},
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
    assert response.status_code == 503
    assert rows(db, t.inbox) == 0


async def test_a_press_that_fails_is_still_answered_and_set_aside(
    tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    zhang = tg.user(ZHANG)
    await zhang.says("/claim")
    token = next(b.token for m in zhang.last for b in m.buttons if b.action == "wizard.type")

    def explode(click: Any, employee_id: int | None = None) -> Any:
        raise RuntimeError("a bug behind a button")

    monkeypatch.setattr(tg.conversation, "on_click", explode)
    press = zhang.click_update(token)
    assert (await tg.post(press)).status_code == 200
    await tg.runtime.join()
    (answer,) = tg.fake.calls_to("answerCallbackQuery")
    assert answer.get("callback_query_id") == press["callback_query"]["id"]
    with tg.ctx.uow() as uow:
        assert [a for a in uow.audit.all() if a.action == "inbox.dead_letter"]
    assert zhang.texts()[-1] == apology_in("zh-CN")


async def test_the_apology_speaks_the_persons_language_even_when_the_database_is_away(
    tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure may be the database's: the language then comes from Telegram's hint."""
    from sqlalchemy.exc import OperationalError

    from core.services import chats

    emily = tg.user(1001003, language="en-GB")  # not linked: nothing of hers stored

    def away(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(tg.conversation, "on_message", away)
    monkeypatch.setattr(chats, "chosen_locale", away)
    assert (await tg.post(emily.message_update(text="/status"))).status_code == 200
    await tg.runtime.join()
    assert emily.texts() == [apology_in("en")]


async def test_updates_accepted_before_a_stop_are_still_handled(
    fake: FakeBotApi, demo_org: Context, db: Database
) -> None:
    h = await start_harness(fake, demo_org, db)
    zhang = h.user(ZHANG)
    for _ in range(3):
        assert (await h.post(zhang.message_update(text="/help"))).status_code == 200
    await h.runtime.stop()  # no join first: stopping drains what was accepted
    assert len(fake.calls_to("sendMessage", ZHANG)) == 3
    assert (await h.post(zhang.message_update(text="/help"))).status_code == 503
    await h.client.aclose()
    h.channel.close()


async def test_telegram_unreachable_at_start_does_not_stop_the_server(
    fake: FakeBotApi, demo_org: Context, db: Database
) -> None:
    h = await start_harness(fake, demo_org, db, telegram_api_url="http://127.0.0.1:9/bot")
    try:
        response = await h.post(h.user(ZHANG).message_update(text="/help"))
        assert response.status_code == 503  # Telegram keeps the update and retries
        assert rows(db, t.inbox) == 0
    finally:
        await stop_harness(h)
