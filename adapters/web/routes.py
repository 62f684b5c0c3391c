"""The web chat's HTTP face: the page, its JSON API and its event stream, under ``/chat``.

Only demo mode opens it (until the dashboard issue brings accounts): the visitor picks one of the
organisation's people and plays them, the choice kept in a signed cookie. Replies to the user's
own message come back in the POST's response; pushes (and the user's other tabs) arrive on the
server-sent event stream, which polls the database so any number of web processes can serve it.

No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations at
definition time, and the ``Annotated`` dependencies are local to ``chat_router``.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.staticfiles import StaticFiles

from adapters.web import runtime as rt
from adapters.web.actor import note_actor
from adapters.web.ids import cursor
from adapters.web.page import STATIC_DIR, forbidden_page, page
from adapters.web.runtime import COOKIE, COOKIE_MAX_AGE, LINK_MAX_AGE, WebChat
from adapters.web.uploads import FormRefused, read_chat_form
from core.domain.errors import NotFound, PermissionDenied
from core.services import webchat
from core.services.webchat import Person

NOT_DEMO = (
    "网页聊天目前只在演示模式（HRBOT_DEMO_MODE=true）下开放；账号登录将随管理后台提供。 · "
    "The web chat is open only in demo mode (HRBOT_DEMO_MODE=true) until accounts arrive "
    "with the dashboard."
)
CHOOSE_FIRST = "请先选择身份 · Choose who you are first"
CSRF_HEADER = "x-hrbot-chat"
KEEP_ALIVE_SECONDS = 10.0


class PersonaIn(BaseModel):
    employee_no: str = Field(max_length=32)


class ClickIn(BaseModel):
    token: str = Field(min_length=1, max_length=64)
    action: str = Field("", max_length=64)


def static_files() -> StaticFiles:
    """The page's own scripts and styles, for ``/chat/static`` (never the documents directory)."""
    return StaticFiles(directory=STATIC_DIR)


