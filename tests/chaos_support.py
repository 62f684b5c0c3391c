"""The world of the outbound chaos run (tests/integration/test_chaos.py): the fake servers, each
behind a fault injector, the channels and gateways the worker uses on them (timeouts scaled with
the run's time), the organisation, the claims and batches to settle, the worker's rounds, and
the web app that Slack and Telegram post to meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from slack_sdk import WebClient
from sqlalchemy import func, select

from adapters.email import SmtpChannel, SmtpConfig
from adapters.gateways.http import HttpPaymentGateway, HttpSocialInsuranceGateway
from adapters.slack.channel import SlackChannel
from adapters.sms import SmsChannel
from adapters.telegram.api import BotApi
from adapters.telegram.channel import TelegramChannel
from bot.bootstrap import Services
from bot.conversation import Conversation
from bot.platforms.slack import mount_slack, slack_config
from bot.platforms.telegram import mount_telegram, telegram_config
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import Platform
from core.domain.claims import ClaimState
from core.domain.periods import Period
from core.domain.settlement import JobState
from core.persistence import tables as t
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services.batches import approve_batch
from core.services.claims import approve_claim, submit_claim
from core.services.context import Context
from core.services.review import verify_batch
from core.services.roster import build_roster
from core.services.settlement import Gateways
from tests.factories import Org, add_employee, add_records, make_org, open_complete_claim
from tests.fakes import http_server, json_reply, smtp_server
from tests.fakes_gateway import FakeGateway, gateway_server
from tests.fakes_slack import TOKEN as SLACK_TOKEN
from tests.fakes_slack import fake_slack_server
from tests.fault_support import FaultPlan, HttpFaultProxy, TcpProxy, http_fault_proxy
from tests.fleet_chat import TELEGRAM_HEADER, slack_message, telegram_message
from tests.integration.slack.conftest import SECRET as SLACK_SECRET
from tests.integration.telegram.conftest import SECRET as TELEGRAM_SECRET
from tests.integration.telegram.conftest import settings_for
from tests.integration.telegram.fake_bot_api import FakeBotApi, fake_bot_api

SCALE = 0.05
"""Time scale of the run: 5 s of latency become 0.25 s, a 15 s client timeout 0.75 s."""
GATEWAY_RETRIES = 1
"""``HRBOT_GATEWAY_RETRIES`` for the run."""
GATEWAY_TOKEN = "chaos-gateway-token"
NOV = Period(2026, 11)
ROUND = timedelta(minutes=5)


@dataclass(frozen=True)
class Size:
    branches: int
    claims_per_branch: int
    webhooks: int
    rounds: int
    """Worker rounds (5 minutes of the test clock each) the run may take at most."""
    attempts: int
    """``delivery_attempts``: few, so that notices can run out of them (dead letters)."""


# The outside world, each behind its fault injector ---------------------------------------------


@dataclass
class Outside:
    plan: FaultPlan
    gateway: FakeGateway
    worker: dict[str, HttpFaultProxy]
    """Proxies the worker's channels and gateways use: slack, telegram, sms, gateway."""
    app: dict[str, HttpFaultProxy]
    """Proxies the web app's replies use: slack, telegram."""
    smtp: TcpProxy


@contextmanager
def outside(plan: FaultPlan) -> Iterator[Outside]:
    with ExitStack() as stack:
        slack = stack.enter_context(fake_slack_server())
        telegram = stack.enter_context(fake_bot_api())
        _, smtp_port = stack.enter_context(smtp_server())
        sms = stack.enter_context(http_server([json_reply(200, {"id": "sms-1"})]))
        gateway = stack.enter_context(gateway_server(GATEWAY_TOKEN))

        def proxy(url: str, flavour: str = "json") -> HttpFaultProxy:
            return stack.enter_context(http_fault_proxy(url, plan, flavour))

        worker = {
            "slack": proxy(slack.root, "slack"),
            "telegram": proxy(telegram.base, "telegram"),
            "sms": proxy(sms.url),
            "gateway": proxy(gateway.url),
        }
        app = {"slack": proxy(slack.root, "slack"), "telegram": proxy(telegram.base, "telegram")}
        smtp = stack.enter_context(TcpProxy(("127.0.0.1", smtp_port), plan))
        yield Outside(plan, gateway, worker, app, smtp)


