"""Files within limits: the stated size is checked before any download, Slack's login page is
never taken for a document, and the bot token goes only to Slack's own hosts."""

from __future__ import annotations

import logging

import pytest

from core.chat import Attachment
from tests.factories import PDF, row_counts
from tests.fakes_slack import dm_channel, key_of
from tests.integration.slack.conftest import SlackHarness, envelope

ZHANG = "U0ZHANGSAN"
MB = 1024 * 1024


async def _in_the_wizard(slack: SlackHarness) -> None:
    await slack.says(ZHANG, "/claim")
    await slack.clicks(ZHANG, "wizard.type")


def _documents(slack: SlackHarness) -> int:
    return row_counts(slack.ctx)["claim_documents"]


async def test_a_30_mb_file_is_refused_before_download(slack: SlackHarness) -> None:
    await _in_the_wizard(slack)
    huge = slack.fake.add_file("扫描件.pdf", PDF, "application/pdf", size=30 * MB)
    assert await slack.says(ZHANG, "", [huge]) == ["upload.too_large"]
    assert slack.fake.bytes_served == 0 and slack.fake.downloads == 0
    assert slack.fake.calls_to("files.info") == [], "the event's size was enough to refuse"
    assert "扫描件.pdf" in slack.fake.posts(dm_channel(ZHANG))[-1].params["text"]
    assert _documents(slack) == 0


async def test_a_file_whose_real_size_is_over_the_limit_is_not_downloaded(
    slack: SlackHarness,
) -> None:
    await _in_the_wizard(slack)
    sneaky = slack.fake.add_file("bill.pdf", PDF, "application/pdf", size=21 * MB)
    event = {  # file_shared names the file only by id: files.info tells its size
        "type": "file_shared",
        "channel_id": dm_channel(ZHANG),
        "file_id": sneaky["id"],
        "user_id": ZHANG,
        "file": {"id": sneaky["id"]},
        "event_ts": "1617804931.000300",
    }
    await slack.send_event(envelope(event))
    assert key_of(slack.fake.posts(dm_channel(ZHANG))[-1]) == "upload.too_large"
    assert len(slack.fake.calls_to("files.info")) == 1
    assert slack.fake.downloads == 0 and _documents(slack) == 0


async def test_a_login_page_instead_of_the_file_is_a_configuration_error(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    await _in_the_wizard(slack)
    page = slack.fake.add_file("住院证.pdf", PDF, "application/pdf", html=True)
    with caplog.at_level(logging.ERROR, logger="hrbot.slack"):
        assert await slack.says(ZHANG, "", [page]) == ["upload.refused"]
    assert slack.bot.work.fetcher.misconfigured == 1
    assert any("files:read" in r.getMessage() for r in caplog.records)
    assert _documents(slack) == 0, "a login page is never stored as a document"


async def test_the_bot_token_goes_to_slack_hosts_only(slack: SlackHarness) -> None:
    await _in_the_wizard(slack)
    elsewhere = slack.fake.add_file("x.pdf", PDF, "application/pdf")
    fetcher = slack.bot.work.fetcher
    original = slack.fake.root
    slack.fake.root = "http://127.0.0.2:9"  # files.info now points at another host
    try:
        fetched = await fetcher.fetch(Attachment("x.pdf", None, None, elsewhere["id"]))
    finally:
        slack.fake.root = original
    assert fetched.problem == "unavailable" and fetched.attachment.content is None
    assert slack.fake.downloads == 0


async def test_a_good_file_is_fetched_with_the_token_and_kept(slack: SlackHarness) -> None:
    await _in_the_wizard(slack)
    good = slack.fake.add_file("住院证.pdf", PDF, "application/pdf")
    assert await slack.says(ZHANG, "", [good]) == ["chat.claim_checklist"]
    assert slack.fake.bytes_served == len(PDF) and _documents(slack) == 1
