"""The channel-neutral chat vocabulary every adapter translates to and from.

Slack, Telegram, the web chat, e-mail and SMS all become these few types, so the conversation is
written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Platform(StrEnum):
    SLACK = "slack"
    TELEGRAM = "telegram"
    WEB = "web"
    EMAIL = "email"
    SMS = "sms"
    RECORDING = "recording"
    """In-memory channel used by ``hrbot demo`` and tests."""


@dataclass(frozen=True)
class Address:
    """Where a message goes: a platform and the recipient's id there (user id, e-mail, phone)."""

    platform: Platform
    target: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str | None
    size: int | None
    ref: str
    """Platform handle to fetch the bytes (Slack file id, Telegram file_id, web upload id)."""
    content: bytes | None = None
    """The bytes, once the adapter has downloaded them (within the size limit)."""


@dataclass(frozen=True)
class IncomingMessage:
    sender: Address
    text: str
    attachments: tuple[Attachment, ...] = ()
    locale_hint: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class ButtonClick:
    sender: Address
    action: str
    token: str
    """Short opaque token the server resolves; never an id the client could edit."""
    message_id: str | None = None


@dataclass(frozen=True)
class OutgoingButton:
    label: str
    action: str
    token: str
    style: str = "default"
    confirm: str | None = None


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    text: str
    buttons: tuple[OutgoingButton, ...] = ()
    files: tuple[OutgoingFile, ...] = ()
    key: str | None = None
    """The message key it was rendered from, so tests can assert on keys, not wording."""
    subject: str | None = None
    """Subject line for e-mail."""
    locale: str | None = None
    """The language the text was rendered in (``zh-CN`` or ``en``)."""
    params: dict[str, object] = field(default_factory=dict)
