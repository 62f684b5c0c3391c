"""Slack, wired: settings become the adapter's config; the conversation, the inbox and the audit
are lent to it as async callables over the bridge; ``POST /slack/events`` is mounted; the outbox
gets a channel.

Slack is on when ``HRBOT_SLACK_BOT_TOKEN`` and ``HRBOT_SLACK_SIGNING_SECRET`` are both set; one
without the other is a configuration error (``slack_enabled`` raises), never a Slack app running
without request verification. slack_bolt and slack_sdk are imported only when Slack is on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot import bridge, log_context
from bot.i18n import Translator, normalize_locale
from bot.platforms.apology import apology
from bot.settings import Settings
from core.chat import Attachment, ButtonClick, IncomingMessage, OutgoingMessage
from core.services import chats, inbox, queries
from core.services import replies as replies_service

if TYPE_CHECKING:
    from fastapi import FastAPI

    from adapters.slack.app import SlackBot
    from adapters.slack.channel import SlackChannel
    from adapters.slack.config import SlackConfig, SlackHandlers
    from bot.bootstrap import Services
    from bot.conversation import Conversation

log = logging.getLogger("hrbot.slack")
PLATFORM = "slack"
EVENTS_PATH = "/slack/events"

REFUSALS = frozenset(
    {
        "chat.not_allowed",
        "chat.already_decided",
        "chat.button_expired",
        "chat.invalid",
        "chat.link_needed",
    }
)
"""Answers to a click that refuse it: only the clicker sees them (ephemeral), in their language,
and each is audited (a forged, replayed or stale click is worth knowing about)."""
_AUDITED_BY_CONVERSATION = frozenset({"chat.not_allowed"})


def slack_enabled(settings: Settings) -> bool:
    """True when both Slack settings are set; ``ValueError`` naming the missing one when only
    one is (``hrbot serve`` refuses to start then)."""
    token, secret = bool(settings.slack_bot_token), bool(settings.slack_signing_secret)
    if token != secret:
        missing = "HRBOT_SLACK_SIGNING_SECRET" if token else "HRBOT_SLACK_BOT_TOKEN"
        present = "HRBOT_SLACK_BOT_TOKEN" if token else "HRBOT_SLACK_SIGNING_SECRET"
        raise ValueError(
            f"Slack is half configured: {present} is set but {missing} is not; "
            "set both to turn Slack on, or neither to leave it off"
        )
    return token


def slack_config(settings: Settings) -> SlackConfig:
    from adapters.slack.config import SlackConfig

    return SlackConfig(
        bot_token=settings.slack_bot_token or "",
        signing_secret=settings.slack_signing_secret or "",
        api_url=settings.slack_api_url,
        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
    )


def slack_channel(settings: Settings) -> SlackChannel:
    """The outbox's channel for people with a ``slack_user_id`` (sync WebClient, thread-safe)."""
    from adapters.slack.channel import SlackChannel

    return SlackChannel(slack_config(settings))


def mount_slack(app: FastAPI, services: Services, conversation: Conversation) -> SlackBot:
    """Build the bolt app and serve it at ``POST /slack/events`` (events and interactivity).

    Call it in the lifespan, after ``build``: the route is added once and finds the bot in
    ``app.state.slack``, so a second start replaces the bot instead of stacking routes. Close
    the returned ``SlackBot`` before the services (it finishes answering acknowledged events).
    """
    from adapters.slack.app import build_slack_app

    bot = build_slack_app(slack_config(services.settings), slack_handlers(services, conversation))
    app.state.slack = bot
    if not any(getattr(route, "path", None) == EVENTS_PATH for route in app.router.routes):
        app.add_route(EVENTS_PATH, _slack_events, methods=["POST"], include_in_schema=False)
    return bot


async def _slack_events(request: Request) -> Response:
    bot: SlackBot | None = getattr(request.app.state, "slack", None)
    if bot is None:  # the app is stopping, or never started Slack
        return Response(status_code=503)
    return await bot.handle(request)


def slack_handlers(services: Services, conversation: Conversation) -> SlackHandlers:
    """The adapter's view of the bot: each call crosses to the synchronous core on the bridge."""
    from adapters.slack.config import SlackHandlers

    ctx = services.ctx

    async def on_message(message: IncomingMessage) -> list[OutgoingMessage]:
        with log_context.acting_as(PLATFORM, message.sender.target):
            return await bridge.call(conversation.on_message, message)

    async def on_click(click: ButtonClick) -> list[OutgoingMessage]:
        with log_context.acting_as(PLATFORM, click.sender.target):
            replies = await bridge.call(conversation.on_click, click)
        refused = [m.key for m in replies if m.key in REFUSALS - _AUDITED_BY_CONVERSATION]
        if refused:  # a replayed or stale click changed nothing, and is on record all the same
            await refused_click(click.sender.target, click.action, str(refused[0]))
        return replies

    async def first_delivery(event_id: str) -> bool:
        fresh = await bridge.call(inbox.first_delivery, ctx, PLATFORM, event_id)
        if not fresh:  # counted as a duplicate by the request's metrics (bot/observability.py)
            log_context.mark_duplicate()
        return fresh

    async def refused_click(user_id: str, action: str, reason: str) -> None:
        await bridge.call(record_refusal, services, user_id, action, reason)

    async def file_refused(
        message: IncomingMessage, attachment: Attachment, problem: str
    ) -> list[OutgoingMessage]:
        return await bridge.call(file_refusal_reply, services, message, attachment, problem)

    async def unsent(user_id: str, replies: Sequence[OutgoingMessage]) -> None:
        await bridge.call(replies_service.queue_unsent, ctx, PLATFORM, user_id, replies)

    async def apologise(user_id: str) -> list[OutgoingMessage]:
        return await bridge.call(apology, services, PLATFORM, user_id)

    return SlackHandlers(
        on_message,
        on_click,
        first_delivery,
        refused_click,
        file_refused,
        REFUSALS,
        unsent,
        apologise,
    )


def record_refusal(services: Services, user_id: str, action: str, reason: str) -> None:
    """Audit a refused click as ``action.refused``, by the employee behind the Slack id if any."""
    with services.ctx.uow() as uow:
        person = uow.directory.employee_by_chat(PLATFORM, user_id)
    log.info("slack click %s by %s refused: %s", action, user_id, reason)
    queries.record_refusal(
        services.ctx, person.id if person else None, action, f"{reason} (slack user {user_id})"
    )


def file_refusal_reply(
    services: Services, message: IncomingMessage, attachment: Attachment, problem: str
) -> list[OutgoingMessage]:
    """ "Too large" (or "failed the checks"), in the sender's language; nothing was kept."""
    ctx, settings = services.ctx, services.settings
    session = chats.load_session(ctx, PLATFORM, message.sender.target)
    me = chats.employee(ctx, session.employee_id) if session.employee_id else None
    chosen = session.locale or (str(me.locale) if me and me.locale else None)
    t = Translator(normalize_locale(chosen, settings.default_locale), settings.zone)
    key = "upload.too_large" if problem == "too_large" else "upload.refused"
    params: dict[str, object] = {"filename": attachment.filename[:80] or attachment.ref}
    return [OutgoingMessage(text=t(key, **params), key=key, params=params, locale=t.locale)]
