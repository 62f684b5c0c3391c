"""The composition root: builds the database, the core context and the channels from settings.

Nothing here runs at import time; the CLI, the web app and the worker each call ``build``.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.documents import FilesystemDocumentStore
from adapters.email import SmtpChannel, SmtpConfig
from adapters.sms import SmsChannel
from adapters.web.channel import WebChannel
from bot.platforms.slack import slack_channel, slack_enabled
from bot.platforms.telegram import telegram_channel, telegram_enabled
from bot.routing import ChannelRouter
from bot.settings import Settings
from core.chat import Platform
from core.domain.escalation import default_policy
from core.domain.notifications import ChannelKind
from core.persistence.engine import make_engine
from core.persistence.uow import Database
from core.ports import Clock, SystemClock
from core.services.context import Context, Rules


def rules_from(settings: Settings) -> Rules:
    channels = {ChannelKind.CHAT}
    if settings.smtp_url:
        channels.add(ChannelKind.EMAIL)
    if settings.sms_webhook_url:
        channels.add(ChannelKind.SMS)
    return Rules(
        timezone=settings.zone,
        claim_check_months=settings.claim_check_months,
        self_service_months=settings.self_service_months,
        lapse_after=settings.lapse_after_months,
        policy=default_policy(
            0, settings.escalation_manager_hours, settings.escalation_director_hours
        ),
        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
        max_image_pixels=settings.max_image_pixels,
        channels=frozenset(channels),
    )


def build_router(settings: Settings, ctx: Context | None = None) -> ChannelRouter:
    """E-mail and SMS when configured; chat platforms register themselves as they arrive."""
    router = ChannelRouter()
    if settings.smtp_url:
        router.email = SmtpChannel(SmtpConfig.from_url(settings.smtp_url, settings.smtp_from))
    if settings.sms_webhook_url:
        router.sms = SmsChannel(settings.sms_webhook_url)
    if slack_enabled(settings):  # first of the chat platforms: the preferred one (routing.py)
        router.chats[Platform.SLACK] = slack_channel(settings)
    if telegram_enabled(settings):
        router.chats[Platform.TELEGRAM] = telegram_channel(settings)
    if ctx is not None and settings.demo_mode:
        # Last, so people linked on Slack/Telegram are still reached there. Demo mode only: the
        # web chat reaches everyone, and with nobody able to log in it would swallow the notices
        # that should fall back to e-mail and SMS.
        router.chats[Platform.WEB] = WebChannel(ctx)
    return router


@dataclass
class Services:
    settings: Settings
    db: Database
    ctx: Context

    def close(self) -> None:
        self.db.dispose()


def build(settings: Settings | None = None, clock: Clock | None = None) -> Services:
    settings = settings or Settings()
    db = Database(make_engine(settings.database_url))
    store = FilesystemDocumentStore(settings.documents_dir)
    ctx = Context(
        uow=db.uow, clock=clock or SystemClock(), documents=store, rules=rules_from(settings)
    )
    return Services(settings, db, ctx)
