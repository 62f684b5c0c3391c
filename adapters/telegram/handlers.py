"""Thin listeners: translate the update, hand it to the conversation, reply, answer the press.

One chat's updates run one at a time and in order (a per-chat lock), while different chats run
concurrently. Every callback query is answered while its update is handled, refusals as a short
alert in the presser's language; an error in one update is reported as a dead letter and never
holds up the chat's next updates.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial

from telegram import Bot, CallbackQuery, InputFile, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from adapters.telegram.batching import InboxGate
from adapters.telegram.files import fetch
from adapters.telegram.ports import Oversized, TelegramPorts
from adapters.telegram.translate import MAX_CAPTION, click_of, message_of, to_telegram
from core.chat import Address, IncomingMessage, OutgoingMessage, Platform

log = logging.getLogger("hrbot.telegram")
PLATFORM = Platform.TELEGRAM

REFUSAL_KEYS = frozenset(
    {"chat.not_allowed", "chat.button_expired", "chat.already_decided", "chat.invalid"}
)
"""Replies to a press that say "no": shown as an alert on the button, not as a new message."""
MAX_ALERT = 200
MAX_RETRY_WAIT = 30.0
NETWORK_RETRY_WAIT = 1.0
"""One short pause before the second try of a reply after a network error."""


class ChatLocks:
    """One lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(chat_id, (asyncio.Lock(), 0))
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users == 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)


class UpdateHandlers:
    def __init__(self, ports: TelegramPorts, download_limit: int, inbox: InboxGate) -> None:
        self.ports = ports
        self.download_limit = download_limit
        self.inbox = inbox
        self.public_url: str | None = None
        self.locks = ChatLocks()

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        incoming = message_of(message) if message else None
        if message is None or incoming is None:
            return
        async with self.locks.hold(message.chat.id):
            replies = await self._converse(context.bot, incoming)
            await send_replies(context.bot, message.chat.id, replies, self._unsent(incoming.sender))
        await self._processed(update)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        chat_id = query.message.chat.id if query.message else query.from_user.id
        async with self.locks.hold(chat_id):
            try:
                replies = await self._press(query)
            except BaseException:
                await _answer(query)  # the press failed: still stop the button's spinner
                raise
            alert, replies = split_refusal(replies)
            await _answer(query, alert)
            person = Address(Platform.TELEGRAM, str(query.from_user.id))
            await send_replies(context.bot, chat_id, replies, self._unsent(person))
        await self._processed(update)

    async def _press(self, query: CallbackQuery) -> list[OutgoingMessage]:
        """The conversation's replies to a press, or none when this press was seen already."""
        click = click_of(query)
        if click.token and not await self.inbox.first(press_key(query)):
            return []
        return await self.ports.on_click(click)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        error = context.error or RuntimeError("unknown error")
        try:
            await self.ports.on_failure(update_id, error)
        finally:
            if isinstance(update, Update):
                await self._apologise(context.bot, update)

    async def _apologise(self, bot: Bot, update: Update) -> None:
        """Tell the person their message may not have gone through: without a word they would
        wait for an answer that never comes. Nothing here may raise (the turn failed already)."""
        user, chat = update.effective_user, update.effective_chat
        if self.ports.apology is None or user is None or chat is None:
            return
        try:
            replies = await self.ports.apology(str(user.id), user.language_code)
            await send_replies(bot, chat.id, replies, self._unsent(Address(PLATFORM, str(user.id))))
        except Exception as error:
            log.warning("apology to telegram user %s not sent: %s", user.id, type(error).__name__)

    async def _converse(self, bot: Bot, incoming: IncomingMessage) -> list[OutgoingMessage]:
        if not incoming.attachments:
            return await self.ports.on_message(incoming)
        attachment = incoming.attachments[0]  # Telegram sends one file per message
        try:
            fetched = await fetch(bot, attachment, self.download_limit)
        except BadRequest as error:  # "wrong file_id or the file is temporarily unavailable"
            if self.ports.unavailable is None:
                raise
            log.warning("telegram file %s not fetched: %s", attachment.ref, error)
            return await self.ports.unavailable(incoming, attachment)
        if fetched is None:
            refused = Oversized(incoming, attachment, self.download_limit, self.public_url)
            return await self.ports.oversized(refused)
        return await self.ports.on_message(replace(incoming, attachments=(fetched,)))

    def _unsent(self, person: Address) -> Unsent | None:
        hand_over = self.ports.unsent
        if hand_over is None:
            return None

        async def unsent(replies: list[OutgoingMessage]) -> None:
            await hand_over(person.target, replies)

        return unsent

    async def _processed(self, update: Update) -> None:
        await self.inbox.done(str(update.update_id))


