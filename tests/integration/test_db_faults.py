"""Database faults: a failed commit sends nothing; a database that goes away loses no webhook.

(a) The outbox is written in the same transaction as the change it announces: when that
transaction's commit fails after the outbox insert (or a statement after it fails), the change
and its notices are gone together, and the dispatcher has nothing to send to the fake Slack
and SMTP servers.

(b) The database goes away while Slack and Telegram keep posting: the machine's PostgreSQL is
never stopped (other runs share it); instead the app reaches its database through a cable this
test pulls: a TCP proxy on 127.0.0.1 in front of PostgreSQL (open connections reset, new ones
refused), or, on SQLite, the folder link the database file is opened through (opening fails).
Each signed webhook is then answered 503, never 200 with the update dropped nor 500; once the
cable is back, the platform's retry is stored once and answered once, and a further retry is
recognised as a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from adapters.email import SmtpChannel, SmtpConfig
from adapters.slack.app import SlackBot
from adapters.telegram.runtime import TelegramRuntime
from bot.bootstrap import Services
from bot.conversation import Conversation
from bot.demo.org import load_demo_org
from bot.i18n import CatalogRenderer
from bot.platforms.slack import mount_slack, slack_channel
from bot.platforms.telegram import mount_telegram
from bot.routing import ChannelRouter
from bot.settings import Settings
from core.chat import Platform
from core.domain.claims import ClaimState
from core.domain.contributions import DelayReason
from core.domain.notifications import ChannelKind
from core.persistence import tables as t
from core.persistence.engine import make_engine
from core.persistence.uow import Database
from core.services.claims import submit_claim
from core.services.context import Context
from core.services.delivery import deliver_due
from tests.factories import Org, add_records, make_org, open_complete_claim
from tests.fakes import SmtpInbox, smtp_server
from tests.fakes_slack import TOKEN as SLACK_TOKEN
from tests.fakes_slack import FakeSlack, dm_channel, fake_slack_server, key_of
from tests.fault_support import TcpProxy
from tests.fleet_chat import (
    TELEGRAM_HEADER,
    button_named,
    slack_click,
    slack_message,
    telegram_message,
)
from tests.integration.slack.conftest import SECRET as SLACK_SECRET
from tests.integration.telegram.conftest import SECRET as TELEGRAM_SECRET
from tests.integration.telegram.conftest import settings_for
from tests.integration.telegram.fake_bot_api import FakeBotApi, fake_bot_api

SLACK_ZHANG, TELEGRAM_ZHANG = "U0ZHANGSAN", 1001001


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with fake_slack_server() as fake:
        yield fake


@pytest.fixture
def fake_telegram() -> Iterator[FakeBotApi]:
    with fake_bot_api() as fake:
        yield fake


def chat_settings(fake_slack: FakeSlack, fake_telegram: FakeBotApi) -> Settings:
    return settings_for(
        fake_telegram,
        slack_bot_token=SLACK_TOKEN,
        slack_signing_secret=SLACK_SECRET,
        slack_api_url=fake_slack.url,
    )


# (a) A commit that fails after the outbox insert ------------------------------------------------


@contextmanager
def failing_after_outbox_insert(
    engine: Engine, at: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    """Make the transaction that inserts into the outbox fail, once: its COMMIT is refused by
    the driver (``at="commit"``), or the first statement after the insert fails
    (``at="statement"``; the COMMIT if no statement follows). Yields what failed."""
    failed: list[str] = []
    inserted = {"outbox": False}
    driver_error = engine.dialect.loaded_dbapi.OperationalError

    def fail(what: str) -> None:
        inserted["outbox"] = False
        failed.append(what)
        raise driver_error("injected: the server went away")

    def before_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if inserted["outbox"] and at == "statement" and not failed:
            fail(statement.split("(")[0].strip())
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            inserted["outbox"] = True

    real_commit = engine.dialect.do_commit

    def do_commit(dbapi_connection: Any) -> None:
        if inserted["outbox"] and not failed:
            fail("COMMIT")
        inserted["outbox"] = False
        real_commit(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_commit", do_commit)
    event.listen(engine, "before_cursor_execute", before_execute)
    try:
        yield failed
    finally:
        event.remove(engine, "before_cursor_execute", before_execute)
        monkeypatch.undo()


def held_claim_ready_to_submit(ctx: Context) -> tuple[Org, int]:
    """张三's complete claim; submitting it holds it (two months unpaid) and alerts his HR, by
    chat and e-mail, through the outbox. Both are reachable on the fake servers."""
    org = make_org(ctx)
    with ctx.uow() as uow:
        for person, slack_id in ((org.employee, SLACK_ZHANG), (org.hr, "U0HRLISI")):
            uow.directory.employee(person.id).slack_user_id = slack_id
        uow.commit()
    add_records(
        ctx,
        org.employee,
        ["2026-08", "2026-09"],
        unpaid=["2026-08", "2026-09"],
        delay_reason=DelayReason.FINANCE_APPROVAL,
    )
    return org, open_complete_claim(ctx, org.employee)


@pytest.mark.parametrize("at", ["commit", "statement"])
def test_a_commit_that_fails_after_the_outbox_insert_sends_nothing(
    engine: Engine,
    ctx: Context,
    fake_slack: FakeSlack,
    fake_telegram: FakeBotApi,
    monkeypatch: pytest.MonkeyPatch,
    at: str,
) -> None:
    ctx.rules = replace(ctx.rules, channels=frozenset(ChannelKind), quiet_hours=False)
    org, claim_id = held_claim_ready_to_submit(ctx)
    settings = chat_settings(fake_slack, fake_telegram)
    with smtp_server() as (smtp, port):
        router = ChannelRouter(
            chats={Platform.SLACK: slack_channel(settings)},
            email=SmtpChannel(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}")),
        )
        renderer = CatalogRenderer("zh-CN", ctx.rules.timezone)
        failing = failing_after_outbox_insert(engine, at, monkeypatch)
        with failing as failed, pytest.raises(OperationalError):
            submit_claim(ctx, claim_id, org.employee.id, channel="slack")
        assert failed, "the outbox insert never happened: nothing was tested"
        # The dispatcher's own units of work come next (its claim commits, on whatever
        # connection the pool gives it): they must not carry the failed one's rows along.
        assert deliver_due(ctx, router, renderer).sent == 0
        assert_nothing_sent(fake_slack, smtp)
        with ctx.uow() as uow:
            assert uow.outbox.all() == []
            assert uow.claims.get(claim_id).state is ClaimState.DRAFT  # the change went too
            assert uow.alerts.unresolved() == []

        # The same submission, committed: the notices exist and reach both fake servers.
        submit_claim(ctx, claim_id, org.employee.id, channel="slack")
        report = deliver_due(ctx, router, renderer)
        assert report.sent >= 2 and report.retried == report.dead == 0
        assert fake_slack.posts() and smtp.messages


def assert_nothing_sent(fake_slack: FakeSlack, smtp: SmtpInbox) -> None:
    assert fake_slack.posts() == [] and fake_slack.posts(method="chat.update") == []
    assert smtp.messages == []


# (b) The database goes away and comes back ------------------------------------------------------


@dataclass
class Cable:
    """The app's way to its database, which the test can pull and plug back."""

    engine: Engine
    proxy: TcpProxy | None = None
    link: Path | None = None
    target: Path | None = None

    def cut(self) -> None:
        if self.proxy is not None:
            self.proxy.cut()
        else:
            assert self.link is not None
            self.link.unlink()

    def restore(self) -> None:
        if self.proxy is not None:
            self.proxy.restore()
        else:
            assert self.link is not None and self.target is not None
            self.link.symlink_to(self.target, target_is_directory=True)


