"""The slack-bolt ``AsyncApp``, built by a factory (never at import time), with its guard.

One URL takes both the Events API and interactivity. In order, for each request:
bolt verifies the signature (401 on a missing, wrong or stale one; verification is never off);
``Known`` learns the installation (``auth.test``, once; 503 until it has); ``Guard`` checks
that the request comes from this workspace and this app and records an event's or a click's id
in the inbox before any work (a retry of a delivery already seen is acknowledged and dropped; a
database that is away makes it a 503); bolt acknowledges; the listeners do the work after the
ack (``adapters.slack.work``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt import BoltResponse
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.slack import shapes, translate
from adapters.slack.config import SlackConfig, SlackHandlers
from adapters.slack.files import FileFetcher
from adapters.slack.work import InFlight, SlackWork

log = logging.getLogger("hrbot.slack")

SUBSCRIBED_EVENTS = ("message", "app_mention", "file_shared")
"""Event types with their own listener (``message`` covers ``message.im`` and every subtype)."""


CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    aiohttp.ServerConnectionError,
    aiohttp.ServerDisconnectedError,
    aiohttp.ClientOSError,  # a connection reset by the far side
)


QUICK_RETRIES = 2
"""In-line retries of a reply after a reset, a timeout or a 500/503, before it goes to the
outbox: a person is waiting for it now, the outbox's backoff starts at 30 s."""


def async_client(config: SlackConfig) -> AsyncWebClient:
    """The client for replies: pointed at ``HRBOT_SLACK_API_URL``; quick retries of transient
    failures and one of a 429, because a person is waiting for this answer (pushes wait for
    the dispatcher instead)."""
    transient = [*CONNECTION_ERRORS, TimeoutError]
    return AsyncWebClient(
        token=config.bot_token,
        base_url=config.base_url,
        timeout=15,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=QUICK_RETRIES, error_types=transient),
            AsyncServerErrorRetryHandler(max_retry_count=QUICK_RETRIES),
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
        ],
    )


