"""Logging in and out of the dashboard.

The login form is protected against cross-site posting too (a "login CSRF" would log a victim
into an attacker's account): GET sets a random nonce cookie and the form carries its HMAC.
Failed attempts are counted by the core per e-mail and per client address; past the limit the
page answers 429 whatever the password.
"""

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.web.dashboard.auth import check_csrf, start_session, viewer_of
from adapters.web.dashboard.common import Runtime, render
from adapters.web.dashboard.runtime import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    Dashboard,
)
from core.domain.accounts import LoginRefused, TooManyAttempts
from core.services import accounts

REFUSED = "邮箱或密码错误 · Wrong e-mail or password"
TOO_MANY = (
    "登录失败次数过多，请 {minutes} 分钟后再试 · Too many failed logins: try again in {minutes} min"
)
STALE = "页面已过期，请重新登录 · The page expired: please log in again"


def session_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/dashboard") -> HTMLResponse:
        web = runtime(request)
        nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
        response = _login_form(web, nonce, _safe_next(next))
        _set_nonce(request, response, nonce)
        return response

    @router.post("/login", response_model=None)
    async def login(
        request: Request,
        email: Annotated[str, Form(max_length=254)] = "",
        password: Annotated[str, Form(max_length=256)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
        next: Annotated[str, Form(max_length=500)] = "/dashboard",
    ) -> HTMLResponse | RedirectResponse:
        web = runtime(request)
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        target = _safe_next(next)
        if not nonce or not hmac.compare_digest(csrf, _login_token(web, nonce)):
            fresh = secrets.token_urlsafe(16)
            response = _login_form(web, fresh, target, STALE, email, 403)
            _set_nonce(request, response, fresh)
            return response
        address = request.client.host if request.client else "unknown"
        try:
            account = await web.call(
                accounts.login, web.ctx, web.hasher, email, password, address, web.limits
            )
        except TooManyAttempts as error:
            message = TOO_MANY.format(minutes=error.params.get("minutes", 15))
            return _login_form(web, nonce, target, message, email, 429)
        except LoginRefused:
            return _login_form(web, nonce, target, REFUSED, email, 401)
        redirect = RedirectResponse(target, status_code=303)
        redirect.set_cookie(
            SESSION_COOKIE,
            start_session(web, account),
            max_age=SESSION_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        redirect.delete_cookie(LOGIN_COOKIE, path="/dashboard")
        return redirect

    @router.post("/logout")
    async def logout(request: Request) -> RedirectResponse:
        web = runtime(request)
        viewer = await viewer_of(request, web)
        if viewer is not None:
            form = await request.form()
            given = form.get("csrf")
            check_csrf(web, viewer, given if isinstance(given, str) else None)
        response = RedirectResponse("/dashboard/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return router


def _login_token(web: Dashboard, nonce: str) -> str:
    key = hashlib.sha256(f"login\x00{web.secret_key}".encode()).digest()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()[:40]


def _login_form(
    web: Dashboard,
    nonce: str,
    target: str,
    error: str | None = None,
    email: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        web,
        None,
        "login.html",
        status_code,
        error=error,
        email=email,
        next=target,
        csrf_login=_login_token(web, nonce),
        demo_accounts=web.demo_accounts if web.demo_mode else (),
        demo_password=web.demo_password,
    )


def _set_nonce(request: Request, response: HTMLResponse, nonce: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path="/dashboard",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _safe_next(target: str) -> str:
    """Only a path inside the dashboard: never an open redirect to another site."""
    if target.startswith("/dashboard") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard"
