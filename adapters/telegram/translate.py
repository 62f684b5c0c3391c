"""Telegram ⇄ ``core.chat``, as pure functions tested on real payloads.

In: text and commands (the conversation parses ``/status@bot`` itself), a document, a photo (its
largest size) and a callback query. Out: text in chunks Telegram accepts, with an inline keyboard
whose ``callback_data`` is the conversation's opaque token and nothing else, so a client can only
send back a token the server will resolve and check; never a claim id it could edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    Update,
    User,
)

from core.chat import (
    Address,
    Attachment,
    ButtonClick,
    IncomingMessage,
    OutgoingButton,
    OutgoingMessage,
    Platform,
)

MAX_CALLBACK_BYTES = 64
"""Telegram's limit for ``callback_data``."""
MAX_TEXT = 4096
MAX_CAPTION = 1024
CLICK_ACTION = "telegram.callback"
"""``ButtonClick.action`` for every press: the token alone says what the button does."""
_SHORT_LABEL = 14


@dataclass(frozen=True)
class TelegramText:
    """One ``sendMessage``: text and, on the last chunk of a message, its keyboard."""

    text: str
    markup: InlineKeyboardMarkup | None = None


def sender(user: User) -> Address:
    return Address(Platform.TELEGRAM, str(user.id))


def external_id(chat_id: int | str, message_id: int | str) -> str:
    """How a sent message is remembered (``chat_id:message_id``), to edit it later."""
    return f"{chat_id}:{message_id}"


def parse_external_id(value: str) -> tuple[str, int]:
    chat_id, _, message_id = value.rpartition(":")
    if not chat_id or not message_id.isdigit():
        raise ValueError(f"not a Telegram message id: {value!r}")
    return chat_id, int(message_id)


def to_core(update: Update) -> IncomingMessage | ButtonClick | None:
    """The neutral form of an update, or None for anything the conversation does not take."""
    if update.callback_query is not None:
        return click_of(update.callback_query)
    if update.message is not None:
        return message_of(update.message)
    return None


def message_of(message: Message) -> IncomingMessage | None:
    user = message.from_user
    if user is None or user.is_bot:
        return None
    attachment = attachment_of(message)
    text = message.text or message.caption or ""
    if attachment is None and not text.strip():
        return None  # stickers, locations, service messages: nothing to answer
    return IncomingMessage(
        sender=sender(user),
        text=text,
        attachments=(attachment,) if attachment else (),
        locale_hint=user.language_code,
        message_id=external_id(message.chat.id, message.message_id),
    )


def attachment_of(message: Message) -> Attachment | None:
    """The document or the largest photo, with the size Telegram states (checked before any
    download); the bytes come later, within the limit."""
    document = message.document
    if document is not None:
        return Attachment(
            filename=document.file_name or f"document_{document.file_unique_id}",
            content_type=document.mime_type,
            size=document.file_size,
            ref=document.file_id,
        )
    if message.photo:
        photo = largest_photo(message.photo)
        return Attachment(
            filename=f"photo_{photo.file_unique_id}.jpg",
            content_type="image/jpeg",
            size=photo.file_size,
            ref=photo.file_id,
        )
    return None


def largest_photo(sizes: Sequence[PhotoSize]) -> PhotoSize:
    return max(sizes, key=lambda p: (p.width * p.height, p.file_size or 0))


def click_of(query: CallbackQuery) -> ButtonClick:
    """A press: the token is passed on only if it could have come from us (≤ 64 bytes); an
    empty token is what the conversation calls an expired button."""
    data = query.data or ""
    token = data if len(data.encode()) <= MAX_CALLBACK_BYTES else ""
    message = query.message
    message_id = external_id(message.chat.id, message.message_id) if message else None
    return ButtonClick(sender(query.from_user), CLICK_ACTION, token, message_id)


def callback_data(token: str) -> str:
    """The token as ``callback_data``; a token Telegram would refuse is a bug, said loudly."""
    if not token or len(token.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"button token must be 1-{MAX_CALLBACK_BYTES} bytes: {token!r}")
    return token


def keyboard(buttons: Sequence[OutgoingButton]) -> InlineKeyboardMarkup | None:
    """One button a row, or two when every label is short (dates, yes/no)."""
    if not buttons:
        return None
    keys = [InlineKeyboardButton(b.label, callback_data=callback_data(b.token)) for b in buttons]
    width = 2 if all(len(b.label) <= _SHORT_LABEL for b in buttons) else 1
    return InlineKeyboardMarkup([keys[i : i + width] for i in range(0, len(keys), width)])


def to_telegram(message: OutgoingMessage) -> list[TelegramText]:
    """Text chunks within Telegram's 4,096 characters; the keyboard rides on the last one."""
    markup = keyboard(message.buttons)
    chunks = split_text(message.text) or (["·"] if markup else [])
    return [
        TelegramText(chunk, markup if index == len(chunks) - 1 else None)
        for index, chunk in enumerate(chunks)
    ]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at line breaks where possible, so a long answer stays readable."""
    text = text.strip()
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    if text:
        chunks.append(text)
    return chunks
