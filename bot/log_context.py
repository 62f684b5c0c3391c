"""What a log line knows about the request it belongs to: its id and who is acting (masked).

The HTTP middleware (``bot/observability.py``) opens a ``RequestNote`` for each request in a
context variable; the bridge copies the context into its threads, and asyncio copies it into the
tasks a request starts, so every record emitted while handling the request carries its id. The
note is a mutable object shared by those copies: a listener that learns the sender (the platform
wiring, ``acting_as``) or sees a repeated delivery (``mark_duplicate``) tells the request itself.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


@dataclass
class RequestNote:
    request_id: str
    actor: str | None = None
    duplicate: bool = False
    """The platform delivered an event the inbox already had (a retry)."""


_note: ContextVar[RequestNote | None] = ContextVar("hrbot_request", default=None)
_actor: ContextVar[str | None] = ContextVar("hrbot_actor", default=None)


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is a plain token (it is logged and echoed, so no
    spaces, quotes or control characters), else a fresh one."""
    if header and _SANE_ID.match(header):
        return header
    return uuid.uuid4().hex


def mask(platform: str, user_id: str) -> str:
    """A platform user id shortened to its last four characters: enough to tell people apart
    in an incident, not enough to address them."""
    tail = user_id[-4:] if len(user_id) > 4 else ""
    return f"{platform}:****{tail}"


def current() -> RequestNote | None:
    return _note.get()


@contextmanager
def request(note: RequestNote) -> Iterator[RequestNote]:
    token = _note.set(note)
    try:
        yield note
    finally:
        _note.reset(token)


@contextmanager
def acting_as(platform: str, user_id: str) -> Iterator[None]:
    """Log records inside carry the masked sender; the request (if any) learns it too."""
    actor = mask(platform, user_id)
    note = _note.get()
    if note is not None and note.actor is None:
        note.actor = actor
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def mark_duplicate() -> None:
    """The request in hand delivered an event seen before (no-op outside a request: polling)."""
    note = _note.get()
    if note is not None:
        note.duplicate = True


class ContextFilter(logging.Filter):
    """Stamps ``request_id`` and ``actor`` on every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        note = _note.get()
        if note is not None and not hasattr(record, "request_id"):
            record.request_id = note.request_id
        actor = _actor.get() or (note.actor if note is not None else None)
        if actor is not None and not hasattr(record, "actor"):
            record.actor = actor
        return True
