"""A small synchronous Bot API client (httpx) for the outbox channel and the command line.

The outbox dispatcher is synchronous and runs in a worker thread (``hrbot worker`` has no event
loop of its own to lend python-telegram-bot), so pushes and ``set-webhook`` call the Bot API
directly with JSON bodies; the interactive side uses python-telegram-bot's ``Application``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from adapters.telegram.config import TelegramConfig

_UNREACHABLE_MARKERS = (
    "bot was blocked",
    "chat not found",
    "user is deactivated",
    "bot can't initiate conversation",
    "bot was kicked",
)


class BotApiError(Exception):
    """A Bot API call failed: the HTTP status (0 when no answer came) and Telegram's words."""

    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after

    @property
    def unreachable(self) -> bool:
        """The person cannot be reached on Telegram at all: retrying will not help."""
        lowered = self.description.lower()
        return self.status == 403 or any(marker in lowered for marker in _UNREACHABLE_MARKERS)

    @property
    def not_modified(self) -> bool:
        return "message is not modified" in self.description.lower()

    @property
    def not_editable(self) -> bool:
        lowered = self.description.lower()
        return "message to edit not found" in lowered or "message can't be edited" in lowered


class BotApi:
    def __init__(
        self, config: TelegramConfig, client: httpx.Client | None = None, timeout: float = 15.0
    ) -> None:
        self.config = config
        self.client = client or httpx.Client(timeout=timeout)

    def call(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        """POST one method; returns Telegram's ``result`` or raises ``BotApiError``."""
        url = self.config.method_url(method)
        try:
            if files:  # multipart: nested values travel as JSON strings, as the Bot API wants
                form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
                response = self.client.post(url, data=form, files=files)
            else:
                response = self.client.post(url, json=params)
        except httpx.HTTPError as error:
            raise BotApiError(0, self._hide_token(f"{type(error).__name__}: {error}")) from None
        return self._result(response)

    def close(self) -> None:
        self.client.close()

    def _result(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and body.get("ok"):
            return body.get("result")
        parameters = body.get("parameters") or {}
        retry_after = parameters.get("retry_after") or response.headers.get("Retry-After")
        description = str(body.get("description") or response.reason_phrase)
        raise BotApiError(
            response.status_code,
            self._hide_token(description),
            float(retry_after) if retry_after is not None else None,
        )

    def _hide_token(self, text: str) -> str:
        # Bot API URLs carry the token: never let it reach a log line or an audit row.
        return text.replace(self.config.token, "<token>") if self.config.token else text
