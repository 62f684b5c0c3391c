"""What the Telegram adapter needs to know, as plain values: the bot decides them from settings.

Adapters never import ``bot``; ``bot.platforms.telegram`` builds a ``TelegramConfig`` from
``HRBOT_TELEGRAM_*`` and hands it in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""Telegram lets bots download at most 20 MB through the cloud Bot API."""
ALLOWED_UPDATES = ("message", "callback_query")
"""Update types the bot asks for: everything else is never sent, so never has to be filtered."""
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramConfigError(ValueError):
    """The settings cannot run Telegram as asked (e.g. webhook mode without a secret)."""


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    api_url: str = "https://api.telegram.org/bot"
    """The Bot API base as python-telegram-bot's ``base_url`` takes it: the token is appended."""
    webhook_secret: str | None = None
    mode: Literal["webhook", "polling"] = "webhook"
    max_upload_bytes: int = TELEGRAM_DOWNLOAD_LIMIT
    poll_timeout: int = 25
    """Seconds a ``getUpdates`` long poll may wait on Telegram's side."""
    concurrent_updates: int = 16
    """Updates handled at once (different chats; one chat's updates always run in order)."""
    public_url: str | None = None
    """Where users reach this server (for web upload links); else learned from the webhook."""

    @property
    def file_url(self) -> str:
        return file_base_url(self.api_url)

    @property
    def download_limit(self) -> int:
        """The smaller of ``HRBOT_MAX_UPLOAD_MB`` and what Telegram lets a bot download."""
        return min(self.max_upload_bytes, TELEGRAM_DOWNLOAD_LIMIT)

    def method_url(self, method: str) -> str:
        return f"{self.api_url}{self.token}/{method}"

    def check(self) -> None:
        """Refuse to start in a mode the settings cannot support safely."""
        if not self.token:
            raise TelegramConfigError("HRBOT_TELEGRAM_BOT_TOKEN is empty")
        if self.mode == "webhook":
            if not self.webhook_secret:
                raise TelegramConfigError(
                    "HRBOT_TELEGRAM_WEBHOOK_SECRET must be set in webhook mode "
                    "(or set HRBOT_TELEGRAM_MODE=polling)"
                )
            if not _SECRET.match(self.webhook_secret):
                raise TelegramConfigError(
                    "HRBOT_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters: A-Z, a-z, 0-9, _, -"
                )


def file_base_url(api_url: str) -> str:
    """``https://host/bot`` → ``https://host/file/bot``: files come from the same host."""
    if api_url.endswith("/bot"):
        return api_url[: -len("/bot")] + "/file/bot"
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/file/bot"