@pytest.fixture
def cable(engine: Engine, tmp_path: Path) -> Iterator[Cable]:
    if engine.dialect.name == "postgresql":
        url = engine.url
        assert url.host is not None
        with TcpProxy((url.host, url.port or 5432)) as proxy:
            proxied = url.set(host="127.0.0.1", port=proxy.port)
            app_engine = make_engine(proxied.render_as_string(hide_password=False))
            yield Cable(app_engine, proxy=proxy)
            app_engine.dispose()
        return
    database = Path(str(make_url(engine.url).database))
    link = tmp_path / "database-folder"
    link.symlink_to(database.parent, target_is_directory=True)
    # No pool: every unit of work opens the file anew, as a new connection would have to.
    app_engine = make_engine(f"sqlite:///{link / database.name}", poolclass=NullPool)
    yield Cable(app_engine, link=link, target=database.parent)
    app_engine.dispose()


@dataclass
class ChatApp:
    http: httpx.AsyncClient
    slack: SlackBot
    telegram: TelegramRuntime
    fake_slack: FakeSlack
    fake_telegram: FakeBotApi

    async def slack_event(self, body: bytes, headers: dict[str, str]) -> int:
        response = await self.http.post("/slack/events", content=body, headers=headers)
        assert await self.slack.drain(timeout=30)
        return response.status_code

    async def telegram_update(self, update: dict[str, Any]) -> int:
        response = await self.http.post(
            "/telegram/webhook", json=update, headers={TELEGRAM_HEADER: TELEGRAM_SECRET}
        )
        await self.telegram.join()
        return response.status_code

    def slack_answers(self) -> int:
        return len(self.fake_slack.posts(dm_channel(SLACK_ZHANG)))

    def telegram_answers(self) -> int:
        return len(self.fake_telegram.calls_to("sendMessage", TELEGRAM_ZHANG))


