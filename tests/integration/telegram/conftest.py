"""Telegram tests: a fake Bot API on 127.0.0.1, the adapter mounted on a bare FastAPI app, the
demo organisation, and a guard that fails any connection leaving the loopback interface."""

from __future__ import annotations

import ipaddress
import itertools
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters.telegram.api import BotApi
from adapters.telegram.channel import TelegramChannel
from adapters.telegram.config import SECRET_HEADER
from adapters.telegram.runtime import TelegramRuntime
from bot.bootstrap import Services
from bot.conversation import Conversation
from bot.demo.org import load_demo_org
from bot.platforms.telegram import mount_telegram, telegram_config
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import Address, ButtonClick, IncomingMessage, OutgoingMessage, Platform
from core.persistence.uow import Database
from core.services.context import Context
from tests.factories import consent_all
from tests.integration.telegram.fake_bot_api import TOKEN, FakeBotApi, fake_bot_api

SECRET = "s3cret-Token_for-tests"
ZHANG, EMILY, WANGFANG, SUNLI = 1001001, 1001003, 2002001, 5005001
STRANGER = 7777777


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to an address other than 127.0.0.1/::1 fails the test at once."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address: Any) -> None:
        if isinstance(address, tuple):
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise AssertionError(
                    f"a test tried to reach {address!r}: only 127.0.0.1 is allowed"
                )

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with fake_bot_api() as api:
        yield api


def settings_for(fake: FakeBotApi, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_webhook_secret": SECRET,
        "telegram_api_url": fake.api_url,
        "secret_key": "tests-secret-key",
        "smtp_url": None,
        "sms_webhook_url": None,
        "slack_bot_token": None,
    } | overrides
    return Settings(_env_file=None, **values)