def chat_settings(slack: HttpFaultProxy, telegram: HttpFaultProxy) -> Settings:
    return settings_for(
        FakeBotApi(),
        telegram_api_url=telegram.url("/bot"),
        slack_bot_token=SLACK_TOKEN,
        slack_signing_secret=SLACK_SECRET,
        slack_api_url=slack.url("/api/"),
        gateway_retries=GATEWAY_RETRIES,
    )


def worker_router(out: Outside) -> ChannelRouter:
    """The outbox's channels, as ``build_router`` makes them, on the proxies, timeouts scaled."""
    settings = chat_settings(out.worker["slack"], out.worker["telegram"])
    slack_client = WebClient(
        token=SLACK_TOKEN,
        base_url=out.worker["slack"].url("/api/"),
        timeout=15 * SCALE,  # type: ignore[arg-type]  # urllib takes a float
    )
    smtp = SmtpConfig.from_url(f"smtp://127.0.0.1:{out.smtp.port}")
    return ChannelRouter(
        chats={
            Platform.SLACK: SlackChannel(slack_config(settings), client=slack_client),
            Platform.TELEGRAM: TelegramChannel(
                BotApi(telegram_config(settings), timeout=15 * SCALE)
            ),
        },
        email=SmtpChannel(replace(smtp, timeout=20 * SCALE)),
        sms=SmsChannel(out.worker["sms"].url("/sms"), timeout=10 * SCALE),
    )


def worker_gateways(out: Outside, waits: list[float]) -> Gateways:
    def sleep(seconds: float) -> None:  # backoff and Retry-After, on the run's time scale
        waits.append(seconds)
        time.sleep(seconds * SCALE)

    options: dict[str, Any] = {
        "timeout": 10 * SCALE,
        "retries": GATEWAY_RETRIES,
        "backoff": 0.5,
        "sleep": sleep,
    }
    url = out.worker["gateway"].url()
    return Gateways(
        HttpSocialInsuranceGateway(url, GATEWAY_TOKEN, **options),
        HttpPaymentGateway(url, GATEWAY_TOKEN, **options),
    )


# The organisation and the work ----------------------------------------------------------------


@dataclass
class People:
    orgs: list[Org]
    slack_users: list[str]
    telegram_users: list[int]


def organisation(ctx: Context, size: Size) -> People:
    """``size.branches`` branches; every other employee and finance on Slack, HR and managers on
    Telegram, the rest (directors too) by e-mail only; everyone has a mobile number for SMS."""
    people = People([], [], [])
    for number in range(size.branches):
        org = make_org(ctx, code=f"C{number:02d}")
        for index in range(size.claims_per_branch - 1):
            name = f"C{number:02d}-E{index + 2:03d}"
            org.others[name] = add_employee(ctx, org.branch, name, "孙八")
        with ctx.uow() as uow:
            staff_members = (org.hr, org.finance, org.hr_manager, org.hr_director)
            for person in (org.employee, *org.others.values(), *staff_members):
                assert person is not None
                stored = uow.directory.employee(person.id)
                stored.phone = f"138{stored.id:08d}"
            for index, person in enumerate((org.employee, *org.others.values())):
                if index % 2:
                    continue  # on no chat platform: told by e-mail (and SMS)
                stored = uow.directory.employee(person.id)
                stored.slack_user_id = f"U0{stored.employee_no.replace('-', '')}"
                people.slack_users.append(stored.slack_user_id)
            uow.directory.employee(org.finance.id).slack_user_id = f"U0FIN{number:02d}"
            for offset, staff in enumerate((org.hr, org.hr_manager)):
                assert staff is not None
                telegram_id = 70_000_000 + 100 * number + offset
                uow.directory.employee(staff.id).telegram_user_id = str(telegram_id)
                people.telegram_users.append(telegram_id)
            uow.commit()
        people.orgs.append(org)
    return people


