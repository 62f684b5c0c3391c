"""Who is asking: sessions in a signed cookie, bearer API tokens, CSRF tokens, and the viewer's
scope (the branches their role lets them see), resolved once per request.

The session cookie carries only ``account_id:nonce``, signed and time-stamped; the account is
read again on every request, so disabling it takes effect at once. Every form carries a CSRF
token derived from the session (an HMAC, nothing stored); JSON requests authenticated by the
cookie must send it in ``X-CSRF-Token``, while bearer-token requests need none (a browser never
adds an ``Authorization`` header on its own).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from adapters.web.actor import note_actor
from adapters.web.dashboard.runtime import SESSION_COOKIE, SESSION_MAX_AGE, Dashboard
from core.domain.accounts import IMPORTERS, Account, AccountRole
from core.services import accounts, dashboard

CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Viewer:
    account_id: int
    email: str
    role: AccountRole
    employee_id: int | None
    scope: frozenset[int] | None
    """Branch ids this viewer may see; None means every branch."""
    session: str
    """The signed cookie value (empty for a bearer token): the CSRF token is derived from it."""

    @property
    def may_import(self) -> bool:
        return self.role in IMPORTERS

    def sees(self, branch_id: int) -> bool:
        return self.scope is None or branch_id in self.scope


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the login page."""


def start_session(web: Dashboard, account: Account) -> str:
    return web.signer("session").sign(f"{account.id}:{secrets.token_urlsafe(8)}")


def csrf_token(web: Dashboard, session: str) -> str:
    key = hashlib.sha256(f"csrf\x00{web.secret_key}".encode()).digest()
    return hmac.new(key, session.encode(), hashlib.sha256).hexdigest()[:40]


def check_csrf(web: Dashboard, viewer: Viewer, given: str | None) -> None:
    if not viewer.session:
        return  # bearer token: not a browser session, nothing to forge
    if not given or not hmac.compare_digest(given, csrf_token(web, viewer.session)):
        raise HTTPException(
            403, "CSRF 校验失败，请刷新页面后重试 · CSRF check failed: reload and retry"
        )


async def viewer_of(request: Request, web: Dashboard) -> Viewer | None:
    """The logged-in viewer from the bearer token or the session cookie, else None."""
    header = request.headers.get("authorization", "")
    session = ""
    if header.lower().startswith("bearer "):
        found = await web.call(accounts.account_for_token, web.ctx, header[7:].strip())
    else:
        session = request.cookies.get(SESSION_COOKIE, "")
        value = web.signer("session").unsign(session, SESSION_MAX_AGE) if session else None
        account_id = (value or "").partition(":")[0]
        if not account_id.isdigit():
            return None
        found = await web.call(accounts.account, web.ctx, int(account_id))
    if found is None:
        return None
    note_actor(request, f"dashboard:{found.id}")
    return await _viewer(web, found, session)


async def _viewer(web: Dashboard, account: Account, session: str) -> Viewer:
    assert account.id is not None
    admin = account.role is AccountRole.ADMIN
    scope = await web.call(dashboard.scope_for, web.ctx, account.employee_id, admin)
    return Viewer(
        account_id=account.id,
        email=account.email,
        role=account.role,
        employee_id=account.employee_id,
        scope=None if scope is None else frozenset(scope),
        session=session,
    )
