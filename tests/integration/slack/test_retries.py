"""Slack retries a delivery it thinks was lost (``X-Slack-Retry-Num``): each event has one effect,
however often and however concurrently it arrives; a retry of an event never seen is processed."""

from __future__ import annotations

import asyncio
import json

from tests.fakes_slack import dm_channel
from tests.integration.slack.conftest import SlackHarness, dm_event, envelope, sign

ZHANG = "U0ZHANGSAN"


def _retry(number: int) -> dict[str, str]:
    return {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_timeout"}


def _sessions(slack: SlackHarness) -> int:
    with slack.ctx.uow() as uow:
        return 1 if uow.chats.session_for("slack", ZHANG) else 0


def _inbox_rows(slack: SlackHarness) -> int:
    from sqlalchemy import func, select

    from core.persistence.tables import metadata

    table = metadata.tables["inbox"]
    with slack.ctx.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


async def test_an_event_delivered_four_times_has_one_effect(slack: SlackHarness) -> None:
    payload = envelope(dm_event(ZHANG, "/status"), event_id="Ev0RETRIED1")
    first = await slack.send_event(payload, settle=False)
    # Retry 1 races a concurrent retry 2 while the original is still being answered.
    racing = await asyncio.gather(
        slack.send_event(payload, _retry(1), settle=False),
        slack.send_event(payload, _retry(2), settle=False),
    )
    await slack.settle()
    late = await slack.send_event(payload, _retry(3))
    assert [r.status_code for r in (first, *racing, late)] == [200, 200, 200, 200]
    assert len(slack.fake.posts(dm_channel(ZHANG))) == 2  # one answer: status + what it means
    assert _inbox_rows(slack) == 1


async def test_a_retry_of_an_event_never_seen_is_processed_once(slack: SlackHarness) -> None:
    payload = envelope(dm_event(ZHANG, "/status"), event_id="Ev0LOSTORIG")
    # The original and retry 1 never reached us; retry 2 does, and then retry 3.
    assert (await slack.send_event(payload, _retry(2))).status_code == 200
    assert len(slack.fake.posts(dm_channel(ZHANG))) == 2
    assert (await slack.send_event(payload, _retry(3))).status_code == 200
    assert len(slack.fake.posts(dm_channel(ZHANG))) == 2


async def test_a_retried_upload_attaches_its_file_once(slack: SlackHarness) -> None:
    await slack.says(ZHANG, "/claim")
    await slack.clicks(ZHANG, "wizard.type")
    from tests.factories import PDF

    file = slack.fake.add_file("住院证.pdf", PDF, "application/pdf")
    payload = envelope(dm_event(ZHANG, "", [file]), event_id="Ev0UPLOAD01")
    await asyncio.gather(*(slack.send_event(payload, _retry(n), settle=False) for n in (1, 2, 3)))
    await slack.settle()
    assert slack.fake.downloads == 1
    shared = envelope(
        {
            "type": "file_shared",
            "channel_id": dm_channel(ZHANG),
            "file_id": file["id"],
            "user_id": ZHANG,
            "file": {"id": file["id"]},
            "event_ts": "1.2",
        }
    )
    await slack.send_event(shared)  # the same file, announced again as file_shared
    assert slack.fake.downloads == 1, "a file takes one path into the claim, not two"


async def test_events_that_ask_nothing_are_acknowledged_without_a_trace(
    slack: SlackHarness,
) -> None:
    edited = dm_event(ZHANG, "/status") | {"subtype": "message_changed"}
    mine = dm_event("U0HRBOT", "hello") | {"bot_id": "B0HRBOT"}
    other = {"type": "reaction_added", "user": ZHANG, "reaction": "tada"}
    for event in (edited, mine, other):
        body = json.dumps(envelope(event)).encode()
        response = await slack.post(body, {"Content-Type": "application/json", **sign(body)})
        assert response.status_code == 200  # not 404: Slack would retry that
    assert _inbox_rows(slack) == 0 and _sessions(slack) == 0
    assert not slack.fake.posts()


async def test_an_event_that_arrives_while_slack_cannot_say_who_we_are_is_retried(
    slack: SlackHarness,
) -> None:
    """At a cold start the app asks ``auth.test`` first; bolt on its own answered a failure
    with a 200 and the event was never seen again. It is a 503 now: nothing recorded, and
    Slack's retry is answered once ``auth.test`` works."""
    slack.fake.fail("auth.test", status=500, times=3)  # the first try and two quick retries
    slack.fake.fail("auth.test", error="fatal_error", status=200)
    payload = envelope(dm_event(ZHANG, "/status"), event_id="Ev0COLDSTART")
    assert (await slack.send_event(payload)).status_code == 503
    assert (await slack.send_event(payload, _retry(1))).status_code == 503
    assert _inbox_rows(slack) == 0 and slack.fake.posts(dm_channel(ZHANG)) == []
    assert (await slack.send_event(payload, _retry(2))).status_code == 200
    assert len(slack.fake.posts(dm_channel(ZHANG))) == 2
    auth_calls = [c for c in slack.fake.calls if c.method == "auth.test"]
    assert (await slack.send_event(payload, _retry(3))).status_code == 200
    assert [c for c in slack.fake.calls if c.method == "auth.test"] == auth_calls  # learnt once
