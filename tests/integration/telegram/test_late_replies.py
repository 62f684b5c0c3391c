"""An answer the chat platform will not take is late, never lost.

A reply goes straight back to Slack or Telegram; after the client's quick retries fail, the
platform will not resend the message (it was acknowledged), so the answer goes to the outbox
and the worker delivers it with the usual backoff, saying that its buttons have expired.
"""

from __future__ import annotations

from core.services.replies import REPLY_KEY
from tests.factories import late_replies
from tests.integration.telegram.conftest import ZHANG as TELEGRAM_ZHANG
from tests.integration.telegram.conftest import Harness


async def test_a_telegram_answer_that_fails_twice_arrives_through_the_outbox(tg: Harness) -> None:
    zhang = tg.user(TELEGRAM_ZHANG)
    tg.fake.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    await zhang.says("/status")  # the first try and the quick retry both answer 500
    queued = late_replies(tg.ctx)
    assert queued and {state for state, _ in queued} == {"pending"}
    tg.worker.tick()
    assert {state for state, _ in late_replies(tg.ctx)} == {"sent"}
    late = [m for a, m in tg.channel.pushed if a.target == str(TELEGRAM_ZHANG)]
    assert [m.key for m in late] == [REPLY_KEY] * len(queued)
    assert "2026-08" in late[0].text  # the status itself, in order
    with tg.ctx.uow() as uow:  # answered late, not a dead letter
        assert not [r for r in uow.audit.all() if r.action == "inbox.dead_letter"]
