"""The web app's observability, installed by ``create_app``: a request id and an access line for
every request, webhook figures, and ``GET /metrics``.

The middleware is plain ASGI (it runs in the request's own task, so the context variables it
sets reach the handler, the tasks the handler starts and, through the bridge, the core's threads).
It times webhooks at the edge and classifies them by the answer: 2xx ``ok`` (``duplicate`` when
the platform wiring saw the inbox refuse a repeat), 401/403 ``bad_signature`` (signature, secret
token or chat session refused), 503 ``unavailable`` (starting or stopping), other 4xx
``malformed``, 5xx ``error``. ``core`` never sees any of it.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.telegram.config import WEBHOOK_PATH as TELEGRAM_PATH
from adapters.web.actor import actor_of
from bot import log_context
from bot.log_context import RequestNote
from bot.metrics import AppMetrics, WebMetrics
from bot.platforms.slack import EVENTS_PATH as SLACK_PATH

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy import Engine
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hrbot.http")
HEADER = "x-request-id"
WEB_CHAT_POSTS = frozenset({"/chat/api/message", "/chat/api/click"})
QUIET = ("/healthz", "/readyz", "/metrics", "/chat/static/", "/dashboard/static/")
"""Probes, scrapes and static files are logged at DEBUG: at INFO they would drown the rest."""


def install_observability(app: FastAPI) -> AppMetrics:
    """Add the middleware and ``GET /metrics``; the registry is ``app.state.metrics``."""
    metrics = AppMetrics(lambda: _engine(app))
    app.state.metrics = metrics
    app.add_middleware(ObserveRequests, metrics=metrics.web)

    async def scrape(request: Request) -> Response:
        if not _may_scrape(request):
            return Response(
                "metrics need Authorization: Bearer <HRBOT_METRICS_TOKEN>\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        # The database gauges run their queries here: off the event loop.
        body = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", scrape, methods=["GET"], include_in_schema=False)
    return metrics


def _may_scrape(request: Request) -> bool:
    """True without ``HRBOT_METRICS_TOKEN``; with it, only for a request that presents it."""
    services = getattr(request.app.state, "services", None)
    token = services.settings.metrics_token if services is not None else None
    if not token:
        return True
    presented = request.headers.get("authorization", "")
    return hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())


def _engine(app: FastAPI) -> Engine | None:
    services = getattr(app.state, "services", None)  # set by the lifespan
    return services.db.engine if services is not None else None


def platform_of(scope: Scope) -> str | None:
    """Which webhook a request is, if any: ``slack``, ``telegram`` or ``web`` (chat posts)."""
    path = scope.get("path", "")
    if path == SLACK_PATH:
        return "slack"
    if path == TELEGRAM_PATH:
        return "telegram"
    if scope.get("method") == "POST" and path in WEB_CHAT_POSTS:
        return "web"
    return None


def outcome_of(status: int, note: RequestNote) -> str:
    if status < 400:
        return "duplicate" if note.duplicate else "ok"
    if status in (401, 403):
        return "bad_signature"
    if status == 503:
        return "unavailable"
    return "error" if status >= 500 else "malformed"


class ObserveRequests:
    def __init__(self, app: ASGIApp, metrics: WebMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        note = RequestNote(log_context.request_id_from(Headers(scope=scope).get(HEADER)))
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = note.request_id
            await send(message)

        with log_context.request(note):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                # The dashboard and web chat name their signed-in actor in the request's state.
                note.actor = note.actor or actor_of(scope)
                self._record(scope, note, status, time.perf_counter() - started)

    def _record(self, scope: Scope, note: RequestNote, status: int, seconds: float) -> None:
        path = _path(scope)
        fields: dict[str, object] = {
            "method": scope.get("method", ""),
            "path": path,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        }
        platform = platform_of(scope)
        if platform is not None:
            outcome = outcome_of(status, note)
            self.metrics.observe(platform, outcome, seconds)
            fields |= {"platform": platform, "outcome": outcome}
        quiet = scope.get("path", "").startswith(QUIET)
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %d",
            fields["method"],
            path,
            status,
            extra=fields,
        )


def _path(scope: Scope) -> str:
    """The route's template when one matched (``/chat/api/files/{token}``: a signed link is a
    credential, not something to log), else the raw path. Never the query string."""
    route = scope.get("route")
    if isinstance(route, Route):
        return str(scope.get("root_path", "")) + route.path
    return str(scope.get("path", ""))
