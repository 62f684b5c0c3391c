"""Speaking to a loopback fleet (tests/fleet_support.py) as Slack and Telegram do, over HTTP.

- Request builders (pure): a signed Slack event or interactive click, a Telegram update with
  the webhook's secret header. The load test sends them with its own HTTP client.
- ``Recorder``: indexes what the fake Slack and Telegram APIs receive by conversation, and keeps
  Telegram's answers (the message ids hrbot stores as a notice's external id), so a test can tell
  which message a notice became and whether any message arrived twice.
- ``FleetChat``: a synchronous client that sends each request to the next web process in turn.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes_slack import Call, FakeSlack, buttons_of, dm_channel, key_of
from tests.fleet_support import Fleet
from tests.integration.slack.conftest import click_payload, dm_event, envelope, sign
from tests.integration.telegram.conftest import SECRET as TELEGRAM_SECRET
from tests.integration.telegram.fake_bot_api import FakeBotApi

TELEGRAM_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Request = tuple[str, bytes, dict[str, str]]
"""Path, body and headers of one webhook request."""


# Request builders ------------------------------------------------------------------------------


def slack_message(user: str, text: str, files: list[dict[str, Any]] | None = None) -> Request:
    body = json.dumps(envelope(dm_event(user, text, files))).encode()
    return "/slack/events", body, {"Content-Type": "application/json", **sign(body)}


def slack_click(user: str, card: Call, button: dict[str, Any]) -> Request:
    body = urlencode({"payload": json.dumps(click_payload(user, card, button))}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    return "/slack/events", body, headers


def button_named(card: Call, action: str, index: int = 0) -> dict[str, Any]:
    found = [b for b in buttons_of(card) if b["action_id"].split("~")[0] == action]
    assert len(found) > index, f"no {action} button on {key_of(card)}"
    return found[index]


def _sender(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "u", "language_code": "zh-hans"}


def telegram_message(user_id: int, update_id: int, **content: Any) -> dict[str, Any]:
    """An update carrying a private message (``text=``, ``document=`` or ``photo=``)."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "u"},
            "from": _sender(user_id),
            **content,
        },
    }


def telegram_press(user_id: int, update_id: int, token: str, message_id: int) -> dict[str, Any]:
    """A callback query: ``token`` pressed on the bot's message ``message_id``."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "from": _sender(user_id),
            "chat_instance": "-42",
            "data": token,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private", "first_name": "u"},
                "text": "card",
            },
        },
    }


def telegram_request(update: dict[str, Any]) -> Request:
    body = json.dumps(update).encode()
    headers = {"Content-Type": "application/json", TELEGRAM_HEADER: TELEGRAM_SECRET}
    return "/telegram/webhook", body, headers


# What the fakes received -----------------------------------------------------------------------


@dataclass
class TelegramSent:
    """One call to the fake Bot API and, for a message, the id Telegram gave it."""

    method: str
    chat_id: str
    params: dict[str, Any]
    message_id: int | None

    @property
    def tokens(self) -> list[str]:
        markup = self.params.get("reply_markup") or {}
        return [b.get("callback_data", "") for r in markup.get("inline_keyboard", []) for b in r]


@dataclass
class Recorder:
    slack: FakeSlack
    telegram: FakeBotApi
    by_channel: dict[str, list[Call]] = field(default_factory=lambda: defaultdict(list))
    by_chat: dict[str, list[TelegramSent]] = field(default_factory=lambda: defaultdict(list))
    answers: dict[str, list[Call]] = field(default_factory=lambda: defaultdict(list))
    """The conversation's answers (keys ``chat.…``) by channel, without the pushed notices."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # The fakes' servers call these through the instance: wrap them to index each call.
        answer, handle = self.slack.answer, self.telegram.handle

        def slack_answer(method: str, params: dict[str, Any], auth: str | None) -> Any:
            result = answer(method, params, auth)
            if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
                call, channel = _call(method, params, result), str(params.get("channel"))
                is_answer = key_of(call).startswith("chat.")
                with self.lock:
                    self.by_channel[channel].append(call)
                    if is_answer:
                        self.answers[channel].append(call)
            return result

        def telegram_handle(method: str, params: dict[str, Any], files: dict[str, Any]) -> Any:
            status, body = handle(method, params, files)
            if "chat_id" in params:
                result = body.get("result") if isinstance(body, dict) else None
                mid = result.get("message_id") if isinstance(result, dict) else None
                sent = TelegramSent(method, str(params["chat_id"]), params, mid)
                with self.lock:
                    self.by_chat[sent.chat_id].append(sent)
            return status, body

        self.slack.answer = slack_answer  # type: ignore[method-assign]
        self.telegram.handle = telegram_handle  # type: ignore[method-assign]

    def slack_dm(self, user: str) -> list[Call]:
        with self.lock:
            return list(self.by_channel[dm_channel(user)])

    def slack_answers(self, user: str) -> list[Call]:
        with self.lock:
            return list(self.answers[dm_channel(user)])

    def telegram_chat(self, user_id: int) -> list[TelegramSent]:
        with self.lock:
            return list(self.by_chat[str(user_id)])