class Installation:
    """This app in this workspace: the team from ``auth.test``, the app id from ``bots.info``,
    each asked once, on the first request that needs it, and kept once known."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self.app_id: str | None = None
        self.authorized: AuthorizeResult | None = None

    async def learn(self) -> AuthorizeResult:
        """Who this token is (``auth.test``); raises while Slack cannot say."""
        if self.authorized is None:
            response = await self.client.auth_test()
            self.authorized = AuthorizeResult.from_auth_test_response(
                bot_token=self.client.token, auth_test_response=response
            )
        return self.authorized

    async def matches(self, context: AsyncBoltContext, body: dict[str, Any]) -> bool:
        team, app = translate.team_and_app(body)
        result = context.authorize_result
        if result is None or not result.team_id or team != result.team_id:
            return False
        expected = await self._app_id(result.bot_id)
        return expected is None or app == expected

    async def _app_id(self, bot_id: str | None) -> str | None:
        if self.app_id is None and bot_id:
            try:
                response = await self.client.bots_info(bot=bot_id)
                self.app_id = str(response["bot"]["app_id"])
            except (SlackApiError, KeyError, TypeError) as error:
                # Not cached: asked again next time. The signature already proves the app.
                log.warning("bots.info failed (%s): app id not checked", type(error).__name__)
        return self.app_id


class Known(AsyncMiddleware):
    """Runs before bolt's authorization: until ``auth.test`` has answered once, a request is
    answered 503, so Slack delivers the event again and a clicker sees the click did not take.

    bolt's own single-workspace authorization answers a failed ``auth.test`` with a 200 (the
    event is then dropped and never retried); learning it here and handing bolt the result
    through ``authorize`` leaves bolt nothing to fail on.
    """

    def __init__(self, installation: Installation) -> None:
        self.installation = installation

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        if self.installation.authorized is None and req.body.get("type") not in NO_AUTH:
            try:
                await self.installation.learn()
            except Exception as error:  # SlackApiError, a timeout, a reset: all "not yet"
                log.warning("auth.test failed (%s): answered 503", type(error).__name__)
                return BoltResponse(status=503, body="")
        return await next()

    @property
    def name(self) -> str:
        return "HrbotKnown"


NO_AUTH = ("url_verification", "ssl_check")
"""Requests bolt answers without knowing the installation."""


class Guard(AsyncMiddleware):
    """Who may reach the listeners, and each event once."""

    def __init__(
        self, handlers: SlackHandlers, inflight: InFlight, installation: Installation
    ) -> None:
        self.handlers = handlers
        self.inflight = inflight
        self.installation = installation

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        kind = req.body.get("type")
        if kind == "event_callback":
            try:
                admitted = await self._admit_event(req)
            except Exception as error:  # not recorded, so not taken: Slack must send it again
                log.warning("slack event not recorded (%s): answered 503", type(error).__name__)
                return BoltResponse(status=503, body="")
        elif kind == "block_actions":
            try:
                admitted = await self._admit_click(req)
            except Exception as error:  # not recorded: the clicker sees Slack's error, clicks again
                log.warning("slack click not recorded (%s): answered 503", type(error).__name__)
                return BoltResponse(status=503, body="")
        else:  # url_verification and ssl_check never get here (bolt answers them itself)
            await next()
            return resp
        if not admitted:
            return _ack()  # 200: Slack must not retry what we chose to drop
        self.inflight.begin()  # ended by the listener that takes the request
        await next()
        return resp

    async def _admit_event(self, req: AsyncBoltRequest) -> bool:
        """An event for the bot, from this installation, seen for the first time.

        The inbox insert happens before the ack: if the database is away it raises, and the
        request is answered 503 (not bolt's 500: nothing is broken here, the event was just
        not taken), so Slack delivers it again later instead of it being lost.
        """
        body = req.body
        if not translate.is_actionable(body):
            return False  # edits, joins, bot posts, channel chatter: nothing to do
        if not await self.installation.matches(req.context, body):
            log.warning("event from another workspace or app dropped: %s", body.get("team_id"))
            return False
        event_id = translate.delivery_id(body)
        # A repeat is a retry of a delivery already taken (perhaps still being answered).
        return event_id is not None and await self.handlers.first_delivery(event_id)

    async def _admit_click(self, req: AsyncBoltRequest) -> bool:
        """A click from this installation, seen for the first time (recorded in the inbox before
        the ack, as events are); a click from any other is refused and audited, and nobody is
        answered (a foreign workspace's user is not ours to talk to)."""
        body = req.body
        if await self.installation.matches(req.context, body):
            click_id = translate.click_delivery_id(body)
            # Without an id there is nothing to record it under; the core's state machines
            # still refuse a decision taken twice.
            return click_id is None or await self.handlers.first_delivery(click_id)
        click = translate.button_click(body)
        team, app = translate.team_and_app(body)
        self.inflight.spawn(
            self.handlers.refused(
                translate.sender_of(body),
                click.action if click else "block_actions",
                f"foreign installation: team {team} app {app}",
            )
        )
        return False

    @property
    def name(self) -> str:
        return "HrbotGuard"


def well_formed(headers: Mapping[str, str]) -> bool:
    """Whether the signature headers can be checked at all (bolt checks their values)."""
    stamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    return 0 < len(stamp) <= 12 and stamp.isascii() and stamp.isdigit() and signature.isascii()


def _ack() -> BoltResponse:
    return BoltResponse(status=200, body="")


@dataclass
class SlackBot:
    """The running adapter: mount ``handle`` at ``POST /slack/events``."""

    bolt: AsyncApp
    handler: AsyncSlackRequestHandler
    work: SlackWork

    async def handle(self, request: Request) -> Response:
        self._keep_connections()
        if not well_formed(request.headers):
            # bolt would answer these with 500 (it parses the timestamp with int(), compares
            # signatures with hmac.compare_digest, which refuses non-ASCII): a 401 is the truth.
            return JSONResponse({"error": "invalid request"}, status_code=401)
        if not shapes.readable(await request.body(), request.headers.get("content-type")):
            # Not in a shape Slack sends: bolt would fail on it (500) or admit it to no listener.
            return JSONResponse({"error": "malformed body"}, status_code=400)
        return await self.handler.handle(request)

    async def drain(self, timeout: float = 30.0) -> bool:
        """Wait for the work of acknowledged requests to finish (shutdown, tests)."""
        return await self.work.inflight.drain(timeout)

    async def close(self) -> None:
        await self.drain()
        await self.work.fetcher.close()
        if self.work.client.session is not None:
            await self.work.client.session.close()

    def _keep_connections(self) -> None:
        """One aiohttp session for every Web API call (slack_sdk opens and closes one per call
        otherwise: a new TLS connection for each reply). Made on the first request, because an
        aiohttp session belongs to the running event loop."""
        client = self.work.client
        if client.session is None or client.session.closed:
            client.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))


def build_slack_app(
    config: SlackConfig, handlers: SlackHandlers, client: AsyncWebClient | None = None
) -> SlackBot:
    """The app for one workspace; nothing connects until the first request."""
    client = client or async_client(config)
    installation = Installation(client)

    async def installation_of() -> AuthorizeResult:
        """bolt's ``authorize`` (it passes only the arguments named): the one installation,
        already learnt by ``Known``."""
        return await installation.learn()

    bolt = AsyncApp(
        name="hrbot",
        # Without the token: bolt takes the installation from ``authorize`` (and would warn
        # that a token beside it is ignored); replies go through ``client`` itself.
        client=AsyncWebClient(base_url=client.base_url, timeout=client.timeout),
        signing_secret=config.signing_secret,
        request_verification_enabled=True,
        process_before_response=False,  # ack first, work after (Slack waits 3 s at most)
        # No workflow functions, no AI-assistant threads: two middlewares fewer per request.
        attaching_function_token_enabled=False,
        attaching_conversation_kwargs_enabled=False,
        logger=logging.getLogger("hrbot.slack.bolt"),
        before_authorize=Known(installation),
        authorize=installation_of,
    )
    work = SlackWork(config, handlers, client, FileFetcher(config, client))
    bolt.use(Guard(handlers, work.inflight, installation))
    for event_type in SUBSCRIBED_EVENTS:
        bolt.event(event_type)(work.on_event)
    # Any other type someone subscribes to later still gets a 200, so Slack does not retry it.
    bolt.event(re.compile(".*"))(work.on_other)
    bolt.block_action(re.compile(".*"))(work.on_action)
    return SlackBot(bolt, AsyncSlackRequestHandler(bolt), work)