class RecordingConversation(Conversation):
    """The real conversation, remembering its last replies to each user (to assert on keys)."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.replies: dict[str, list[OutgoingMessage]] = {}

    def on_message(
        self, message: IncomingMessage, employee_id: int | None = None
    ) -> list[OutgoingMessage]:
        replies = super().on_message(message, employee_id)
        self.replies[message.sender.target] = replies
        return replies

    def on_click(self, click: ButtonClick, employee_id: int | None = None) -> list[OutgoingMessage]:
        replies = super().on_click(click, employee_id)
        self.replies[click.sender.target] = replies
        return replies


class SpyChannel(TelegramChannel):
    """The real Telegram channel, keeping what it pushed (keys and buttons with their actions)."""

    def __init__(self, api: BotApi) -> None:
        super().__init__(api)
        self.pushed: list[tuple[Address, OutgoingMessage]] = []

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        self.pushed.append((address, message))
        return super().send(address, message)

    def update(self, address: Address, message_id: str, message: OutgoingMessage) -> str | None:
        self.pushed.append((address, message))
        return super().update(address, message_id, message)

    def to(self, user: int, key: str) -> OutgoingMessage:
        found = [m for a, m in self.pushed if a.target == str(user) and m.key == key]
        assert found, f"no {key} pushed to {user}: {[(a.target, m.key) for a, m in self.pushed]}"
        return found[-1]


@dataclass
class Harness:
    fake: FakeBotApi
    app: FastAPI
    runtime: TelegramRuntime
    client: httpx.AsyncClient
    conversation: RecordingConversation
    channel: SpyChannel
    worker: Worker
    ctx: Context
    update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(50_000))
    presses: int = 0
    """Callback queries sent: each must be answered exactly once."""

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.client.post("/telegram/webhook", json=update, headers=headers)

    async def deliver(self, update: dict[str, Any]) -> None:
        """Send an update the way the current mode receives it, and wait until it is handled."""
        sender = (update.get("message") or update.get("callback_query") or {}).get("from", {})
        self.conversation.replies.pop(str(sender.get("id")), None)  # keys are this turn's only
        if self.runtime.config.mode == "polling":
            self.fake.push_update(update)
            poller = self.runtime.poller  # its offset passes the id once the inbox has it
            await wait_until(lambda: (poller.offset or 0) > update["update_id"])
        else:
            response = await self.post(update)
            assert response.status_code == 200, response.text
        await self.runtime.join()

    def user(self, user_id: int, language: str = "zh-hans") -> TelegramUser:
        return TelegramUser(self, user_id, language)


async def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    import asyncio

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.01)


@dataclass
class TelegramUser:
    """One person's Telegram client: sends updates, presses buttons, reads what came back."""

    h: Harness
    user_id: int
    language: str

    def _from(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": "u",
            "language_code": self.language,
        }

    def message_update(self, **content: Any) -> dict[str, Any]:
        return {
            "update_id": next(self.h.update_ids),
            "message": {
                "message_id": next(self.h.update_ids),
                "date": int(time.time()),
                "chat": {"id": self.user_id, "type": "private", "first_name": "u"},
                "from": self._from(),
                **content,
            },
        }

    def click_update(self, token: str, message_id: int = 1) -> dict[str, Any]:
        return {
            "update_id": next(self.h.update_ids),
            "callback_query": {
                "id": f"cq{next(self.h.update_ids)}",
                "from": self._from(),
                "chat_instance": "-42",
                "data": token,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": self.user_id, "type": "private", "first_name": "u"},
                    "text": "card",
                },
            },
        }

    async def says(self, text: str) -> list[str]:
        await self.h.deliver(self.message_update(text=text))
        return self.keys

    async def sends_document(
        self, file_id: str, name: str, content: bytes, **extra: Any
    ) -> list[str]:
        self.h.fake.add_file(file_id, content)
        document = {"file_id": file_id, "file_unique_id": file_id[-6:], "file_name": name}
        document |= {"file_size": len(content)} | extra
        await self.h.deliver(self.message_update(document=document))
        return self.keys

    async def sends_photo(self, unique: str, content: bytes) -> list[str]:
        """A photo in three sizes; only the largest holds ``content`` (the others are junk)."""
        sizes = []
        for label, side in (("s", 90), ("m", 320), ("l", 1280)):
            file_id = f"PHOTO-{unique}-{label}"
            self.h.fake.add_file(file_id, content if label == "l" else b"small")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": f"{unique}{label}",
                    "width": side,
                    "height": side * 3 // 4,
                    "file_size": len(content) if label == "l" else 5,
                }
            )
        await self.h.deliver(self.message_update(photo=sizes))
        return self.keys

    async def presses(self, token: str) -> list[str]:
        self.h.presses += 1
        await self.h.deliver(self.click_update(token))
        return self.keys

    async def clicks(
        self, action: str, index: int = 0, among: list[OutgoingMessage] | None = None
    ) -> list[str]:
        """Press the ``index``-th ``action`` button of ``among`` (default: the last replies),
        after checking Telegram really showed it with that token as ``callback_data``."""
        messages = among if among is not None else self.last
        buttons = [b for m in messages for b in m.buttons if b.action == action]
        assert buttons, f"no {action} button in {[m.key for m in messages]}"
        token = buttons[index].token
        shown = [t for c in self.h.fake.calls if c.chat_id == str(self.user_id) for t in c.tokens]
        assert token in shown, f"{action} was never shown on Telegram"
        return await self.presses(token)

    @property
    def last(self) -> list[OutgoingMessage]:
        return self.h.conversation.replies.get(str(self.user_id), [])

    @property
    def keys(self) -> list[str]:
        return [m.key or "" for m in self.last]

    def texts(self) -> list[str]:
        return [str(c.get("text")) for c in self.h.fake.calls_to("sendMessage", self.user_id)]


@pytest.fixture
def demo_org(ctx: Context) -> Context:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    consent_all(ctx)  # consent itself: tests/integration/test_consent*.py
    return ctx


async def start_harness(fake: FakeBotApi, ctx: Context, db: Database, **overrides: Any) -> Harness:
    settings = settings_for(fake, **overrides)
    services = Services(settings, db, ctx)
    conversation = RecordingConversation(ctx)
    app = FastAPI()
    runtime = mount_telegram(app, services, conversation)
    await runtime.start()
    channel = SpyChannel(BotApi(telegram_config(settings)))
    worker = Worker(services, ChannelRouter(chats={Platform.TELEGRAM: channel}))
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    return Harness(fake, app, runtime, client, conversation, channel, worker, ctx)


async def stop_harness(h: Harness) -> None:
    await h.client.aclose()
    await h.runtime.stop()
    h.channel.close()


@pytest.fixture
async def tg(fake: FakeBotApi, demo_org: Context, db: Database) -> AsyncIterator[Harness]:
    h = await start_harness(fake, demo_org, db)
    try:
        yield h
    finally:
        await stop_harness(h)
