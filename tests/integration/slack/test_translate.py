"""The translators, on the real payload fixtures (``tests/fixtures/slack/``): pure functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.slack import blocks, translate
from core.chat import Address, OutgoingButton, OutgoingFile, OutgoingMessage, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def test_message_im_becomes_an_incoming_message() -> None:
    body = fixture("slack_message_im_event__docs")
    message = translate.incoming_message(body)
    assert message is not None
    assert message.sender == Address(Platform.SLACK, "U2147483697")
    assert message.text == "Hello hello can you hear me?"
    assert message.message_id == "D024BE91L:1355517523.000005"
    assert translate.reply_channel(body) == "D024BE91L"
    assert translate.delivery_id(body) == "Ev0PV52K21"
    assert translate.team_and_app(body) == ("T123ABC456", "A0PNCHHK2")


def test_app_mention_drops_the_mention_and_is_answered_in_a_dm() -> None:
    body = fixture("slack_app_mention_event__docs")
    message = translate.incoming_message(body)
    assert message is not None and message.text == "is it everything a river should be?"
    assert translate.reply_channel(body) is None  # a channel: the answer is personal, so a DM


def test_file_share_in_a_channel_is_not_for_the_bot_but_in_a_dm_it_is() -> None:
    body = fixture("slack_message_file_share_event__bolt_test_fixture")
    assert translate.incoming_message(body) is None  # channel_type "channel"
    body["event"]["channel_type"], body["event"]["channel"] = "im", "D111"
    message = translate.incoming_message(body)
    assert message is not None and message.text == "Hi there!"
    (attachment,) = message.attachments
    assert (attachment.ref, attachment.filename, attachment.size) == ("F111", "file.png", 92582)
    assert attachment.content_type == "image/png" and attachment.content is None


def test_file_shared_names_the_file_only_by_id() -> None:
    body = fixture("slack_file_shared_event__docs")
    message = translate.incoming_message(body)
    assert message is not None and message.sender.target == "U0Z7K8SRH"
    (attachment,) = message.attachments
    assert attachment.ref == "F2147483862" and attachment.size is None
    assert translate.reply_channel(body) == "D01315BHHSN"


@pytest.mark.parametrize(
    "change",
    [
        {"subtype": "message_changed"},
        {"subtype": "bot_message"},
        {"bot_id": "B111"},
        {"channel_type": "channel"},
        {"user": None},
    ],
)
def test_what_is_not_a_person_writing_to_the_bot_is_ignored(change: dict[str, Any]) -> None:
    body = fixture("slack_message_im_event__docs")
    body["event"].update(change)
    assert not translate.is_actionable(body) and translate.incoming_message(body) is None


def test_block_actions_become_a_click_with_the_opaque_token() -> None:
    body = fixture("slack_block_actions__bolt_test_fixture")
    click = translate.button_click(body)
    assert click is not None
    assert click.sender == Address(Platform.SLACK, "U111")
    assert (click.action, click.token) == ("button", "clicked")
    assert click.message_id == "C111:1678252213.679169"
    assert translate.team_and_app(body) == ("T0G9PQBBK", "A111")
    ephemeral = translate.button_click(fixture("slack_block_actions_ephemeral__bolt_test_fixture"))
    assert ephemeral is not None and ephemeral.token == "click_me_123"


def test_a_second_button_with_the_same_action_is_told_apart_and_read_back() -> None:
    body = fixture("slack_block_actions__bolt_test_fixture")
    body["actions"][0]["action_id"] = "ack.date~2"
    click = translate.button_click(body)
    assert click is not None and click.action == "ack.date"


def _card(**overrides: Any) -> OutgoingMessage:
    buttons = (
        OutgoingButton("批准", "claim.approve", "n12.0", "primary"),
        OutgoingButton("退回", "claim.return", "n12.1"),
        OutgoingButton("拒绝", "claim.reject", "n12.2", "danger"),
        OutgoingButton("查看", "claim.voucher", "n12.3"),
    )
    fields: dict[str, Any] = {
        "text": "报销 C-1 待审 <!channel> & co",
        "buttons": buttons,
        "key": "claim.review_requested",
        "locale": "zh-CN",
    }
    return OutgoingMessage(**(fields | overrides))


def test_buttons_carry_the_token_as_value_and_the_action_as_action_id() -> None:
    section, actions = blocks.message_blocks(_card())
    assert section["text"]["text"] == "报销 C-1 待审 &lt;!channel&gt; &amp; co"
    assert section["block_id"] == "claim.review_requested#0"
    approve, give_back, reject, view = actions["elements"]
    assert (approve["action_id"], approve["value"], approve["style"]) == (
        "claim.approve",
        "n12.0",
        "primary",
    )
    assert reject["style"] == "danger" and reject["confirm"]["style"] == "danger"
    assert (
        approve["confirm"]["title"]["text"] == "请确认"
        and "批准" in approve["confirm"]["text"]["text"]
    )
    assert "confirm" in give_back and "confirm" not in view and "style" not in view


def test_confirm_dialogs_speak_the_message_language() -> None:
    english = _card(locale="en", buttons=(OutgoingButton("Approve", "batch.approve", "n1.0"),))
    (_, actions) = blocks.message_blocks(english)
    assert actions["elements"][0]["confirm"]["confirm"]["text"] == "Yes"


def test_duplicate_actions_get_unique_ids() -> None:
    dates = tuple(OutgoingButton(f"10-{d}", "ack.date", f"s{d}") for d in (13, 14, 15))
    (_, actions) = blocks.message_blocks(_card(buttons=dates))
    assert [e["action_id"] for e in actions["elements"]] == ["ack.date", "ack.date~2", "ack.date~3"]


def test_long_text_is_split_within_slack_limits_and_files_are_announced() -> None:
    long = OutgoingMessage(
        text=("一行内容\n" * 2000), files=(OutgoingFile("v.pdf", "application/pdf", b"%PDF"),)
    )
    made = blocks.message_blocks(long)
    sections = [b for b in made if b["type"] == "section"]
    assert len(sections) >= 3 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert made[-1]["type"] == "context" and "v.pdf" in made[-1]["elements"][0]["text"]
    assert len(blocks.fallback_text(long)) <= 4000
    no_break = blocks.message_blocks(OutgoingMessage(text="&" * 5000))
    assert all(not b["text"]["text"].endswith("&am") for b in no_break)
