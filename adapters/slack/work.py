"""What happens after the ack: fetch files, hand the message or click to the conversation,
post what it answers.

Turns of one person run one at a time, in arrival order (their chat session is read, changed
and written back by each turn, and two clicks of the same person at once must not both act on
the state they read). This holds within one process; the core's state machines stay the
authority across processes. At most ``max_concurrent_work`` turns run at once, leaving the
bridge's other threads to the inbox inserts that precede every ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import translate
from adapters.slack.blocks import fallback_text, message_blocks
from adapters.slack.config import SlackConfig, SlackHandlers
from adapters.slack.files import FileFetcher
from core.chat import Attachment, IncomingMessage, OutgoingMessage

log = logging.getLogger("hrbot.slack")


class InFlight:
    """Counts work started for acknowledged requests, so shutdown and tests can wait for it."""

    def __init__(self) -> None:
        self.count = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    def begin(self) -> None:
        self.count += 1

    def end(self) -> None:
        self.count -= 1

    def spawn(self, work: Awaitable[Any]) -> None:
        """Run ``work`` in the background, counted (the task is kept so it is not collected)."""
        self.begin()
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self.end()
        if not task.cancelled() and task.exception() is not None:
            log.error("slack background work failed", exc_info=task.exception())

    async def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is in flight; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        while self.count > 0:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True


class SlackWork:
    """The listeners' bodies: translate, hand to the conversation, render."""

    def __init__(
        self,
        config: SlackConfig,
        handlers: SlackHandlers,
        client: AsyncWebClient,
        fetcher: FileFetcher,
    ) -> None:
        self.handlers = handlers
        self.client = client
        self.fetcher = fetcher
        self.inflight = InFlight()
        self._slots = asyncio.Semaphore(config.max_concurrent_work)
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def on_event(self, body: dict[str, Any]) -> None:
        """A message, mention or shared file (the guard has recorded it and acknowledged)."""
        message = None
        try:
            message = translate.incoming_message(body)
            if message is not None:
                async with self._turn(message.sender.target):
                    await self._converse(body, message)
        except Exception:  # a failed turn must not kill the app; the person can say it again
            log.exception("slack event %s failed", translate.delivery_id(body))
            if message is not None:
                await self._apologise(message.sender.target, translate.reply_channel(body))
        finally:
            self.inflight.end()

    async def on_action(self, ack: Any, body: dict[str, Any]) -> None:
        """A button click: acknowledged first (Slack waits 3 s at most), then decided."""
        await ack()
        click = None
        try:
            click = translate.button_click(body)
            if click is not None:
                async with self._turn(click.sender.target):
                    async with self._slots:
                        replies = await self.handlers.on_click(click)
                    person = click.sender.target
                    channel = translate.click_channel(body) or await self._open_dm(person)
                    await self.post(channel, replies, person, clicked=True)
        except Exception:
            log.exception("slack click by %s failed", translate.sender_of(body))
            if click is not None:
                await self._apologise(click.sender.target, translate.click_channel(body))
        finally:
            self.inflight.end()

    async def on_other(self, body: dict[str, Any]) -> None:
        """Any other subscribed event: answered 200 so Slack does not retry it; nothing to do."""
        self.inflight.end()

    async def _converse(self, body: dict[str, Any], message: IncomingMessage) -> None:
        channel = translate.reply_channel(body) or await self._open_dm(message.sender.target)
        taken = await self._with_files(message)
        if taken is None:
            return
        kept, refusals = taken
        if refusals:
            await self.post(channel, refusals, message.sender.target)
        # A caption without its files is not a question: only files, or plain text, go on.
        if kept.attachments or (kept.text and not message.attachments):
            async with self._slots:
                replies = await self.handlers.on_message(kept)
            await self.post(channel, replies, message.sender.target)

    async def _with_files(
        self, message: IncomingMessage
    ) -> tuple[IncomingMessage, list[OutgoingMessage]] | None:
        """The message with the bytes of the files fetched, and what to say about the others.

        A file shared in a direct message arrives twice, as ``message``/``file_share`` and as
        ``file_shared``: whichever comes first takes each file (recorded in the inbox under
        its file id), and a message whose files were all taken already is dropped whole.
        """
        if not message.attachments:
            return message, []
        kept: list[Attachment] = []
        refusals: list[OutgoingMessage] = []
        taken = 0
        for attachment in message.attachments:
            if not await self.handlers.first_delivery(f"file:{attachment.ref}"):
                continue
            taken += 1
            fetched = await self.fetcher.fetch(attachment)
            if fetched.problem is None:
                kept.append(fetched.attachment)
                continue
            log.info("file %s not fetched: %s", attachment.ref, fetched.problem)
            said = await self.handlers.file_refused(message, fetched.attachment, fetched.problem)
            refusals.extend(said)
        if not taken:
            return None
        return replace(message, attachments=tuple(kept)), refusals

    async def post(
        self,
        channel: str,
        replies: Sequence[OutgoingMessage],
        person: str,
        clicked: bool = False,
    ) -> None:
        """Post the replies to ``person`` in order; refusals of a click only to the clicker
        (ephemeral). What Slack will not take, after the client's quick retries, goes to the
        outbox with everything after it, so the answers keep their order."""
        for index, reply in enumerate(replies):
            text, blocks = fallback_text(reply), message_blocks(reply)
            try:
                if clicked and reply.key in self.handlers.ephemeral_keys:
                    await self.client.chat_postEphemeral(
                        channel=channel, user=person, text=text, blocks=blocks
                    )
                    continue
                await self.client.chat_postMessage(
                    channel=channel, text=text, blocks=blocks, unfurl_links=False
                )
                for file in reply.files:
                    await self.client.files_upload_v2(
                        channel=channel, content=file.content, filename=file.filename
                    )
            except (TimeoutError, SlackApiError, aiohttp.ClientError) as error:
                problem = error.response.get("error") if isinstance(error, SlackApiError) else ""
                log.warning(
                    "slack reply %s failed: %s %s", reply.key, type(error).__name__, problem
                )
                # An ephemeral refusal only means something beside the button it refuses.
                rest = [r for r in replies[index:] if r.key not in self.handlers.ephemeral_keys]
                await self._hand_over(person, rest)
                return

    async def _apologise(self, person: str, channel: str | None) -> None:
        """Tell the person their message or click may not have gone through: without a word
        they would wait for an answer that never comes. Nothing here may raise."""
        if self.handlers.apology is None:
            return
        try:
            replies = await self.handlers.apology(person)
            await self.post(channel or await self._open_dm(person), replies, person)
        except Exception as error:
            log.warning("apology to slack user %s not sent: %s", person, type(error).__name__)

    async def _hand_over(self, person: str, replies: Sequence[OutgoingMessage]) -> None:
        if not replies:
            return
        if self.handlers.unsent is None:
            log.warning("%d slack replies to %s lost (no outbox)", len(replies), person)
            return
        await self.handlers.unsent(person, replies)

    async def _open_dm(self, user_id: str) -> str:
        response = await self.client.conversations_open(users=user_id)
        return str(response["channel"]["id"])

    @contextlib.asynccontextmanager
    async def _turn(self, user_id: str) -> AsyncIterator[None]:
        lock = self._turns.get(user_id)
        if lock is None:
            lock = self._turns[user_id] = asyncio.Lock()
        async with lock:
            yield