@pytest.fixture
async def chat_app(
    ctx: Context, cable: Cable, fake_slack: FakeSlack, fake_telegram: FakeBotApi
) -> AsyncIterator[ChatApp]:
    """Slack and Telegram mounted as ``hrbot serve`` mounts them, on the cabled database."""
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    settings = chat_settings(fake_slack, fake_telegram)
    app_ctx = replace(ctx, uow=Database(cable.engine).uow)
    services = Services(settings, Database(cable.engine), app_ctx)
    app = FastAPI()
    slack = mount_slack(app, services, Conversation(app_ctx, settings.default_locale))
    telegram = mount_telegram(app, services, Conversation(app_ctx, settings.default_locale))
    await telegram.start()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hrbot.test") as http:
        yield ChatApp(http, slack, telegram, fake_slack, fake_telegram)
    await slack.close()
    await telegram.stop()


def inbox_rows(engine: Engine, platform: str, event_id: str) -> int:
    query = (
        select(func.count())
        .select_from(t.inbox)
        .where(t.inbox.c.platform == platform, t.inbox.c.event_id == event_id)
    )
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def retried(headers: dict[str, str], number: int) -> dict[str, str]:
    return {**headers, "X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_error"}


async def test_a_database_that_goes_away_loses_no_webhook(
    chat_app: ChatApp, cable: Cable, engine: Engine
) -> None:
    # Up: one turn each, to know what one answered /status looks like.
    _, body, headers = slack_message(SLACK_ZHANG, "/status")
    assert await chat_app.slack_event(body, headers) == 200
    assert (
        await chat_app.telegram_update(telegram_message(TELEGRAM_ZHANG, 500, text="/status")) == 200
    )
    slack_turn, telegram_turn = chat_app.slack_answers(), chat_app.telegram_answers()
    assert slack_turn and telegram_turn

    cable.cut()
    _, body, headers = slack_message(SLACK_ZHANG, "/status")
    event_id = json.loads(body)["event_id"]
    update = telegram_message(TELEGRAM_ZHANG, 501, text="/status")
    assert await chat_app.slack_event(body, headers) == 503
    assert await chat_app.telegram_update(update) == 503
    assert await chat_app.slack_event(body, retried(headers, 1)) == 503  # still away
    assert (chat_app.slack_answers(), chat_app.telegram_answers()) == (slack_turn, telegram_turn)

    cable.restore()
    assert inbox_rows(engine, "slack", event_id) == inbox_rows(engine, "telegram", "501") == 0
    assert await chat_app.slack_event(body, retried(headers, 2)) == 200
    assert await chat_app.telegram_update(update) == 200
    assert chat_app.slack_answers() == 2 * slack_turn, "the retry was answered, once"
    assert chat_app.telegram_answers() == 2 * telegram_turn

    # A further retry of each is a duplicate: acknowledged, not answered again.
    assert await chat_app.slack_event(body, retried(headers, 3)) == 200
    assert await chat_app.telegram_update(update) == 200
    assert chat_app.slack_answers() == 2 * slack_turn
    assert chat_app.telegram_answers() == 2 * telegram_turn
    assert inbox_rows(engine, "slack", event_id) == inbox_rows(engine, "telegram", "501") == 1


def consents_of(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(t.consents)) or 0)


async def test_a_click_while_the_database_is_away_is_refused_not_lost(
    chat_app: ChatApp, cable: Cable, engine: Engine
) -> None:
    """Slack does not retry an interaction: a click acknowledged and then dropped is lost
    without the clicker knowing. It is refused instead (Slack shows the error), and the same
    click once the database is back is taken once."""
    _, body, headers = slack_message(SLACK_ZHANG, "/claim")
    assert await chat_app.slack_event(body, headers) == 200
    (card,) = [
        c
        for c in chat_app.fake_slack.posts(dm_channel(SLACK_ZHANG))
        if key_of(c) == "chat.consent_ask"
    ]
    _, click, click_headers = slack_click(SLACK_ZHANG, card, button_named(card, "consent.grant"))
    before = chat_app.slack_answers()

    cable.cut()
    assert await chat_app.slack_event(click, click_headers) == 503
    assert chat_app.slack_answers() == before

    cable.restore()
    assert consents_of(engine) == 0
    assert await chat_app.slack_event(click, click_headers) == 200
    answered = chat_app.slack_answers()
    assert answered > before
    assert consents_of(engine) == 1
    assert await chat_app.slack_event(click, click_headers) == 200  # delivered twice: taken once
    assert chat_app.slack_answers() == answered
