"""Puts the dashboard into a FastAPI app: its pages, reports, imports, API and static files, and
the redirect to the login page for anyone not logged in."""

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles

from adapters.web.dashboard.api import api_router
from adapters.web.dashboard.auth import LoginRequired
from adapters.web.dashboard.away import away_router
from adapters.web.dashboard.common import Runtime
from adapters.web.dashboard.imports import imports_router
from adapters.web.dashboard.pages import pages_router
from adapters.web.dashboard.policy import policy_router
from adapters.web.dashboard.reporting import reports_router
from adapters.web.dashboard.templating import STATIC_DIR


def install_dashboard(app: FastAPI, runtime: Runtime) -> None:
    app.include_router(reports_router(runtime))
    app.include_router(imports_router(runtime))
    app.include_router(pages_router(runtime))
    app.include_router(away_router(runtime))
    app.include_router(policy_router(runtime))
    app.include_router(api_router(runtime))
    app.mount("/dashboard/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _: LoginRequired) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/dashboard/login?next={quote(target)}", status_code=303)
