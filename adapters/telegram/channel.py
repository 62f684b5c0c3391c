"""The outbox's Telegram channel: push a notice to a linked chat, later edit the same card.

External ids are ``chat_id:message_id``. A 429 becomes ``DeliveryFailed(retry_after=…)`` so the
dispatcher waits as long as Telegram asked; "bot was blocked by the user", "chat not found" and
other refusals are permanent, so the dispatcher falls back to e-mail instead of retrying.
"""

from __future__ import annotations

from typing import Any

from adapters.telegram.api import BotApi, BotApiError
from adapters.telegram.translate import (
    MAX_CAPTION,
    external_id,
    keyboard,
    parse_external_id,
    split_text,
    to_telegram,
)
from core.chat import Address, OutgoingMessage
from core.ports import DeliveryFailed

_NO_KEYBOARD: dict[str, Any] = {"inline_keyboard": []}


class TelegramChannel:
    """``core.ports.UpdatableChannel`` over the Bot API (synchronous, thread-safe)."""

    def __init__(self, api: BotApi) -> None:
        self.api = api

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        try:
            return self._send(address.target, message)
        except BotApiError as error:
            raise _delivery_failed(error) from None

    def update(self, address: Address, message_id: str, message: OutgoingMessage) -> str | None:
        """Edit the card in place; a card Telegram will not edit any more is sent anew."""
        try:
            chat_id, mid = parse_external_id(message_id)
        except ValueError:
            return self.send(address, message)
        try:
            return self._edit(chat_id, mid, message) or message_id
        except BotApiError as error:
            if error.not_editable:
                return self.send(address, message)
            raise _delivery_failed(error) from None

    def close(self) -> None:
        self.api.close()

    def _send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        card: int | None = None
        for part in to_telegram(message):
            params: dict[str, Any] = {"chat_id": chat_id, "text": part.text}
            if part.markup is not None:
                params["reply_markup"] = part.markup.to_dict()
            card = self.api.call("sendMessage", params)["message_id"]
        for file in message.files:
            result = self.api.call(
                "sendDocument",
                {"chat_id": chat_id, "caption": file.filename[:MAX_CAPTION]},
                files={"document": (file.filename, file.content, file.content_type)},
            )
            card = card if card is not None else result["message_id"]
        return external_id(chat_id, card) if card is not None else None

    def _edit(self, chat_id: str, message_id: int, message: OutgoingMessage) -> str | None:
        markup = keyboard(message.buttons)
        target: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id}
        # An explicit empty keyboard removes spent buttons; a card is one message, one chunk.
        reply_markup = markup.to_dict() if markup else _NO_KEYBOARD
        text = (split_text(message.text) or ["·"])[0]
        try:
            self.api.call("editMessageText", target | {"text": text, "reply_markup": reply_markup})
        except BotApiError as error:
            if not error.not_modified:
                raise
            try:  # same words, maybe other buttons
                self.api.call("editMessageReplyMarkup", target | {"reply_markup": reply_markup})
            except BotApiError as again:
                if not again.not_modified:
                    raise
        return None


def _delivery_failed(error: BotApiError) -> DeliveryFailed:
    if error.status == 429:
        return DeliveryFailed(f"telegram: {error}", retry_after=error.retry_after or 1.0)
    permanent = error.unreachable or (400 <= error.status < 500)
    return DeliveryFailed(f"telegram: {error}", permanent=permanent)
