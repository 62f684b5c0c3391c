"""An answer the chat platform will not take is late, never lost.

A reply goes straight back to Slack or Telegram; after the client's quick retries fail, the
platform will not resend the message (it was acknowledged), so the answer goes to the outbox
and the worker delivers it with the usual backoff, saying that its buttons have expired.
"""

from __future__ import annotations

from core.services.replies import REPLY_KEY
from tests.factories import late_replies
from tests.fakes_slack import dm_channel, key_of
from tests.integration.slack.conftest import SlackHarness

SLACK_ZHANG = "U0ZHANGSAN"


async def test_a_slack_answer_that_fails_three_times_arrives_through_the_outbox(
    slack: SlackHarness,
) -> None:
    # The first try and both quick retries answer 500: the reply goes to the outbox.
    slack.fake.fail("chat.postMessage", status=500, times=3)
    tried = await slack.says(SLACK_ZHANG, "/status")
    assert tried == ["chat.status"] * 3  # all refused
    queued = late_replies(slack.ctx)
    assert queued == [("pending", "chat.status"), ("pending", "chat.status_delayed")]
    await slack.tick()
    posts = slack.fake.posts(dm_channel(SLACK_ZHANG))[len(tried) :]
    assert [key_of(p) for p in posts] == [REPLY_KEY, REPLY_KEY]
    assert [state for state, _ in late_replies(slack.ctx)] == ["sent", "sent"]
    assert "2026-08" in str(posts[0].params.get("text"))  # the status itself, in order


async def test_a_slack_answer_retried_in_line_arrives_once_and_not_late(
    slack: SlackHarness,
) -> None:
    slack.fake.fail("chat.postMessage", status=500, times=2)
    keys = await slack.says(SLACK_ZHANG, "/status")
    assert keys == ["chat.status"] * 3 + ["chat.status_delayed"]  # the third try went through
    assert late_replies(slack.ctx) == []


async def test_a_late_answer_says_its_buttons_have_expired(slack: SlackHarness) -> None:
    slack.fake.fail("chat.postMessage", status=500, times=3)
    tried = await slack.says(SLACK_ZHANG, "/claim")  # answered with the claim types' buttons
    await slack.tick()
    (late,) = slack.fake.posts(dm_channel(SLACK_ZHANG))[len(tried) :]
    assert key_of(late) == REPLY_KEY
    assert "按钮已失效" in str(late.params.get("text"))
    assert not [
        b
        for block in late.params.get("blocks") or []
        if block.get("type") == "actions"
        for b in block.get("elements", [])
    ]
