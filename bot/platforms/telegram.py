"""Telegram, wired: settings become the adapter's config; the conversation, the inbox and the
dead-letter record are lent to it as async callables over the bridge; the webhook route is
mounted; the outbox gets a channel.

Hook into ``bot/app.py``'s lifespan (after ``build``)::

    telegram = mount_telegram(app, services, conversation) if telegram_enabled(settings) else None
    if telegram is not None:
        await telegram.start()
    ...
    finally:
        if telegram is not None:
            await telegram.stop()   # finishes queued updates, before the services close
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from adapters.telegram.config import WEBHOOK_PATH, TelegramConfig
from adapters.telegram.ports import Oversized, TelegramPorts
from bot import bridge, log_context
from bot.platforms.apology import apology
from bot.settings import Settings
from core.chat import Attachment, ButtonClick, IncomingMessage, OutgoingMessage
from core.services import chats
from core.services.common import audit
from core.services.context import Context
from core.services.replies import queue_unsent

if TYPE_CHECKING:  # python-telegram-bot and Babel load only where Telegram runs (CLI start-up)
    from fastapi import FastAPI

    from adapters.telegram.channel import TelegramChannel
    from adapters.telegram.runtime import TelegramRuntime
    from bot.bootstrap import Services
    from bot.conversation import Conversation

log = logging.getLogger("hrbot.telegram")
PLATFORM = "telegram"
UPLOAD_LINK_SALT = "hrbot.web.chat.upload"
"""The web chat opens ``/chat?upload=TOKEN`` by unsigning TOKEN with this salt (15 minutes)."""


def telegram_enabled(settings: Settings) -> bool:
    """Telegram is on when the bot token is set (CONTRACT.md)."""
    return bool(settings.telegram_bot_token)


def telegram_config(settings: Settings) -> TelegramConfig:
    return TelegramConfig(
        token=settings.telegram_bot_token or "",
        api_url=settings.telegram_api_url,
        webhook_secret=settings.telegram_webhook_secret,
        mode=settings.telegram_mode,
        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
        public_url=getattr(settings, "public_url", None),  # HRBOT_PUBLIC_URL, once it exists
    )


def telegram_channel(settings: Settings) -> TelegramChannel:
    """The outbox's channel for people with a ``telegram_user_id`` (plain httpx, thread-safe)."""
    from adapters.telegram.api import BotApi
    from adapters.telegram.channel import TelegramChannel

    return TelegramChannel(BotApi(telegram_config(settings)))


def mount_telegram(app: FastAPI, services: Services, conversation: Conversation) -> TelegramRuntime:
    """Mount ``POST /telegram/webhook`` and return the runtime to start and stop in the lifespan.

    Raises ``TelegramConfigError`` in webhook mode without a secret: the server does not start.
    """
    from adapters.telegram.runtime import TelegramRuntime

    runtime = TelegramRuntime(
        telegram_config(services.settings), telegram_ports(services, conversation)
    )
    # A lifespan can run again on the same app (tests): the new runtime replaces the old route.
    routes = app.router.routes
    routes[:] = [r for r in routes if getattr(r, "path", None) != WEBHOOK_PATH]
    app.add_route(WEBHOOK_PATH, runtime.endpoint(), methods=["POST"], include_in_schema=False)
    runtime.intake.first_delivery = _noting_duplicates(runtime.intake.first_delivery)
    return runtime


def _noting_duplicates(first: Callable[[str], Awaitable[bool]]) -> Callable[[str], Awaitable[bool]]:
    """The intake's inbox check, telling the webhook request in hand when it is a repeat (its
    metrics count it as a duplicate); awaited in the request's own task, unlike the batch."""

    async def first_delivery(update_id: str) -> bool:
        fresh = await first(update_id)
        if not fresh:
            log_context.mark_duplicate()
        return fresh

    return first_delivery


def telegram_ports(services: Services, conversation: Conversation) -> TelegramPorts:
    ctx = services.ctx

    async def on_message(message: IncomingMessage) -> list[OutgoingMessage]:
        with log_context.acting_as(PLATFORM, message.sender.target):
            return await bridge.call(conversation.on_message, message)

    async def on_click(click: ButtonClick) -> list[OutgoingMessage]:
        with log_context.acting_as(PLATFORM, click.sender.target):
            return await bridge.call(conversation.on_click, click)

    async def record_updates(event_ids: list[str]) -> list[bool]:
        return await bridge.call(first_deliveries, ctx, event_ids)

    async def mark_processed(event_ids: list[str]) -> None:
        await bridge.call(mark_all_processed, ctx, event_ids)

    async def oversized(refused: Oversized) -> list[OutgoingMessage]:
        return await bridge.call(oversized_reply, services, refused)

    async def on_failure(update_id: int | None, error: BaseException) -> None:
        await bridge.call(record_dead_letter, services, update_id, error)

    async def unavailable(message: IncomingMessage, file: Attachment) -> list[OutgoingMessage]:
        return await bridge.call(unavailable_reply, services, message, file)

    async def unsent(user_id: str, replies: list[OutgoingMessage]) -> None:
        await bridge.call(queue_unsent, services.ctx, PLATFORM, user_id, replies)

    async def apologise(user_id: str, language: str | None) -> list[OutgoingMessage]:
        return await bridge.call(apology, services, PLATFORM, user_id, language)

    return TelegramPorts(
        on_message,
        on_click,
        record_updates,
        oversized,
        on_failure,
        mark_processed,
        unavailable,
        unsent,
        apologise,
    )