def chat_router(runtime: Callable[[Request], WebChat]) -> APIRouter:
    """``runtime`` gives the request's ``WebChat`` (built by the composition root at start-up)."""
    router = APIRouter(prefix="/chat", include_in_schema=False)

    def demo(request: Request) -> WebChat:
        web = runtime(request)
        if not web.demo_mode:
            raise HTTPException(403, NOT_DEMO)
        return web

    async def who(request: Request, web: Annotated[WebChat, Depends(demo)]) -> Person:
        found = await _cookie_person(request, web)
        if found is None:
            raise HTTPException(401, CHOOSE_FIRST)
        note_actor(request, f"web:{found.employee_id}")
        return found

    def posted(request: Request) -> None:
        # A cross-site form cannot set a custom header; SameSite=Lax is the first line.
        if request.headers.get(CSRF_HEADER) != "1":
            raise HTTPException(403, "missing X-Hrbot-Chat header")

    Web = Annotated[WebChat, Depends(demo)]
    Who = Annotated[Person, Depends(who)]

    @router.get("", response_class=HTMLResponse)
    async def chat_page(request: Request) -> HTMLResponse:
        if not runtime(request).demo_mode:
            return HTMLResponse(forbidden_page(NOT_DEMO), status_code=403)
        return HTMLResponse(page(), headers={"Cache-Control": "no-store"})

    @router.get("/api/session")
    async def session(request: Request, web: Web) -> dict[str, Any]:
        me = await _cookie_person(request, web)
        people = await web.call(webchat.people, web.ctx)
        return {
            "demo": True,
            "me": rt.person_view(me) if me else None,
            "people": [rt.person_view(p) for p in people],
            "max_upload_mb": web.max_upload_bytes // (1024 * 1024),
            "default_locale": web.default_locale,
        }

    @router.post("/api/persona", dependencies=[Depends(posted)])
    async def choose(body: PersonaIn, web: Web) -> JSONResponse:
        chosen = await web.call(webchat.person, web.ctx, body.employee_no)
        if chosen is None:
            raise HTTPException(404, "没有这个人 · No such person")
        response = JSONResponse({"me": rt.person_view(chosen)})
        response.set_cookie(
            COOKIE,
            web.cookies().sign(chosen.employee_no),
            max_age=COOKIE_MAX_AGE,
            path="/chat",
            httponly=True,
            samesite="lax",
        )
        return response

    @router.get("/api/history")
    async def history(web: Web, me: Who) -> dict[str, Any]:
        messages = await web.call(webchat.history, web.ctx, me.employee_id)
        return {
            "me": rt.person_view(me),
            "messages": [rt.view(web, me, m) for m in messages],
            "last_id": messages[-1].id if messages else 0,
        }

    @router.post("/api/message", dependencies=[Depends(posted)])
    async def message(request: Request, web: Web, me: Who) -> JSONResponse:
        try:
            form = await read_chat_form(
                request.headers.get("content-type"),
                request.headers.get("content-length"),
                request.stream(),
                web.max_upload_bytes,
            )
        except FormRefused as refused:
            body = {"detail": refused.detail, "error": refused.code, **refused.extra}
            return JSONResponse(body, status_code=refused.status, headers={"Connection": "close"})
        if not form.text.strip() and not form.files:
            raise HTTPException(400, "空消息 · Nothing to send")
        said = await web.call(rt.take_message, web, me, form)
        return JSONResponse({"messages": [rt.view(web, me, s.message, s.unstored) for s in said]})

    @router.post("/api/click", dependencies=[Depends(posted)])
    async def click(body: ClickIn, web: Web, me: Who) -> dict[str, Any]:
        said = await web.call(rt.take_click, web, me, body.token, body.action)
        return {"messages": [rt.view(web, me, s.message, s.unstored) for s in said]}

    @router.get("/api/events")
    async def events(request: Request, web: Web, me: Who, after: int = 0) -> StreamingResponse:
        resume = request.headers.get("last-event-id", "")
        start = cursor(int(resume) if resume.isdigit() else after)
        return StreamingResponse(
            _stream(request, web, me, start),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @router.get("/api/files/{token}")
    async def download(token: str, web: Web, me: Who) -> Response:
        value = web.links().unsign(token, LINK_MAX_AGE) or ""
        document_id, _, owner = value.partition(":")
        if not document_id.isdigit() or owner != str(me.employee_id):
            raise HTTPException(403, "链接无效或已过期 · This link is invalid or has expired")
        try:
            document, content = await web.call(rt.read_file, web, me, int(document_id))
        except PermissionDenied:
            raise HTTPException(403, "无权查看 · Not yours to see") from None
        except NotFound:
            raise HTTPException(404, "文件不存在 · No such file") from None
        return Response(
            content,
            media_type=document.content_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return router


async def _cookie_person(request: Request, web: WebChat) -> Person | None:
    token = request.cookies.get(COOKIE)
    employee_no = web.cookies().unsign(token, COOKIE_MAX_AGE) if token else None
    if not employee_no:
        return None
    return await web.call(webchat.person, web.ctx, employee_no)


async def _stream(request: Request, web: WebChat, me: Person, after: int) -> AsyncIterator[str]:
    """Server-sent events: every new message of this person, then reconnect after a while."""
    yield "retry: 1000\n\n"
    started = quiet_since = time.monotonic()
    while time.monotonic() - started < web.stream_seconds:
        if await request.is_disconnected():
            return
        messages = await web.call(webchat.messages_after, web.ctx, me.employee_id, after)
        for found in messages:
            after = found.id
            data = json.dumps(rt.view(web, me, found), ensure_ascii=False)
            yield f"id: {found.id}\nevent: message\ndata: {data}\n\n"
        now = time.monotonic()
        if messages:
            quiet_since = now
        elif now - quiet_since >= KEEP_ALIVE_SECONDS:
            quiet_since = now
            yield ": keep-alive\n\n"  # proxies close connections that stay silent
        await asyncio.sleep(web.poll_seconds)
