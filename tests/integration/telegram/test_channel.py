"""Pushes through the Bot API: send, edit the same card, 429 honoured, blocked users fall back."""

from __future__ import annotations

import pytest

from adapters.recording import RecordingChannel
from adapters.telegram.api import BotApi
from adapters.telegram.channel import TelegramChannel
from bot.bootstrap import Services
from bot.platforms.telegram import telegram_channel, telegram_config
from bot.routing import ChannelRouter
from bot.worker import Worker
from core.chat import Address, OutgoingButton, OutgoingFile, OutgoingMessage, Platform
from core.domain.notifications import ChannelKind, DeliveryState
from core.persistence.uow import Database
from core.ports import DeliveryFailed
from core.services.context import Context, Rules
from tests.integration.telegram.conftest import ZHANG, settings_for
from tests.integration.telegram.fake_bot_api import TOKEN, FakeBotApi

CARD = OutgoingMessage(
    "⚠️ 上海分公司 2026-08 社保逾期",
    buttons=(
        OutgoingButton("确认收到", "alert.acknowledge", "n41.0"),
        OutgoingButton("已解决", "alert.resolve", "n41.1"),
    ),
    key="alert.level1",
)
TO = Address(Platform.TELEGRAM, str(ZHANG))


@pytest.fixture
def channel(fake: FakeBotApi) -> TelegramChannel:
    return telegram_channel(settings_for(fake))


def test_a_push_is_sent_with_its_keyboard_and_remembered_as_chat_and_message(
    fake: FakeBotApi, channel: TelegramChannel
) -> None:
    external = channel.send(TO, CARD)
    (call,) = fake.calls_to("sendMessage", ZHANG)
    assert external == f"{ZHANG}:{call.get('message_id') or 1}"
    assert call.tokens == ["n41.0", "n41.1"] and call.get("text") == CARD.text


def test_later_steps_edit_the_same_card(fake: FakeBotApi, channel: TelegramChannel) -> None:
    external = channel.send(TO, CARD)
    assert external is not None
    closed = OutgoingMessage("✅ 已由王芳处理", key="card.closed")
    assert channel.update(TO, external, closed) == external
    (edit,) = fake.calls_to("editMessageText", ZHANG)
    assert str(edit.get("message_id")) == external.split(":")[1]
    assert edit.get("reply_markup") == {"inline_keyboard": []}  # spent buttons removed


def test_an_unchanged_text_still_updates_the_buttons(
    fake: FakeBotApi, channel: TelegramChannel
) -> None:
    fake.fail_next("editMessageText", 400, "Bad Request: message is not modified")
    assert channel.update(TO, f"{ZHANG}:7", CARD) == f"{ZHANG}:7"
    (markup,) = fake.calls_to("editMessageReplyMarkup", ZHANG)
    assert markup.tokens == ["n41.0", "n41.1"]


def test_a_card_telegram_will_not_edit_is_sent_anew(
    fake: FakeBotApi, channel: TelegramChannel
) -> None:
    fake.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
    assert channel.update(TO, f"{ZHANG}:7", CARD) is not None
    assert len(fake.calls_to("sendMessage", ZHANG)) == 1


def test_flood_control_asks_the_dispatcher_to_wait(
    fake: FakeBotApi, channel: TelegramChannel
) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 17", retry_after=17)
    with pytest.raises(DeliveryFailed) as failed:
        channel.send(TO, CARD)
    assert failed.value.retry_after == 17 and not failed.value.permanent


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (403, "Forbidden: bot was blocked by the user"),
        (400, "Bad Request: chat not found"),
        (403, "Forbidden: user is deactivated"),
    ],
)
def test_an_unreachable_person_is_a_permanent_failure(
    fake: FakeBotApi, channel: TelegramChannel, status: int, description: str
) -> None:
    fake.fail_next("sendMessage", status, description)
    with pytest.raises(DeliveryFailed) as failed:
        channel.send(TO, CARD)
    assert failed.value.permanent and TOKEN not in str(failed.value)


def test_a_server_error_is_retried_later(fake: FakeBotApi, channel: TelegramChannel) -> None:
    fake.fail_next("sendMessage", 500, "Internal Server Error")
    with pytest.raises(DeliveryFailed) as failed:
        channel.send(TO, CARD)
    assert not failed.value.permanent and failed.value.retry_after is None


def test_an_unreachable_api_never_leaks_the_token(fake: FakeBotApi) -> None:
    dead = telegram_config(settings_for(fake, telegram_api_url="http://127.0.0.1:9/bot"))
    with pytest.raises(DeliveryFailed) as failed:
        TelegramChannel(BotApi(dead)).send(TO, CARD)
    assert TOKEN not in str(failed.value) and not failed.value.permanent


def test_files_go_as_documents(fake: FakeBotApi, channel: TelegramChannel) -> None:
    voucher = OutgoingFile("报销凭证.pdf", "application/pdf", b"%PDF-1.4 voucher")
    channel.send(TO, OutgoingMessage("📎 报销凭证", files=(voucher,)))
    (document,) = fake.calls_to("sendDocument", ZHANG)
    assert document.files["document"] == ("报销凭证.pdf", b"%PDF-1.4 voucher")


def test_a_blocked_bot_falls_back_to_e_mail(
    fake: FakeBotApi, demo_org: Context, db: Database, channel: TelegramChannel
) -> None:
    """Through the real dispatcher: a chat notice to someone who blocked the bot goes by e-mail."""
    from dataclasses import replace

    from core.services import chats

    ctx = replace(demo_org, rules=Rules(channels=frozenset({ChannelKind.CHAT, ChannelKind.EMAIL})))
    with ctx.uow() as uow:
        zhang = uow.directory.employee_by_chat("telegram", str(ZHANG))
        assert zhang is not None
        zhang_id = zhang.id
    chats.record_handoff(ctx, zhang_id, "年会在哪", "zh-CN", [], {})  # HR 王芳 gets a chat notice
    email = RecordingChannel()
    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", times=5)
    router = ChannelRouter(chats={Platform.TELEGRAM: channel}, email=email)
    Worker(Services(settings_for(fake), db, ctx), router).tick()
    handoffs = [a.target for a, m in email.sent if m.key == "handoff.new"]
    assert handoffs == ["wangfang@example.com"]  # the tick's other notices went by e-mail too
    with ctx.uow() as uow:
        (notice,) = [n for n in uow.outbox.all() if n.key == "handoff.new"]
    assert notice.state is DeliveryState.SENT