def press_key(query: CallbackQuery) -> str:
    """One press of one button by one person: a double tap, or a client resending the press as
    new callback queries (new ids), acts once; pressing the same button again later is a no-op
    too, since its card says what happened. Another person's press is their own."""
    message = query.message
    where = f"{message.chat.id}:{message.message_id}" if message else query.inline_message_id
    digest = hashlib.sha256((query.data or "").encode()).hexdigest()[:24]
    return f"press:{query.from_user.id}:{where}:{digest}"


def split_refusal(
    replies: Sequence[OutgoingMessage],
) -> tuple[str | None, list[OutgoingMessage]]:
    """A lone refusal becomes the press's alert text; anything else is sent as messages."""
    if len(replies) == 1 and replies[0].key in REFUSAL_KEYS and not replies[0].buttons:
        return replies[0].text[:MAX_ALERT], []
    return None, list(replies)


Unsent = Callable[[list[OutgoingMessage]], Awaitable[None]]
"""Where replies Telegram would not take go (the outbox, through the bot's port)."""


async def send_replies(
    bot: Bot, chat_id: int, replies: Sequence[OutgoingMessage], unsent: Unsent | None = None
) -> None:
    """Send the replies in order. One that fails after a quick retry (network, 5xx, a long
    flood wait) goes to ``unsent`` with everything after it, so the answers keep their order:
    the update was acknowledged, and Telegram will not send it again."""
    for index, reply in enumerate(replies):
        try:
            await _send_one(bot, chat_id, reply)
        except TelegramError as error:  # Forbidden never gets here (_patiently lets it go)
            log.warning("telegram reply %s failed: %s", reply.key, type(error).__name__)
            if unsent is None:
                log.warning("%d telegram replies lost (no outbox)", len(replies) - index)
                raise
            await unsent(list(replies[index:]))
            return


async def _send_one(bot: Bot, chat_id: int, reply: OutgoingMessage) -> None:
    if reply.files and not reply.buttons and len(reply.text) <= MAX_CAPTION:
        for file in reply.files:  # the text is the file's caption: one message, not two
            document = InputFile(file.content, filename=file.filename)
            await _patiently(partial(bot.send_document, chat_id, document, caption=reply.text))
        return
    for part in to_telegram(reply):
        await _patiently(partial(bot.send_message, chat_id, part.text, reply_markup=part.markup))
    for file in reply.files:
        document = InputFile(file.content, filename=file.filename)
        await _patiently(partial(bot.send_document, chat_id, document))


async def _answer(query: CallbackQuery, alert: str | None = None) -> None:
    """Answer a press exactly once; a query Telegram calls too old is not worth failing over."""
    try:
        await query.answer(alert, show_alert=alert is not None)
    except TelegramError as error:
        log.info("callback query not answered: %s", error)


async def _patiently(send: Callable[[], Awaitable[object]]) -> None:
    """Send once more after a 429 (within reason) or a network error (a reset, a timeout, a
    5xx: PTB reports them all as ``NetworkError``); a user who blocked the bot is let go."""
    try:
        try:
            await send()
        except RetryAfter as flood:
            seconds = _seconds(flood.retry_after)
            if seconds > MAX_RETRY_WAIT:
                raise
            await asyncio.sleep(seconds)
            await send()
        except NetworkError:
            await asyncio.sleep(NETWORK_RETRY_WAIT)
            await send()
    except Forbidden as blocked:
        log.info("telegram reply not delivered: %s", blocked)


def _seconds(value: object) -> float:
    # PTB 22 gives a timedelta or an int, depending on its deprecation setting.
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
