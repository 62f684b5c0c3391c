"""The FastAPI app factory and its lifespan: health checks now; chat and webhooks mount here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from adapters.passwords import Argon2Hasher
from adapters.web.dashboard.mount import install_dashboard
from adapters.web.dashboard.runtime import Dashboard
from adapters.web.routes import chat_router, static_files
from adapters.web.runtime import WebChat
from bot import bridge
from bot.bootstrap import Services, build, build_router
from bot.conversation import Conversation
from bot.health import readiness
from bot.observability import install_observability
from bot.platforms.slack import mount_slack, slack_enabled
from bot.platforms.telegram import mount_telegram, telegram_enabled
from bot.settings import Settings
from bot.worker import Worker
from core.ports import PasswordHasher


def create_app(
    settings: Settings | None = None,
    run_worker: bool = True,
    password_hasher: PasswordHasher | None = None,
) -> FastAPI:
    """Build the app; nothing connects until the lifespan starts. ``password_hasher`` is for
    tests (a cheap argon2); production hashes with the library's recommended cost."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build(settings)
        app.state.services = services
        app.state.web_chat = _web_chat(services)
        app.state.dashboard = _dashboard(services, password_hasher or Argon2Hasher())
        slack = None
        if slack_enabled(services.settings):
            conversation = Conversation(services.ctx, services.settings.default_locale)
            slack = mount_slack(app, services, conversation)
        telegram = None
        if telegram_enabled(services.settings):
            conversation = Conversation(services.ctx, services.settings.default_locale)
            telegram = mount_telegram(app, services, conversation)
            await telegram.start()
        stop = asyncio.Event()
        background = None
        if run_worker:
            router = build_router(services.settings, services.ctx)
            worker = Worker(services, router, metrics=app.state.metrics.worker)
            background = asyncio.create_task(worker.run(stop))
        try:
            yield
        finally:
            stop.set()
            if background is not None:
                await background
            if slack is not None:
                await slack.close()  # answers to acknowledged events go out before the db closes
            if telegram is not None:
                await telegram.stop()  # finishes queued updates before the services close
            services.close()

    app = FastAPI(title="hrbot", version="0.1.0", lifespan=lifespan)
    app.state.run_worker = run_worker
    install_observability(app)  # request ids, access lines, webhook figures, GET /metrics
    app.include_router(chat_router(lambda request: request.app.state.web_chat))
    app.mount("/chat/static", static_files(), name="chat-static")
    install_dashboard(app, lambda request: request.app.state.dashboard)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        services: Services = request.app.state.services
        ready, details = await run_in_threadpool(readiness, services.db.engine)
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", **details},
            status_code=200 if ready else 503,
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return _INDEX

    return app


def _web_chat(services: Services) -> WebChat:
    """The web chat's run-time pieces: the conversation reaches it through the bridge."""
    settings = services.settings
    return WebChat(
        ctx=services.ctx,
        handler=Conversation(services.ctx, settings.default_locale),
        call=bridge.call,
        # Only demo mode signs anything yet; without it no key file is created for the chat.
        secret_key=settings.resolved_secret_key() if settings.demo_mode else "",
        demo_mode=settings.demo_mode,
        max_upload_bytes=services.ctx.rules.max_upload_bytes,
        default_locale=settings.default_locale,
    )


def _dashboard(services: Services, hasher: PasswordHasher) -> Dashboard:
    """The dashboard's run-time pieces; its wording for import reports comes from ``bot``."""
    from bot.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
    from bot.import_report import Texts

    settings = services.settings
    return Dashboard(
        ctx=services.ctx,
        call=bridge.call,
        secret_key=settings.resolved_secret_key(),
        hasher=hasher,
        uploads_dir=Path(settings.documents_dir).parent / "imports",
        demo_mode=settings.demo_mode,
        max_upload_bytes=services.ctx.rules.max_upload_bytes,
        import_texts=Texts,
        demo_accounts=DEMO_ACCOUNTS if settings.demo_mode else (),
        demo_password=DEMO_PASSWORD if settings.demo_mode else "",
    )


_INDEX = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>hrbot</title>
</head><body><h1>hrbot</h1><p>社保延迟缴纳防护助手 · keeps employees safe from late social
insurance payments.</p><ul><li><a href="/chat">/chat</a> web chat 网页聊天</li>
<li><a href="/dashboard">/dashboard</a> HR dashboard 管理后台</li>
<li><a href="/healthz">/healthz</a></li>
<li><a href="/readyz">/readyz</a></li><li><a href="/docs">/docs</a> (API)</li></ul></body></html>
"""
