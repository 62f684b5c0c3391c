"""Pushes to Slack for the outbox: a direct message per notice, later steps edit the same card.

The outbox dispatcher is synchronous and runs in a worker thread (``bot.worker`` calls it through
the bridge), so this channel uses slack_sdk's synchronous ``WebClient``: no event loop to share,
and each call blocks only its own worker thread. It deliberately has no rate-limit retry handler:
a 429 becomes ``DeliveryFailed(retry_after=…)`` and the dispatcher reschedules the notice no
sooner than Slack asked, instead of a worker thread sleeping through ``Retry-After``.

The external id of a message is ``channel:ts``, which is all ``chat.update`` needs later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import fallback_text, message_blocks
from adapters.slack.config import SlackConfig
from adapters.slack.errors import UNREACHABLE, delivery_failure, error_code
from core.chat import Address, OutgoingMessage
from core.ports import DeliveryFailed

log = logging.getLogger("hrbot.slack")

UNUSABLE_FOR = 3600.0
"""Seconds an address Slack refused stays refused here before Slack is asked again."""
# A card that can no longer be edited is sent anew rather than lost.
_NOT_EDITABLE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class SlackChannel:
    """``Channel`` and ``UpdatableChannel`` over the Slack Web API."""

    def __init__(
        self,
        config: SlackConfig,
        client: WebClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client or WebClient(
            token=config.bot_token, base_url=config.base_url, timeout=15
        )
        self._clock = clock
        self._lock = threading.Lock()
        self._dm: dict[str, str] = {}
        self._unusable: dict[str, float] = {}

    def send(self, address: Address, message: OutgoingMessage) -> str:
        """Post ``message`` in a direct message with ``address.target``; ``channel:ts``."""
        self._refuse_if_unusable(address.target)
        try:
            channel = self._open(address.target)
            response = self.client.chat_postMessage(
                channel=channel,
                text=fallback_text(message),
                blocks=message_blocks(message),
                unfurl_links=False,
                unfurl_media=False,
            )
            for file in message.files:
                self.client.files_upload_v2(
                    channel=channel,
                    content=file.content,
                    filename=file.filename,
                    title=file.filename,
                )
        except Exception as error:
            raise self._failure(address.target, error) from error
        return f"{response['channel']}:{response['ts']}"

    def update(self, address: Address, message_id: str, message: OutgoingMessage) -> str:
        """Edit the card sent earlier as ``message_id``; send a new one if it cannot be edited."""
        channel, _, ts = message_id.partition(":")
        if not channel or not ts:
            return self.send(address, message)
        try:
            self.client.chat_update(
                channel=channel, ts=ts, text=fallback_text(message), blocks=message_blocks(message)
            )
        except SlackApiError as error:
            if error_code(error) in _NOT_EDITABLE:
                return self.send(address, message)
            raise self._failure(address.target, error) from error
        except Exception as error:
            raise self._failure(address.target, error) from error
        return f"{channel}:{ts}"

    def _open(self, user_id: str) -> str:
        """The direct-message channel with ``user_id`` (``conversations.open``, cached)."""
        with self._lock:
            known = self._dm.get(user_id)
        if known:
            return known
        response = self.client.conversations_open(users=user_id)
        channel = str(response["channel"]["id"])
        with self._lock:
            self._dm[user_id] = channel
        return channel

    def _refuse_if_unusable(self, user_id: str) -> None:
        with self._lock:
            until = self._unusable.get(user_id)
        if until is not None and until > self._clock():
            raise DeliveryFailed("Slack refused this person recently", permanent=True)

    def _failure(self, user_id: str, error: Exception) -> DeliveryFailed:
        failure = delivery_failure(error)
        if isinstance(error, SlackApiError) and error_code(error) in UNREACHABLE:
            # Remember for a while, so the next notices go straight to e-mail.
            with self._lock:
                self._unusable[user_id] = self._clock() + UNUSABLE_FOR
                self._dm.pop(user_id, None)
        log.warning("slack delivery to %s failed: %s", user_id, failure)
        return failure
