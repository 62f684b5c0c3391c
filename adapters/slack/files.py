"""Fetching the bytes of files people send the bot, within the upload limit.

Order matters: the size Slack states in the event is checked first (a 30 MB file costs no
request at all), then ``files.info`` gives the authoritative size and download URL, then
``url_private_download`` is streamed with the bot token and cut off one byte past the limit.
Without the ``files:read`` scope Slack answers the download with its HTML login page and status
200: that is recognised and reported as a configuration error, never stored as a document.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackConfig
from adapters.slack.errors import SlackConfigurationError
from core.chat import Attachment
from core.domain.documents import size_allowed

log = logging.getLogger("hrbot.slack")

_HTML_STARTS = (b"<!doctype html", b"<html", b"<!--", b"<head")
_LOGIN_PAGE = (
    "Slack sent its HTML login page instead of a file: "
    "give the app the files:read scope and reinstall it"
)


@dataclass(frozen=True)
class Fetched:
    """An attachment with its bytes, or without them and why (``too_large``, ``unavailable``,
    ``misconfigured``); the conversation tells the person, nothing is stored."""

    attachment: Attachment
    problem: str | None = None


class FileFetcher:
    def __init__(
        self, config: SlackConfig, client: AsyncWebClient, http: httpx.AsyncClient | None = None
    ) -> None:
        self.config = config
        self.client = client
        self.http = http or httpx.AsyncClient(timeout=30.0, follow_redirects=False)
        self.misconfigured = 0
        """How many downloads met a login page: operators and tests read it."""

    async def fetch(self, attachment: Attachment) -> Fetched:
        limit = self.config.max_upload_bytes
        if not size_allowed(attachment.size, limit):
            return Fetched(attachment, "too_large")  # stated in the event: no request made
        try:
            info = await self._info(attachment.ref)
        except SlackApiError as error:
            log.warning("files.info %s failed: %s", attachment.ref, error.response.get("error"))
            return Fetched(attachment, "unavailable")
        described = _described(attachment, info)
        if not size_allowed(described.size, limit):
            return Fetched(described, "too_large")
        url = str(info.get("url_private_download") or info.get("url_private") or "")
        if urlsplit(url).hostname not in self.config.file_hosts:
            log.warning("file %s is not on a Slack host; not sending the token there", url[:80])
            return Fetched(described, "unavailable")
        try:
            content = await self._download(url, limit)
        except SlackConfigurationError as error:
            self.misconfigured += 1
            log.error("Slack configuration error: %s", error)
            return Fetched(described, "misconfigured")
        except httpx.HTTPError as error:
            log.warning("download of %s failed: %s", attachment.ref, type(error).__name__)
            return Fetched(described, "unavailable")
        if content is None:
            return Fetched(described, "too_large")
        return Fetched(replace(described, content=content, size=len(content)))

    async def _info(self, file_id: str) -> dict[str, Any]:
        response = await self.client.files_info(file=file_id)
        file = response.get("file")
        return file if isinstance(file, dict) else {}

    async def _download(self, url: str, limit: int) -> bytes | None:
        """The file's bytes, or None past ``limit`` (reading stops there)."""
        headers = {"Authorization": f"Bearer {self.config.bot_token}"}
        async with self.http.stream("GET", url, headers=headers) as response:
            if response.status_code in (301, 302, 303, 307, 308):
                raise SlackConfigurationError(
                    "Slack redirected a file download (to its login page): "
                    "give the app the files:read scope and reinstall it"
                )
            response.raise_for_status()
            if _is_html(response.headers.get("content-type", ""), b""):
                raise SlackConfigurationError(_LOGIN_PAGE)
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received.extend(chunk)
                if len(received) > limit:
                    return None
        content = bytes(received)
        if _is_html("", content):  # a login page sent as application/octet-stream
            raise SlackConfigurationError(_LOGIN_PAGE)
        return content

    async def close(self) -> None:
        await self.http.aclose()


def _described(attachment: Attachment, info: dict[str, Any]) -> Attachment:
    size = info.get("size")
    return replace(
        attachment,
        filename=str(info.get("name") or attachment.filename or info.get("title") or ""),
        content_type=info.get("mimetype") or attachment.content_type,
        size=size if isinstance(size, int) else attachment.size,
    )


def _is_html(content_type: str, content: bytes) -> bool:
    if content_type.split(";", 1)[0].strip().lower() == "text/html":
        return True
    return content[:64].lstrip().lower().startswith(_HTML_STARTS)