def _call(method: str, params: dict[str, Any], result: tuple[int, Any, Any]) -> Call:
    return Call(method, params, None, result[1] if isinstance(result[1], dict) else {})


# A synchronous client for tests ----------------------------------------------------------------


class FleetChat:
    """Sends each request to the next web process, and waits for what the bot answers."""

    def __init__(self, fleet: Fleet, recorder: Recorder, timeout: float = 15.0) -> None:
        self.fleet = fleet
        self.seen = recorder
        self.timeout = timeout
        self.http = httpx.Client(timeout=10)
        self.turns = itertools.count()
        self.update_ids = itertools.count(70_000)
        self.sent_by: dict[str, int] = defaultdict(int)

    def close(self) -> None:
        self.http.close()

    def post(self, request: Request) -> httpx.Response:
        path, body, headers = request
        base = self.fleet.web(next(self.turns))
        self.sent_by[base] += 1
        response = self.http.post(base + path, content=body, headers=headers)
        assert response.status_code == 200, f"{path} via {base}: {response.status_code}"
        return response

    def until(self, what: str, check: Callable[[], Any], timeout: float | None = None) -> Any:
        """Poll ``check`` until it returns something true; fail with the fleet's logs."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n{self.fleet.logs()}")
            time.sleep(0.03)

    # Slack: replies carry their message key (``chat.…``) in each block id.

    def slack_replies(self, user: str, since: int) -> list[str]:
        return [key_of(c) for c in self.seen.slack_answers(user)[since:]]

    def slack_says(
        self, user: str, text: str, expect: int = 1, files: list[dict[str, Any]] | None = None
    ) -> list[str]:
        since = len(self.seen.slack_answers(user))
        self.post(slack_message(user, text, files))
        return self._slack_answers(user, since, expect)

    def slack_presses(self, user: str, card: Call, action: str, index: int = 0) -> list[str]:
        since = len(self.seen.slack_answers(user))
        self.post(slack_click(user, card, button_named(card, action, index)))
        return self._slack_answers(user, since, 1)

    def _slack_answers(self, user: str, since: int, expect: int) -> list[str]:
        def answered() -> list[str]:
            keys = self.slack_replies(user, since)
            return keys if len(keys) >= expect else []

        return list(self.until(f"{expect} answer(s) to {user} on Slack", answered))

    def slack_latest(self, user: str, key: str) -> Call:
        """The latest message with ``key`` in ``user``'s direct messages, waited for."""

        def latest() -> Call | None:
            found = [c for c in self.seen.slack_dm(user) if key_of(c) == key]
            return found[-1] if found else None

        return self.until(f"{key} to {user} on Slack", latest)  # type: ignore[no-any-return]
