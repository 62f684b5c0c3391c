"""The composition root: builds the database, the core context and the channels from settings.

Nothing here runs at import time; the CLI, the web app and the worker each call ``build``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.documents import FilesystemDocumentStore
from adapters.email import SmtpChannel, SmtpConfig
from adapters.holidays import ChineseWorkdays
from adapters.sms import SmsChannel
from adapters.web.channel import WebChannel
from bot.platforms.slack import slack_channel, slack_enabled
from bot.platforms.telegram import telegram_channel, telegram_enabled
from bot.routing import ChannelRouter
from bot.settings import Settings
from core.chat import Platform
from core.domain.digests import WEEKDAYS
from core.domain.escalation import default_policy
from core.domain.notifications import ChannelKind
from core.domain.retention import Retention
from core.domain.roster import Rates
from core.domain.workclock import Delay, DelayUnit, WeekendCalendar, WorkingHours
from core.persistence.engine import make_engine
from core.persistence.uow import Database
from core.ports import Clock, SystemClock
from core.services.context import Context, Rules
from core.services.settlement import Gateways


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
            0,
            settings.escalation_manager_hours,
            settings.escalation_director_hours,
            DelayUnit(settings.escalation_unit),
            settings.escalation_repeat,
        ),
        approval_remind_every=Delay.parse(settings.approval_remind_every),
        approval_deadline=Delay.parse(settings.approval_deadline),
        working_hours=WorkingHours.parse(settings.working_hours),
        quiet_hours=settings.quiet_hours and not settings.demo_mode,
        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
        max_image_pixels=settings.max_image_pixels,
        channels=frozenset(channels),
        rates=Rates(
            employer=settings.employer_rate,
            employee=settings.employee_rate,
            base_min=settings.base_min,
            base_max=settings.base_max,
        ),
        roster_day=settings.roster_day,
        confirm_above=settings.approval_confirm_above,
        digest_hour=settings.digest_hour,
        weekly_digest_day=WEEKDAYS.index(settings.weekly_digest_day),
        # The sandbox is gateway settlement with pretend gateways: the core cannot tell.
        settlement="manual" if settings.settlement == "manual" else "gateway",
        retention=Retention(
            documents_days=settings.retain_documents_days,
            web_messages_days=settings.retain_web_messages_days,
            leaver_days=settings.retain_leavers_days,
        ),
    )


def build_gateways(settings: Settings, clock: Clock) -> Gateways | None:
    """The bureau and bank gateways settlement runs through; None in manual settlement.

    Raises ``ValueError`` when gateway settlement lacks its URLs or tokens (the CLI checks
    ``Settings.gateway_problem`` first, to refuse to start with one line).
    """
    if settings.settlement == "manual":
        return None
    if settings.settlement == "sandbox":
        from adapters.gateways.sandbox import SandboxGateway

        zone = settings.zone
        sandbox = SandboxGateway(today=lambda: clock.now().astimezone(zone).date())
        return Gateways(bureau=sandbox, bank=sandbox)
    problem = settings.gateway_problem()
    if problem:
        raise ValueError(problem)
    from adapters.gateways.http import HttpPaymentGateway, HttpSocialInsuranceGateway

    timeout, retries = settings.gateway_timeout, settings.gateway_retries
    bureau_url, bureau_token = str(settings.bureau_gateway_url), str(settings.bureau_gateway_token)
    bank_url, bank_token = str(settings.payment_gateway_url), str(settings.payment_gateway_token)
    return Gateways(
        bureau=HttpSocialInsuranceGateway(bureau_url, bureau_token, timeout, retries),
        bank=HttpPaymentGateway(bank_url, bank_token, timeout, retries),
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
    gateways: Gateways | None = None
    """Set when settlement runs through gateways: the worker runs the queued jobs with them."""

    def close(self) -> None:
        if self.gateways is not None:
            for gateway in {id(g): g for g in (self.gateways.bureau, self.gateways.bank)}.values():
                closer: Any = getattr(gateway, "close", None)
                if callable(closer):
                    closer()
        self.db.dispose()


def build(settings: Settings | None = None, clock: Clock | None = None) -> Services:
    settings = settings or Settings()
    clock = clock or SystemClock()
    gateways = build_gateways(settings, clock)
    db = Database(make_engine(settings.database_url, keyring=settings.encryption_keyring()))
    store = FilesystemDocumentStore(settings.documents_dir)
    ctx = Context(
        uow=db.uow,
        clock=clock,
        documents=store,
        rules=rules_from(settings),
        calendar=ChineseWorkdays() if settings.holidays == "cn" else WeekendCalendar(),
    )
    return Services(settings, db, ctx, gateways)
