"""A message or click that fails on our side (a bug, the database gone mid-turn) is answered with
an apology in the person's language, so nobody waits for a reply that will never come; the next
message is handled as usual."""

from __future__ import annotations

from typing import Any

import pytest

from bot.conversation import Conversation
from tests.fakes_slack import dm_channel, key_of
from tests.integration.slack.conftest import SlackHarness

ZHANG = "U0ZHANGSAN"


async def test_a_message_that_fails_is_answered_with_an_apology_and_the_chat_goes_on(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Conversation.on_message

    def explode_once(self: Conversation, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Conversation, "on_message", real)
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(Conversation, "on_message", explode_once)
    assert await slack.says(ZHANG, "/status") == ["chat.failed"]
    (apology,) = slack.fake.posts(dm_channel(ZHANG))
    assert "系统出了问题" in str(apology.params.get("text"))  # 张三 reads Chinese
    assert await slack.says(ZHANG, "/help") == ["chat.help"]


async def test_a_click_that_fails_is_answered_with_an_apology(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await slack.says(ZHANG, "/claim")

    def explode(self: Conversation, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug behind a button")

    monkeypatch.setattr(Conversation, "on_click", explode)
    assert await slack.clicks(ZHANG, "wizard.type") == ["chat.failed"]
    assert key_of(slack.fake.posts(dm_channel(ZHANG))[-1]) == "chat.failed"
