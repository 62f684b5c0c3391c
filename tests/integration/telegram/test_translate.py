"""The translators, on real payloads: Update → ``core.chat`` and back, within Telegram's limits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, Update

from adapters.telegram.config import file_base_url
from adapters.telegram.translate import (
    CLICK_ACTION,
    callback_data,
    external_id,
    keyboard,
    parse_external_id,
    split_text,
    to_core,
    to_telegram,
)
from core.chat import (
    Address,
    ButtonClick,
    IncomingMessage,
    OutgoingButton,
    OutgoingMessage,
    Platform,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
BOT = Bot("123:abc")


def update(name: str, **changes: Any) -> Update:
    payload = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    for path, value in changes.items():
        target = payload
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[key]
        target[leaf] = value
    return Update.de_json(payload, BOT)


def test_a_document_becomes_an_attachment_with_the_stated_size() -> None:
    incoming = to_core(update("telegram_update_message_document__ptb22_minimal"))
    assert isinstance(incoming, IncomingMessage)
    assert incoming.sender == Address(Platform.TELEGRAM, "1111111")
    (attachment,) = incoming.attachments
    assert (attachment.filename, attachment.content_type) == ("Testfile.pdf", "application/pdf")
    assert attachment.size == 536392 and attachment.ref == "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX"
    assert attachment.content is None  # nothing is downloaded by translating
    assert incoming.message_id == "1111111:1365"


def test_the_official_examples_lack_what_ptb_22_needs() -> None:
    # Documented in the fixtures' README: the adapter is tested on the *_ptb22_minimal forms.
    with pytest.raises((KeyError, TypeError)):
        update("telegram_update_message_document__official")


def test_a_photo_is_taken_at_its_largest_size() -> None:
    incoming = to_core(update("telegram_update_message_photo__hrbot"))
    assert isinstance(incoming, IncomingMessage)
    (photo,) = incoming.attachments
    assert photo.ref == "PHOTO-L" and photo.size == 148020
    assert photo.filename == "photo_AQADl.jpg" and photo.content_type == "image/jpeg"
    assert incoming.text == "费用清单"  # the caption travels as the text


def test_text_and_commands_pass_through_with_the_language_hint() -> None:
    text = to_core(update("telegram_update_message_text__hrbot"))
    command = to_core(update("telegram_update_message_command__hrbot"))
    assert isinstance(text, IncomingMessage) and isinstance(command, IncomingMessage)
    assert text.text == "住院报销需要哪些材料" and text.locale_hint == "zh-hans"
    assert command.text == "/status@hrbot_test_bot"  # the conversation strips the bot's name
    assert command.locale_hint == "en" and command.sender.target == "1001003"


def test_a_sticker_or_an_empty_message_is_not_for_the_conversation() -> None:
    assert to_core(update("telegram_update_message_text__hrbot", message__text="   ")) is None


def test_a_callback_query_becomes_a_click_carrying_only_the_token() -> None:
    click = to_core(
        update(
            "telegram_update_callback_query__ptb22_minimal", callback_query__data="s0123456789ab"
        )
    )
    assert click == ButtonClick(
        Address(Platform.TELEGRAM, "1111111"), CLICK_ACTION, "s0123456789ab"
    )


@pytest.mark.parametrize("data", ["x" * 65, "票" * 22, ""])
def test_callback_data_telegram_would_never_send_becomes_an_empty_token(data: str) -> None:
    click = to_core(
        update("telegram_update_callback_query__ptb22_minimal", callback_query__data=data)
    )
    assert isinstance(click, ButtonClick) and click.token == ""


def test_buttons_carry_their_tokens_as_callback_data_within_64_bytes() -> None:
    buttons = (
        OutgoingButton("批准", "claim.approve", "n123456789012.3"),
        OutgoingButton("退回", "claim.return", "s0123456789ab"),
    )
    markup = keyboard(buttons)
    assert markup is not None
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data == ["n123456789012.3", "s0123456789ab"]
    assert all(isinstance(d, str) and len(d.encode()) <= 64 for d in data)
    with pytest.raises(ValueError):
        callback_data("n" + "1" * 64)
    with pytest.raises(ValueError):
        callback_data("")


def test_long_labels_get_a_row_each() -> None:
    markup = keyboard((OutgoingButton("a" * 30, "x", "s1"), OutgoingButton("b", "y", "s2")))
    assert markup is not None and [len(row) for row in markup.inline_keyboard] == [1, 1]


def test_long_text_is_split_at_line_breaks_and_the_keyboard_rides_on_the_last_chunk() -> None:
    text = "\n".join(f"第{i}行 " + "字" * 90 for i in range(100))
    parts = to_telegram(OutgoingMessage(text, buttons=(OutgoingButton("好", "x", "s1"),)))
    assert len(parts) > 1 and all(len(p.text) <= 4096 for p in parts)
    assert [p.markup is not None for p in parts] == [False] * (len(parts) - 1) + [True]
    assert "\n".join(p.text for p in parts) == text
    assert split_text("") == [] and split_text("x" * 5000) == ["x" * 4096, "x" * 904]


def test_external_ids_round_trip() -> None:
    assert parse_external_id(external_id(-100123, 42)) == ("-100123", 42)
    with pytest.raises(ValueError):
        parse_external_id("rec-1")


def test_files_come_from_the_same_host() -> None:
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://127.0.0.1:5000/bot") == "http://127.0.0.1:5000/file/bot"
