"""The worker delivers what the core queued, on the channels configured, as time passes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.email import SmtpChannel, SmtpConfig
from adapters.recording import RecordingChannel
from bot.bootstrap import Services
from bot.demo.org import load_demo_org
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import Platform
from core.domain.claims import ClaimType
from core.domain.notifications import ChannelKind
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services import claims
from core.services.context import Context, Rules
from tests.factories import JPEG, PDF, PNG, consent_all
from tests.fakes import SmtpInbox, smtp_server


@pytest.fixture
def rules() -> Rules:
    return Rules(channels=frozenset({ChannelKind.CHAT, ChannelKind.EMAIL}))


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def world(
    ctx: Context, db: Database, smtp: tuple[SmtpInbox, int]
) -> tuple[Worker, RecordingChannel]:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    consent_all(ctx)  # consent itself: tests/integration/test_consent*.py
    chat = RecordingChannel()
    router = ChannelRouter(
        chats={Platform.RECORDING: chat},
        email=SmtpChannel(SmtpConfig.from_url(f"smtp://127.0.0.1:{smtp[1]}")),
    )
    services = Services(Settings(), db, ctx)
    return Worker(services, router, interval=0.01), chat


def hold_a_claim(ctx: Context) -> None:
    with ctx.uow() as uow:
        zhang = uow.directory.employee_by_no("E1001")
        assert zhang is not None
    claim = claims.open_claim(ctx, zhang.id, ClaimType.HOSPITALIZATION)
    for kind, name, content in (
        ("admission_certificate", "a.pdf", PDF),
        ("itemized_bill", "b.jpg", JPEG),
        ("id_copy", "c.png", PNG),
    ):
        claims.attach_document(ctx, claim.id, zhang.id, kind, name, content)  # type: ignore[arg-type]
    claims.submit_claim(ctx, claim.id, zhang.id)


def keys_to(chat: RecordingChannel, employee_no: str) -> list[str]:
    return [m.key or "" for m in chat.to(employee_no)]


def test_a_tick_delivers_chat_and_email_in_the_recipients_language(
    ctx: Context, world: tuple[Worker, RecordingChannel], smtp: tuple[SmtpInbox, int]
) -> None:
    worker, chat = world
    hold_a_claim(ctx)
    worker.tick()
    assert keys_to(chat, "E1001") == ["claim.held"]
    # The held claim, and the branch's two overdue batches the countdown found on its first round.
    assert sorted(keys_to(chat, "H2001")) == [
        "alert.batch.level1",
        "alert.batch.level1",
        "alert.level1",
    ]
    inbox = smtp[0]
    assert [rcpt for rcpt, _ in inbox.messages] == [["wangfang@example.com"]] * 3
    assert {m["Content-Language"] for _, m in inbox.messages} == {"zh-CN"}
    sent = len(chat.sent)
    worker.tick()
    assert len(chat.sent) == sent, "a second tick sends nothing twice"


def test_escalation_reaches_the_manager_by_chat_and_email_after_24_hours(
    ctx: Context,
    clock: ManualClock,
    world: tuple[Worker, RecordingChannel],
    smtp: tuple[SmtpInbox, int],
) -> None:
    worker, chat = world
    hold_a_claim(ctx)
    worker.tick()
    clock.advance(timedelta(hours=23, minutes=59))
    worker.tick()
    assert keys_to(chat, "M3001") == []
    clock.advance(timedelta(minutes=1))
    worker.tick()
    assert sorted(keys_to(chat, "M3001")) == [
        "alert.batch.level2",
        "alert.batch.level2",
        "alert.level2",
    ]
    assert ["liuqiang@example.com"] in [rcpt for rcpt, _ in smtp[0].messages]


def test_run_stops_when_told(world: tuple[Worker, RecordingChannel]) -> None:
    worker, _ = world

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(scenario())


def test_hrbot_worker_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        HRBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}",
        HRBOT_DOCUMENTS_DIR=str(tmp_path / "docs"),
    )
    command = [sys.executable, "-c", "from bot.cli import main; main()"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [*command, "worker", "--interval", "0.2", "--log-json"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    assert process.stderr is not None
    started = process.stderr.readline()
    assert '"worker' in started and "started" in started, started
    assert time.monotonic() < deadline
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert "stopped" in process.stderr.read()
