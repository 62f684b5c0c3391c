"""Slack through its real front door: signed HTTP requests to ``POST /slack/events`` on a
test-only composition (a FastAPI app with only ``mount_slack``), a fake Slack Web API on a
loopback port, and the outbox dispatcher pushing through ``SlackChannel`` to the same fake.

Every request body is signed with ``SignatureVerifier.generate_signature`` over the exact bytes
sent. Nothing leaves 127.0.0.1 (the ASGI app is called in-process).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from slack_sdk.signature import SignatureVerifier

from adapters.slack.app import SlackBot
from bot.bootstrap import Services
from bot.conversation import Conversation
from bot.demo.org import load_demo_org
from bot.platforms.slack import mount_slack, slack_channel
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import Platform
from core.persistence.uow import Database
from core.services.context import Context
from tests.factories import consent_all
from tests.fakes_slack import (
    APP,
    TEAM,
    TOKEN,
    Call,
    FakeSlack,
    buttons_of,
    dm_channel,
    fake_slack_server,
    key_of,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_EVENT_IDS = itertools.count(1)


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def envelope(
    event: dict[str, Any], event_id: str | None = None, team: str = TEAM
) -> dict[str, Any]:
    """An Events API ``event_callback`` in the shape of the docs' fixtures."""
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "api_app_id": APP,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_EVENT_IDS):010d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": "U0HRBOT", "is_bot": True}],
    }


def dm_event(user: str, text: str, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    event: dict[str, Any] = {
        "type": "message",
        "channel": dm_channel(user),
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
    }
    if files:
        event |= {"subtype": "file_share", "files": files, "upload": False}
    return event


def click_payload(
    user: str, call: Call, button: dict[str, Any], team: str = TEAM
) -> dict[str, Any]:
    """A ``block_actions`` payload (bolt's fixture shape) for a button of a posted message."""
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": team},
        "api_app_id": APP,
        "container": {
            "type": "message",
            "message_ts": call.ts,
            "channel_id": call.params.get("channel"),
            "is_ephemeral": False,
        },
        "trigger_id": "4916855695380.xxx.yyy",
        "team": {"id": team},
        "channel": {"id": call.params.get("channel")},
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [
            {
                "action_id": button["action_id"],
                "block_id": "b",
                "text": button["text"],
                "value": button["value"],
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


@dataclass
class SlackHarness:
    """The app, the fake Slack, the dispatcher; helpers speak as a Slack user would."""

    http: httpx.AsyncClient
    bot: SlackBot
    fake: FakeSlack
    worker: Worker
    ctx: Context

    async def post(
        self, body: bytes, headers: dict[str, Any], settle: bool = True
    ) -> httpx.Response:
        response = await self.http.post("/slack/events", content=body, headers=headers)
        if settle:
            await self.settle()
        return response

    async def send_event(
        self, payload: dict[str, Any], extra: dict[str, str] | None = None, settle: bool = True
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **sign(body), **(extra or {})}
        return await self.post(body, headers, settle)

    async def send_click(self, payload: dict[str, Any], settle: bool = True) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        return await self.post(body, headers, settle)

    async def settle(self) -> None:
        assert await self.bot.drain(timeout=60), "the adapter's work did not finish"

    async def says(
        self, user: str, text: str, files: list[dict[str, Any]] | None = None
    ) -> list[str]:
        """Send a direct message; the keys of what the bot answered in that DM."""
        before = len(self.fake.posts(dm_channel(user)))
        response = await self.send_event(envelope(dm_event(user, text, files)))
        assert response.status_code == 200, response.text
        return [key_of(c) for c in self.fake.posts(dm_channel(user))[before:]]

    async def clicks(
        self, user: str, action: str, index: int = 0, on: Call | None = None
    ) -> list[str]:
        """Click the ``index``-th ``action`` button of the latest message that has one (or of
        ``on``); the keys of the answers, ephemeral ones included."""
        card = on or self.latest_with(user, action)
        button = [b for b in buttons_of(card) if b["action_id"].split("~")[0] == action][index]
        return await self.click_button(user, card, button)

    async def click_button(self, user: str, card: Call, button: dict[str, Any]) -> list[str]:
        calls = (self.fake.posts(card.params["channel"]), self.ephemerals(user))
        response = await self.send_click(click_payload(user, card, button))
        assert response.status_code == 200, response.text
        answered = self.fake.posts(card.params["channel"])[len(calls[0]) :]
        return [key_of(c) for c in answered + self.ephemerals(user)[len(calls[1]) :]]

    def ephemerals(self, user: str) -> list[Call]:
        return [c for c in self.fake.posts(method="chat.postEphemeral") if c.params["user"] == user]

    def latest_with(self, user: str, action: str) -> Call:
        for call in reversed(self.fake.posts(dm_channel(user))):
            if any(b["action_id"].split("~")[0] == action for b in buttons_of(call)):
                return call
        raise AssertionError(f"no {action} button in {user}'s direct messages")

    def latest(self, user: str, key: str) -> Call:
        for call in reversed(self.fake.posts(dm_channel(user))):
            if key_of(call) == key:
                return call
        raise AssertionError(f"no {key} in {user}'s direct messages")

    async def tick(self) -> None:
        """One round of the worker (escalations, outbox) in a thread, as ``hrbot serve`` runs it."""
        await asyncio.to_thread(self.worker.tick)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with fake_slack_server() as fake:
        yield fake


@pytest.fixture
def slack_settings(fake_slack: FakeSlack) -> Settings:
    return Settings(
        slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=fake_slack.url
    )


@pytest.fixture
async def slack(
    ctx: Context, db: Database, fake_slack: FakeSlack, slack_settings: Settings
) -> AsyncIterator[SlackHarness]:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    consent_all(ctx)  # consent itself: tests/integration/test_consent*.py
    services = Services(slack_settings, db, ctx)
    app = FastAPI()
    bot = mount_slack(app, services, Conversation(ctx, slack_settings.default_locale))
    router = ChannelRouter(chats={Platform.SLACK: slack_channel(slack_settings)})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hrbot.test") as http:
        yield SlackHarness(http, bot, fake_slack, Worker(services, router), ctx)
        await bot.close()
