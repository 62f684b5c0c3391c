"""The dashboard's HTML pages: login, overview, branch, alerts (with acknowledge and resolve),
claims and their documents. Reports and imports live in their own modules.

Every page asks the core with the viewer's scope, so another branch's data answers 404 whatever
id is typed into the address bar; every form carries the session's CSRF token.
"""

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.web.dashboard.auth import Viewer, check_csrf
from adapters.web.dashboard.common import (
    NO_EMPLOYEE,
    NOT_FOUND,
    Runtime,
    error_page,
    page_viewer,
    render,
    status_of_error,
)
from adapters.web.dashboard.runtime import DOCUMENT_LINK_MAX_AGE, Dashboard
from adapters.web.dashboard.sessions import session_router
from adapters.web.ids import names_a_row, page_number
from core.domain.contributions import DelayReason
from core.domain.errors import DomainError
from core.services import alerts, audit_trail, claims, dashboard

MESSAGES = {
    "acknowledged": (
        "已确认告警，升级暂停至预计解决日 · Acknowledged: escalation paused until the fix date"
    ),
    "resolved": "告警已解决 · Alert resolved",
}


def pages_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/dashboard", include_in_schema=False)
    router.include_router(session_router(runtime))
    Who = Annotated[Viewer, Depends(page_viewer(runtime))]

    @router.get("", response_class=HTMLResponse)
    async def overview(
        request: Request, viewer: Who, region: str = "", progress: str = ""
    ) -> HTMLResponse:
        web = runtime(request)
        data = await web.call(
            dashboard.overview, web.ctx, _scope(viewer), region or None, progress or None
        )
        return render(
            web,
            viewer,
            "overview.html",
            nav="overview",
            data=data,
            region=region,
            progress=progress,
        )

    @router.get("/branches/{branch_id}", response_class=HTMLResponse)
    async def branch(
        request: Request, viewer: Who, branch_id: int, status: str = "", page: int = 1
    ) -> HTMLResponse:
        web = runtime(request)
        if not names_a_row(branch_id):
            return error_page(web, viewer, 404, NOT_FOUND)
        try:
            data = await web.call(
                dashboard.branch_page,
                web.ctx,
                _scope(viewer),
                branch_id,
                status or None,
                page_number(page),
            )
        except DomainError as error:
            return error_page(web, viewer, *status_of_error(error))
        return render(web, viewer, "branch.html", nav="overview", data=data, status=status)

    @router.get("/alerts", response_class=HTMLResponse)
    async def alert_list(
        request: Request, viewer: Who, state: str = "", branch: int = 0, msg: str = ""
    ) -> HTMLResponse:
        web = runtime(request)
        return await _alerts_page(web, viewer, state, branch, MESSAGES.get(msg))

    @router.post("/alerts/{alert_id}/acknowledge", response_model=None)
    async def acknowledge(
        request: Request, viewer: Who, alert_id: int
    ) -> HTMLResponse | RedirectResponse:
        web, form = await _posted(request, viewer)
        try:
            cause = DelayReason(_text(form.get("cause")))
            fix_date = date.fromisoformat(_text(form.get("fix_date")))
        except ValueError:
            message = "请选择原因并填写预计解决日期 · Choose a cause and a fix date (YYYY-MM-DD)"
            return await _alerts_page(web, viewer, "", 0, message, "error", 400)
        note = _text(form.get("note"))[:500] or None
        act = (alerts.acknowledge_alert, cause, fix_date, note)
        return await _act(web, viewer, alert_id, act, "acknowledged")

    @router.post("/alerts/{alert_id}/resolve", response_model=None)
    async def resolve(
        request: Request, viewer: Who, alert_id: int
    ) -> HTMLResponse | RedirectResponse:
        web, form = await _posted(request, viewer)
        resolution = _text(form.get("resolution")).strip()[:500]
        if not resolution:
            message = "请说明如何解决 · Say how it was resolved"
            return await _alerts_page(web, viewer, "", 0, message, "error", 400)
        return await _act(web, viewer, alert_id, (alerts.resolve_alert, resolution), "resolved")

    async def _posted(request: Request, viewer: Viewer) -> tuple[Dashboard, Any]:
        web = runtime(request)
        form = await request.form()
        check_csrf(web, viewer, _text(form.get("csrf")))
        return web, form

    async def _act(
        web: Dashboard, viewer: Viewer, alert_id: int, act: tuple[Any, ...], done: str
    ) -> HTMLResponse | RedirectResponse:
        """The core use case as the viewer's employee, on an alert the viewer can see (else
        404, as if none existed); refusals come back on the alerts page with their reason."""
        if viewer.employee_id is None:
            return error_page(web, viewer, 403, NO_EMPLOYEE)
        if not names_a_row(alert_id):
            return await _alerts_page(web, viewer, "", 0, NOT_FOUND, "error", 404)
        use_case, *args = act
        try:
            await web.call(dashboard.alert_detail, web.ctx, _scope(viewer), alert_id)
            await web.call(
                use_case, web.ctx, alert_id, viewer.employee_id, *args, channel="dashboard"
            )
        except DomainError as error:
            code, message = status_of_error(error)
            return await _alerts_page(web, viewer, "", 0, message, "error", code)
        return RedirectResponse(f"/dashboard/alerts?msg={done}", status_code=303)

    @router.get("/claims", response_class=HTMLResponse)
    async def claim_list(request: Request, viewer: Who, state: str = "") -> HTMLResponse:
        web = runtime(request)
        rows = await web.call(dashboard.claim_list, web.ctx, _scope(viewer), state or None)
        return render(web, viewer, "claims.html", nav="claims", rows=rows, state=state)

    @router.get("/claims/{claim_id}", response_class=HTMLResponse)
    async def claim_page(request: Request, viewer: Who, claim_id: int) -> HTMLResponse:
        web = runtime(request)
        if not names_a_row(claim_id):
            return error_page(web, viewer, 404, NOT_FOUND)
        try:
            data = await web.call(dashboard.claim_detail, web.ctx, _scope(viewer), claim_id)
        except DomainError as error:
            return error_page(web, viewer, *status_of_error(error))
        view = ("claim.view", ("claim", claim_id), "dashboard")  # who saw whose claim, when
        await web.call(audit_trail.record_account_view, web.ctx, viewer.account_id, *view)
        links = {}
        if viewer.employee_id is not None:
            signer = web.signer("document")
            links = {d.id: signer.sign(f"{d.id}:{viewer.account_id}") for d in data.documents}
        return render(web, viewer, "claim.html", nav="claims", data=data, links=links)

    @router.get("/documents/{token}", response_model=None)
    async def document(request: Request, viewer: Who, token: str) -> Response:
        web = runtime(request)
        value = web.signer("document").unsign(token, DOCUMENT_LINK_MAX_AGE) or ""
        document_id, _, account = value.partition(":")
        expired = "链接无效或已过期，请回到理赔页重新打开 · This link is invalid or has expired"
        if not document_id.isdigit() or account != str(viewer.account_id):
            return error_page(web, viewer, 403, expired)
        if viewer.employee_id is None:
            return error_page(web, viewer, 403, NO_EMPLOYEE)
        try:
            found, content = await web.call(
                claims.read_document, web.ctx, int(document_id), viewer.employee_id, "dashboard"
            )
        except DomainError as error:
            return error_page(web, viewer, *status_of_error(error))
        return Response(
            content,
            media_type=found.content_type,
            headers={
                "Content-Disposition": f"inline; filename*=UTF-8''{quote(found.filename)}",
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    async def _alerts_page(
        web: Dashboard,
        viewer: Viewer,
        state: str,
        branch: int,
        flash: str | None,
        kind: str = "ok",
        status_code: int = 200,
    ) -> HTMLResponse:
        rows = await web.call(dashboard.alert_list, web.ctx, _scope(viewer), state or None)
        if branch:
            rows = tuple(row for row in rows if row.branch_id == branch)
        return render(
            web,
            viewer,
            "alerts.html",
            status_code,
            nav="alerts",
            rows=rows,
            state=state,
            flash=flash,
            flash_kind=kind,
            causes=[str(c) for c in DelayReason],
            today=web.ctx.today(),
            may_act=viewer.employee_id is not None,
        )

    return router


def _scope(viewer: Viewer) -> set[int] | None:
    return None if viewer.scope is None else set(viewer.scope)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
