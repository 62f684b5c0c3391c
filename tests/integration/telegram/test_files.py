"""Files from Telegram: the stated size is checked before ``getFile``; what is downloaded is held
in memory and judged by the shared upload rules; a file too large gets a web upload link."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.web.signing import Signer
from bot.platforms.telegram import UPLOAD_LINK_SALT
from core.persistence.uow import Database
from core.services.context import Context
from tests.factories import PDF
from tests.integration.telegram.conftest import (
    ZHANG,
    Harness,
    start_harness,
    stop_harness,
)
from tests.integration.telegram.fake_bot_api import FakeBotApi

MB = 1024 * 1024
PUBLIC = "https://hr.example.com"


@pytest.fixture
async def linked(fake: FakeBotApi, demo_org: Context, db: Database) -> AsyncIterator[Harness]:
    """A server whose webhook is registered, so it knows its public address."""
    fake.webhook = {"url": f"{PUBLIC}/telegram/webhook"}
    h = await start_harness(fake, demo_org, db)
    try:
        yield h
    finally:
        await stop_harness(h)


async def open_claim(h: Harness) -> None:
    zhang = h.user(ZHANG)
    await zhang.says("/claim")
    await zhang.clicks("wizard.type")


async def test_a_30_mb_document_is_refused_before_get_file(linked: Harness) -> None:
    await open_claim(linked)
    zhang = linked.user(ZHANG)
    keys = await zhang.sends_document("BIG-1", "扫描件.pdf", b"", file_size=30 * MB)
    assert keys == []  # answered by the adapter's refusal, never seen by the conversation
    assert linked.fake.calls_to("getFile") == [] and linked.fake.downloads == []
    reply = str(linked.fake.calls_to("sendMessage", ZHANG)[-1].get("text"))
    assert "扫描件.pdf" in reply and "20 MB" in reply  # the size and the way round it
    link = re.search(r"https://hr\.example\.com/chat\?upload=(\S+)", reply)
    assert link is not None, reply
    assert Signer("tests-secret-key", UPLOAD_LINK_SALT).unsign(link.group(1), 15 * 60) == "E1001"


async def test_the_upload_limit_setting_is_honoured_before_download(
    fake: FakeBotApi, demo_org: Context, db: Database
) -> None:
    h = await start_harness(fake, demo_org, db, max_upload_mb=1)
    try:
        await open_claim(h)
        zhang = h.user(ZHANG)
        padded = PDF + b"0" * (2 * MB)
        assert await zhang.sends_document("MID-1", "a.pdf", padded) == []
        assert h.fake.calls_to("getFile") == []
        assert "a.pdf" in str(h.fake.calls_to("sendMessage", ZHANG)[-1].get("text"))
        # Stated by nobody: asked for, but refused on getFile's size without downloading.
        assert await zhang.sends_document("MID-2", "b.pdf", padded, file_size=None) == []
        assert len(h.fake.calls_to("getFile")) == 1 and h.fake.downloads == []
    finally:
        await stop_harness(h)


async def test_telegram_calling_a_file_too_big_is_the_same_refusal(tg: Harness) -> None:
    await open_claim(tg)
    tg.fake.fail_next("getFile", 400, "Bad Request: file is too big")
    keys = await tg.user(ZHANG).sends_document("BIG-2", "c.pdf", PDF)
    assert keys == [] and tg.fake.downloads == []
    reply = str(tg.fake.calls_to("sendMessage", ZHANG)[-1].get("text"))
    assert "c.pdf" in reply and "http" not in reply  # no public address known: no link


async def test_a_file_within_limits_is_downloaded_to_memory_and_judged(tg: Harness) -> None:
    await open_claim(tg)
    zhang = tg.user(ZHANG)
    keys = await zhang.sends_document("OK-1", "住院证.pdf", PDF)
    assert keys == ["chat.claim_checklist"]
    (download,) = tg.fake.downloads
    assert not Path(download).exists()  # never a path PTB could read from local disk
    disguised = b"MZ\x90\x00 this is an exe"
    keys = await zhang.sends_document("BAD-1", "清单.pdf", disguised)
    assert keys[0].startswith("upload.") and keys[-1] == "chat.claim_checklist"


async def test_a_file_without_an_open_claim_is_not_downloaded_for_nothing(tg: Harness) -> None:
    keys = await tg.user(ZHANG).sends_document("LOOSE-1", "x.pdf", PDF)
    assert keys == ["chat.files_without_claim"]
