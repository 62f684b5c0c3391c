"""Pieces the dashboard's pages and API share: the viewer dependency, rendering, error pages.

No ``from __future__ import annotations``: FastAPI reads the dependencies' annotations at
definition time.
"""

import hashlib
from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from adapters.web.dashboard.auth import LoginRequired, Viewer, csrf_token, viewer_of
from adapters.web.dashboard.runtime import Dashboard
from adapters.web.dashboard.templating import STATIC_DIR, environment
from core.domain.errors import DomainError, IllegalTransition, NotFound, PermissionDenied

Runtime = Callable[[Request], Dashboard]

NOT_FOUND = "没有找到，或不在您的权限范围内 · Not found, or not yours to see"
DENIED = "您的角色无权执行此操作 · Your role may not do this"
NO_EMPLOYEE = (
    "此账号未关联员工档案，只能查看、不能处理 · This account has no employee record behind it: "
    "it may look, not act"
)


@cache
def asset_version() -> str:
    digest = hashlib.sha256()
    for asset in sorted(STATIC_DIR.iterdir()):
        digest.update(asset.read_bytes())
    return digest.hexdigest()[:12]


def page_viewer(runtime: Runtime) -> Callable[[Request], Any]:
    async def dependency(request: Request) -> Viewer:
        found = await viewer_of(request, runtime(request))
        if found is None:
            raise LoginRequired
        return found

    return dependency


def api_viewer(runtime: Runtime) -> Callable[[Request], Any]:
    async def dependency(request: Request) -> Viewer:
        found = await viewer_of(request, runtime(request))
        if found is None:
            raise HTTPException(
                401,
                "请先登录或提供 API 令牌 · Log in or send a bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return found

    return dependency


def render(
    web: Dashboard,
    viewer: Viewer | None,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    env = environment(web.ctx.rules.timezone.key)
    context.setdefault("flash", None)
    context.setdefault("flash_kind", "ok")
    context.setdefault("nav", "")
    body = env.get_template(template).render(
        viewer=viewer,
        csrf=csrf_token(web, viewer.session) if viewer and viewer.session else "",
        version=asset_version(),
        now=web.ctx.now(),
        **context,
    )
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
}


def error_page(web: Dashboard, viewer: Viewer | None, status: int, message: str) -> HTMLResponse:
    return render(web, viewer, "error.html", status, status=status, message=message)


def status_of_error(error: DomainError) -> tuple[int, str]:
    """How a refused use case answers over HTTP, with a message the person can act on."""
    if isinstance(error, NotFound):
        return 404, NOT_FOUND
    if isinstance(error, PermissionDenied):
        return 403, DENIED
    if isinstance(error, IllegalTransition):
        return 409, f"状态已变化，无法执行 · This is no longer possible: {error}"
    return 400, str(error)