def approve_everything(ctx: Context, people: People) -> tuple[list[int], list[int]]:
    """A claim approved for each employee, and each branch's November batch approved: the
    worker has their payouts, filings and payments to make. Returns (batch ids, claim ids)."""
    claims = []
    for org in people.orgs:
        for employee in (org.employee, *org.others.values()):
            add_records(ctx, employee, ["2026-08", "2026-09", "2026-10"])
            claim_id = open_complete_claim(ctx, employee)
            assert submit_claim(ctx, claim_id, employee.id).state is ClaimState.UNDER_REVIEW
            approve_claim(ctx, claim_id, org.finance.id, Decimal("3200.50"), channel="slack")
            claims.append(claim_id)
    by_branch = {org.branch.id: org for org in people.orgs}
    batches = []
    for built in build_roster(ctx, NOV):
        assert built.batch_id is not None
        with ctx.uow() as uow:
            org = by_branch[uow.batches.get(built.batch_id).branch_id]
        verify_batch(ctx, built.batch_id, org.hr.id, channel="telegram")
        approve_batch(ctx, built.batch_id, org.finance.id, channel="slack")
        batches.append(built.batch_id)
    return batches, claims


def work_until_done(worker: Worker, ctx: Context, clock: ManualClock, size: Size) -> int:
    """Worker rounds, five minutes of the test clock apart, until nothing is pending."""
    for round_number in range(1, size.rounds + 1):
        worker.tick()
        if pending(ctx) == 0:
            return round_number
        clock.advance(ROUND)
    pytest.fail(f"still {pending(ctx)} jobs and notices pending after {size.rounds} rounds")


def pending(ctx: Context) -> int:
    with ctx.uow() as uow:
        jobs = uow.session.scalar(
            select(func.count())
            .select_from(t.settlement_jobs)
            .where(t.settlement_jobs.c.state == JobState.PENDING)
        )
        return int(jobs or 0) + uow.outbox.depth()


# The webhooks ----------------------------------------------------------------------------------


@dataclass
class ChatApp:
    http: httpx.AsyncClient
    acks: list[tuple[str, int, float]]
    """(platform, status, milliseconds) of every webhook request."""

    async def slack(self, user: str, text: str) -> None:
        _, body, headers = slack_message(user, text)
        await self._post("slack", "/slack/events", content=body, headers=headers)

    async def telegram(self, user_id: int, update_id: int, text: str) -> None:
        update = telegram_message(user_id, update_id, text=text)
        headers = {TELEGRAM_HEADER: TELEGRAM_SECRET}
        await self._post("telegram", "/telegram/webhook", json=update, headers=headers)

    async def _post(self, platform: str, path: str, **request: Any) -> None:
        began = time.perf_counter()
        response = await self.http.post(path, **request)
        self.acks.append((platform, response.status_code, 1000 * (time.perf_counter() - began)))


@contextmanager
def fault_free(plan: FaultPlan) -> Iterator[None]:
    plan.enabled = False
    try:
        yield
    finally:
        plan.enabled = True


@asynccontextmanager
async def chat_app(ctx: Context, db: Database, out: Outside) -> AsyncIterator[ChatApp]:
    """Slack and Telegram mounted as ``hrbot serve`` mounts them; their replies go out through
    the app's own proxies. Started, and warmed by one turn each, before the faults begin (the
    run is about an app in service, not one starting up); on the way out, the work of every
    acknowledged request is finished."""
    settings = chat_settings(out.app["slack"], out.app["telegram"])
    services = Services(settings, db, ctx)
    app = FastAPI()
    slack = mount_slack(app, services, Conversation(ctx, settings.default_locale))
    telegram = mount_telegram(app, services, Conversation(ctx, settings.default_locale))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hrbot.test") as http:
        chat = ChatApp(http, [])
        with fault_free(out.plan):
            await telegram.start()
            await chat.slack("U0WARMUP", "/help")
            await chat.telegram(1, 1, "/help")
            assert await slack.drain(timeout=30)
            await telegram.join()
        chat.acks.clear()
        try:
            yield chat
        finally:
            assert await slack.drain(timeout=60)
            await telegram.join()
            await slack.close()
            await telegram.stop()


async def talk(chat: ChatApp, people: People, size: Size) -> None:
    """Employees on Slack and HR on Telegram ask for their status, a few at a time."""
    texts = ("/status", "查社保", "/help")
    requests = []
    for number in range(size.webhooks):
        text = texts[number % len(texts)]
        if number % 2:
            user = people.telegram_users[number % len(people.telegram_users)]
            requests.append(chat.telegram(user, 1000 + number, text))
        else:
            requests.append(chat.slack(people.slack_users[number % len(people.slack_users)], text))
    for start in range(0, len(requests), 6):
        await asyncio.gather(*requests[start : start + 6])
