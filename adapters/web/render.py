"""Neutral chat messages as the web chat stores them: plain JSON, one row per bubble.

A bot message keeps its text, its buttons (label, token, style, action), the message key and
its files as metadata; a file's bytes are never copied here, only the id of the claim document
they came from, which the page downloads through the authorised route.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from core.chat import Attachment, OutgoingMessage

MAX_NAME = 120


def display_name(filename: str) -> str:
    """The last path component only, shortened: a name is shown, never used as a path."""
    name = PureWindowsPath(PurePosixPath(filename).name).name or "file"
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def bot_payload(
    message: OutgoingMessage, kind: str, find_document: Callable[[bytes], int | None]
) -> dict[str, Any]:
    """``kind`` is ``reply`` (an answer to the user) or ``push`` (a notice from the outbox)."""
    return {
        "from": "bot",
        "kind": kind,
        "text": message.text,
        "key": message.key,
        "locale": message.locale,
        "buttons": [
            {"label": b.label, "token": b.token, "style": b.style, "action": b.action}
            for b in message.buttons
        ],
        "files": [
            {
                "filename": display_name(f.filename),
                "content_type": f.content_type,
                "size": len(f.content),
                "document_id": find_document(f.content),
            }
            for f in message.files
        ],
    }


def user_payload(text: str, attachments: tuple[Attachment, ...]) -> dict[str, Any]:
    return {
        "from": "me",
        "kind": "user",
        "text": text,
        "files": [
            {
                "filename": display_name(a.filename),
                "content_type": a.content_type,
                "size": a.size,
            }
            for a in attachments
        ],
    }
