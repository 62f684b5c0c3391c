"""What the Slack adapter is given at start-up: its settings, and the bot's handlers.

The adapter never imports ``bot``: the conversation, the inbox and the audit reach it as async
callables the composition root builds (each one wraps a synchronous core call in the bridge).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from core.chat import Attachment, ButtonClick, IncomingMessage, OutgoingMessage
from core.domain.documents import MAX_UPLOAD_BYTES

DEFAULT_API_URL = "https://slack.com/api/"
SLACK_FILE_HOSTS = frozenset({"files.slack.com"})
"""Where Slack serves private files; the bot token is never sent anywhere else."""


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str
    signing_secret: str
    api_url: str = DEFAULT_API_URL
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_concurrent_work: int = 4
    """Conversations handled at once after the ack. Kept below the bridge's thread pool (8) so
    the inbox insert that precedes every ack always finds a free thread under load."""

    def __post_init__(self) -> None:
        # Request verification is never off: without a secret there is nothing to verify with.
        if not self.bot_token or not self.signing_secret:
            raise ValueError("Slack needs both a bot token and a signing secret")
        if self.max_concurrent_work < 1:
            raise ValueError("max_concurrent_work must be at least 1")

    @property
    def base_url(self) -> str:
        """The API base as slack_sdk's ``base_url`` wants it: with a trailing slash."""
        return self.api_url if self.api_url.endswith("/") else self.api_url + "/"

    @property
    def file_hosts(self) -> frozenset[str]:
        """Hosts a file may be downloaded from with the bot token: Slack's, or the configured
        API host (a local fake in tests, a proxy in front of Slack in some companies)."""
        host = urlsplit(self.base_url).hostname
        return SLACK_FILE_HOSTS | ({host} if host else set())


MessageHandler = Callable[[IncomingMessage], Awaitable[Sequence[OutgoingMessage]]]
ClickHandler = Callable[[ButtonClick], Awaitable[Sequence[OutgoingMessage]]]
FileRefusal = Callable[[IncomingMessage, Attachment, str], Awaitable[Sequence[OutgoingMessage]]]


@dataclass(frozen=True)
class SlackHandlers:
    """The bot's side of the adapter, every call async."""

    on_message: MessageHandler
    on_click: ClickHandler
    first_delivery: Callable[[str], Awaitable[bool]]
    """Record a delivery id in the inbox; True the first time only (insert-or-ignore)."""
    refused: Callable[[str, str, str], Awaitable[None]]
    """Audit a refusal the adapter decides itself: ``(slack user id, action, reason)``."""
    file_refused: FileRefusal
    """What to tell the sender of a file not fetched: ``too_large`` (checked before any
    download), ``unavailable`` or ``misconfigured`` (the app lacks ``files:read``)."""
    ephemeral_keys: frozenset[str] = field(default_factory=frozenset)
    """Reply keys shown only to the clicker (refusals), as ephemeral messages."""
    unsent: Callable[[str, Sequence[OutgoingMessage]], Awaitable[None]] | None = None
    """Replies Slack would not take even after the client's retries, for ``(slack user id)``:
    handed to the outbox, which retries them later (the event was acknowledged: Slack will
    not send it again). Without it they are logged and lost."""
    apology: Callable[[str], Awaitable[list[OutgoingMessage]]] | None = None
    """What to tell ``(slack user id)`` when their message or click failed on our side: that
    it may not have gone through. Without it they are told nothing."""
