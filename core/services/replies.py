"""Answers a chat platform would not take, handed to the outbox: late, never lost.

A reply to a message or a click goes straight to Slack or Telegram (a person is waiting, and the
outbox's first attempt could be a second away). When that fails after the adapter's own quick
retries (timeouts, resets, 5xx), the platform will not send the message again (it was
acknowledged), so the answer goes to the outbox instead: retried with backoff, on another
channel if the chat cannot reach the person, dead-lettered with HR told after the last attempt.

Only the text travels: its buttons belonged to the moment (the person asks again for a fresh
set) and a file is not kept in the outbox; the notice says so. Someone not linked to an employee
has no outbox address: their lost answer is logged, and they can simply ask again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from core.chat import OutgoingMessage
from core.domain.notifications import ChannelKind
from core.services.common import notify
from core.services.context import Context

log = logging.getLogger("hrbot.replies")

REPLY_KEY = "chat.reply"
"""Rendered as the text itself (it was rendered for the person already), plus what was left."""
MAX_TEXT = 3500
"""Fits one Telegram message and one Slack section with room for the added line."""


def queue_unsent(
    ctx: Context, platform: str, user_id: str, replies: Sequence[OutgoingMessage]
) -> int:
    """Queue ``replies`` for the employee behind this chat account; how many were queued."""
    if not replies:
        return 0
    turn = uuid.uuid4().hex[:16]  # the platform will not resend: each call is its own turn
    with ctx.uow() as uow:
        employee = uow.directory.employee_by_chat(platform, user_id)
        if employee is None:
            log.warning(
                "%d %s replies lost: the chat account is not linked", len(replies), platform
            )
            return 0
        queued = 0
        for index, reply in enumerate(replies):
            params = {
                "text": reply.text[:MAX_TEXT],
                "had_buttons": bool(reply.buttons),
                "had_files": bool(reply.files),
                "reply_key": reply.key or "",
            }
            idempotency = f"reply:{platform}:{turn}:{index}"
            queued += notify(
                ctx, uow, employee, REPLY_KEY, params, idempotency, (ChannelKind.CHAT,)
            )
        uow.commit()
    log.info("%d %s replies handed to the outbox", queued, platform)
    return queued
