"""Slack payloads to ``core.chat`` and back: pure functions, tested on real payload fixtures.

In: ``message.im`` (also with ``subtype: file_share``), ``app_mention``, ``file_shared`` and
``block_actions``. Out: Block Kit (see ``adapters.slack.blocks``). Nothing here does I/O.
"""

from __future__ import annotations

import re
from typing import Any

from core.chat import Address, Attachment, ButtonClick, IncomingMessage, Platform

Payload = dict[str, Any]

# Message subtypes a person sends; edits, deletions, joins and bot posts are not for the bot.
_PERSON_SUBTYPES = (None, "file_share")
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
DUPLICATE_MARK = "~"
"""Slack wants action ids unique within a block: a second ``ack.date`` becomes ``ack.date~2``."""


def event_of(body: Payload) -> Payload:
    event = body.get("event")
    return event if isinstance(event, dict) else {}


def is_actionable(body: Payload) -> bool:
    """Whether an Events API delivery asks anything of the bot (cheap, before any database
    work): a person's direct message, a mention, or a file shared in a direct message."""
    if body.get("type") != "event_callback":
        return False
    event = event_of(body)
    kind = event.get("type")
    if event.get("bot_id") or event.get("bot_profile"):
        return False  # other bots, and our own posts echoed back
    if kind == "message":
        return (
            event.get("channel_type") == "im"
            and event.get("subtype") in _PERSON_SUBTYPES
            and _is_id(event.get("user"))
        )
    if kind == "app_mention":
        # In a direct message the same words arrive as ``message.im``: answer them once.
        return _is_id(event.get("user")) and not str(event.get("channel", "")).startswith("D")
    if kind == "file_shared":
        return str(event.get("channel_id", "")).startswith("D") and _is_id(event.get("user_id"))
    return False


def incoming_message(body: Payload) -> IncomingMessage | None:
    """The neutral message an event carries, or None when it is not for the bot."""
    if not is_actionable(body):
        return None
    event = event_of(body)
    if event["type"] == "file_shared":
        file_id = str(event.get("file_id") or id_of(event.get("file")))
        if not file_id:
            return None
        attachment = Attachment(filename="", content_type=None, size=None, ref=file_id)
        sender = Address(Platform.SLACK, str(event["user_id"]))
        return IncomingMessage(sender, "", (attachment,), message_id=f"file:{file_id}")
    text = str(event.get("text") or "")
    mention = event["type"] == "app_mention"
    if mention:
        text = _MENTION.sub("", text)
    return IncomingMessage(
        sender=Address(Platform.SLACK, str(event["user"])),
        text=text.strip(),
        # Medical documents are taken in the direct message only, never from a shared channel.
        attachments=() if mention else tuple(attachments_of(event)),
        message_id=f"{event.get('channel', '')}:{event.get('ts', '')}",
    )


def attachments_of(event: Payload) -> list[Attachment]:
    """The files of a ``file_share`` message, without their bytes (the adapter fetches those
    after checking their size)."""
    found = []
    files = event.get("files")
    for item in files if isinstance(files, list) else ():
        if not isinstance(item, dict) or not item.get("id"):
            continue
        size = item.get("size")
        found.append(
            Attachment(
                filename=str(item.get("name") or item.get("title") or ""),
                content_type=item.get("mimetype"),
                size=size if isinstance(size, int) else None,
                ref=str(item["id"]),
            )
        )
    return found


def reply_channel(body: Payload) -> str | None:
    """The direct-message channel to answer in; None for a mention in a shared channel, which
    is answered in a direct message (what the bot says is personal)."""
    event = event_of(body)
    if event.get("type") == "message":
        return str(event.get("channel") or "") or None
    if event.get("type") == "file_shared":
        return str(event.get("channel_id") or "") or None
    return None


def button_click(body: Payload) -> ButtonClick | None:
    """The click a ``block_actions`` payload carries: who, which action, the opaque token."""
    if body.get("type") != "block_actions":
        return None
    actions = body.get("actions") or []
    user = id_of(body.get("user"))
    if not actions or not user or not isinstance(actions[0], dict):
        return None
    action = actions[0]
    token = action.get("value")
    if action.get("type") != "button" or not isinstance(token, str) or not token:
        return None
    container = body.get("container") or {}
    channel = container.get("channel_id") or id_of(body.get("channel"))
    return ButtonClick(
        sender=Address(Platform.SLACK, str(user)),
        action=str(action.get("action_id", "")).split(DUPLICATE_MARK, 1)[0],
        token=token[:64],
        message_id=f"{channel}:{container.get('message_ts', '')}",
    )


def click_channel(body: Payload) -> str | None:
    container = body.get("container") or {}
    return container.get("channel_id") or id_of(body.get("channel")) or None


def team_and_app(body: Payload) -> tuple[str | None, str | None]:
    """The workspace and app a request says it comes from (events and interactions differ)."""
    team = body.get("team_id")
    if team is None and isinstance(body.get("team"), dict):
        team = body["team"].get("id")
    if team is None and isinstance(body.get("user"), dict):
        team = body["user"].get("team_id")
    app = body.get("api_app_id")
    return (str(team) if team else None, str(app) if app else None)


def sender_of(body: Payload) -> str:
    """Who sent an event or clicked, for logs and audit; empty when the payload does not say."""
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id") or "")
    event = event_of(body)
    return str(event.get("user") or event.get("user_id") or "")


def id_of(value: object) -> str:
    """A Slack id given as a string or as an object with an ``id`` (both shapes occur); empty
    for anything else, which no Slack payload holds."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _is_id(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def delivery_id(body: Payload) -> str | None:
    """The Events API's id for a delivery, the same on every retry of it."""
    event_id = body.get("event_id")
    return str(event_id) if event_id else None


def click_delivery_id(body: Payload) -> str | None:
    """An interaction's id: its ``trigger_id`` (one per click) with the action's timestamp.

    A click carries no Events API id, so it is recorded in the inbox under this one: a delivery
    seen twice is then acted on once, and a click that arrives while the database is away is
    refused (503, which Slack shows the clicker) instead of acknowledged and lost.
    """
    trigger = body.get("trigger_id")
    actions = body.get("actions") or []
    stamp = actions[0].get("action_ts") if actions and isinstance(actions[0], dict) else None
    if not isinstance(trigger, str) or not trigger or not isinstance(stamp, str):
        return None
    return f"click:{trigger[:80]}:{stamp[:32]}"