def unavailable_reply(
    services: Services, message: IncomingMessage, attachment: Attachment
) -> list[OutgoingMessage]:
    """ "Nothing was kept" (``upload.refused``, as Slack says it), in the sender's language, for
    a file Telegram would not hand over; the sender can send it again."""
    from bot.i18n import Translator, normalize_locale

    ctx, settings = services.ctx, services.settings
    session = chats.load_session(ctx, PLATFORM, message.sender.target)
    me = chats.employee(ctx, session.employee_id) if session.employee_id else None
    chosen = session.locale or (str(me.locale) if me and me.locale else None)
    locale = chosen or normalize_locale(message.locale_hint, settings.default_locale)
    t = Translator(locale, settings.zone)
    params: dict[str, object] = {"filename": attachment.filename[:80] or attachment.ref[:80]}
    text = t("upload.refused", **params)
    return [OutgoingMessage(text=text, key="upload.refused", params=params, locale=t.locale)]


def first_deliveries(ctx: Context, event_ids: list[str]) -> list[bool]:
    """``inbox.first_delivery`` for a batch, in one transaction (the adapter group-commits
    concurrent webhook requests): for each id, True only the first time it is seen.

    This record is most of the webhook's cost (benchmarks/bench_telegram.py); one multi-row
    ``INSERT … ON CONFLICT DO NOTHING RETURNING`` in ``InboxRepository`` would cut it further."""
    with ctx.uow() as uow:
        now = ctx.now()
        fresh = [uow.inbox.record(PLATFORM, event_id[:128], now) for event_id in event_ids]
        uow.commit()
        return fresh


def mark_all_processed(ctx: Context, event_ids: list[str]) -> None:
    with ctx.uow() as uow:
        for event_id in event_ids:
            uow.inbox.mark_processed(PLATFORM, event_id[:128])
        uow.commit()


def oversized_reply(services: Services, refused: Oversized) -> list[OutgoingMessage]:
    """ "Too large", in the sender's language, with a short-lived web upload link when the sender
    is a linked employee and this server's public address is known."""
    from adapters.web.signing import Signer
    from bot.i18n import Translator, catalog, normalize_locale

    ctx, settings = services.ctx, services.settings
    session = chats.load_session(ctx, PLATFORM, refused.message.sender.target)
    me = chats.employee(ctx, session.employee_id) if session.employee_id else None
    chosen = session.locale or (str(me.locale) if me and me.locale else None)
    locale = chosen or normalize_locale(refused.message.locale_hint, settings.default_locale)
    t = Translator(locale, settings.zone)
    params = {
        "filename": refused.attachment.filename[:80],
        "limit_mb": refused.limit // (1024 * 1024),
        "size_mb": round((refused.attachment.size or 0) / (1024 * 1024), 1),
    }
    url = None
    if me is not None and refused.public_url:
        token = Signer(settings.resolved_secret_key(), UPLOAD_LINK_SALT).sign(me.employee_no)
        url = f"{refused.public_url.rstrip('/')}/chat?upload={token}"
    if url and "upload.too_large_web" in catalog(t.locale):
        text, key = t("upload.too_large_web", url=url, **params), "upload.too_large_web"
    else:
        text, key = t("upload.too_large", **params), "upload.too_large"
        text = f"{text}\n{url}" if url else text
    return [OutgoingMessage(text=text, key=key, params=params, locale=t.locale)]


def record_dead_letter(services: Services, update_id: int | None, error: BaseException) -> None:
    """A poison update: logged at ERROR (what alerting watches) and kept in the audit log; its
    inbox row stays unprocessed, so it is never retried and never lost from sight."""
    log.error(
        "telegram update %s failed and was set aside (dead letter)",
        update_id,
        exc_info=(type(error), error, error.__traceback__),
    )
    ctx = services.ctx
    with ctx.uow() as uow:
        audit(
            uow,
            ctx.now(),
            "inbox.dead_letter",
            ("telegram_update", 0),  # update ids can exceed the column's 32 bits: kept in detail
            channel=PLATFORM,
            update_id=update_id,
            error=f"{type(error).__name__}: {error}"[:500],
        )
        uow.commit()
