"""Whether an update has the Bot API's documented types where hrbot and PTB's filters read.

python-telegram-bot builds its objects without checking types: ``"chat": null`` or
``"text": 5`` parse, and then a filter (``message.chat.type``) or a handler (``text.strip()``)
fails on them, far from where the update came in. The intake checks these few fields on the raw
update instead, and sets an update that fails aside as a dead letter, like one PTB cannot parse at
all. Found by fuzzing (tests/integration/test_fuzz_webhooks.py). Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Any

MESSAGES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
)
"""Update fields holding a Message: PTB's message filters read each one's chat."""


class UnreadableUpdate(ValueError):
    """An update whose fields do not have the types the Bot API documents."""


def check(update: dict[str, Any]) -> None:
    """``UnreadableUpdate`` naming the first field that is not as documented."""
    for key in MESSAGES:
        if key in update and not _message(update[key]):
            raise UnreadableUpdate(f"{key} is not a message")
    if "callback_query" in update and not _callback_query(update["callback_query"]):
        raise UnreadableUpdate("callback_query is not a callback query")


def _message(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and _int(value.get("message_id"))
        and _chat(value.get("chat"))
        and ("from" not in value or _user(value["from"]))
        and _optional(value, "text", str)
        and _optional(value, "caption", str)
        and ("document" not in value or _file(value["document"], "file_name", "mime_type"))
        and ("photo" not in value or _photo(value["photo"]))
    )


def _callback_query(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("id"), str)
        and _user(value.get("from"))
        and _optional(value, "data", str)
        and _optional(value, "inline_message_id", str)
        and (value.get("message") is None or _message_ref(value["message"]))
    )


def _message_ref(value: Any) -> bool:
    """The message a button was on: only its chat and id are read."""
    return isinstance(value, dict) and _int(value.get("message_id")) and _chat(value.get("chat"))


def _chat(value: Any) -> bool:
    return isinstance(value, dict) and _int(value.get("id")) and isinstance(value.get("type"), str)


def _user(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and _int(value.get("id"))
        and isinstance(value.get("is_bot"), bool)
        and _optional(value, "language_code", str)
    )


def _file(value: Any, *texts: str) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("file_id"), str)
        and isinstance(value.get("file_unique_id"), str)
        and (value.get("file_size") is None or _int(value["file_size"]))
        and all(_optional(value, name, str) for name in texts)
    )


def _photo(value: Any) -> bool:
    return isinstance(value, list) and all(
        _file(size) and _int(size.get("width")) and _int(size.get("height")) for size in value
    )


def _optional(value: dict[str, Any], key: str, kind: type) -> bool:
    return value.get(key) is None or isinstance(value[key], kind)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
