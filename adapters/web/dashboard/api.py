"""``/api``: the dashboard's data as JSON, described in ``/openapi.json``.

Behind the same login as the pages (the session cookie, with ``X-CSRF-Token`` on writes) or a
per-user bearer token (``hrbot user token EMAIL``). Scopes are the pages' scopes: another
branch's alert or claim answers 404, exactly like one that does not exist.
"""

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from adapters.web.dashboard.auth import CSRF_HEADER, Viewer, check_csrf
from adapters.web.dashboard.common import NO_EMPLOYEE, Runtime, api_viewer, status_of_error
from adapters.web.dashboard.reporting import REPORTS, report_result
from adapters.web.ids import MAX_ROW_ID
from core.domain.contributions import DelayReason
from core.domain.errors import DomainError
from core.domain.periods import Period
from core.services import alerts, audit_trail, dashboard

Progress = Literal["done", "pending", "late", "none"]
EmployeeStatus = Literal["normal", "delayed", "lapsed"]
AlertStateIn = Literal["open", "acknowledged", "resolved"]
ClaimStateIn = Literal[
    "draft",
    "submitted",
    "on_hold",
    "under_review",
    "approved",
    "paid",
    "returned",
    "rejected",
    "withdrawn",
]
ReportName = Literal["delays", "durations", "costs", "escalations"]
MonthText = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
"""A row's id in a path: within the columns' 32 bits, so a huge one is a 422, not a database
error (found by schemathesis: ``/api/branches/9223372036854775808`` was a 500)."""


class AcknowledgeIn(BaseModel):
    cause: DelayReason
    fix_date: date = Field(description="Expected fix date; escalation pauses until it ends.")
    note: str | None = Field(None, max_length=500)


class ResolveIn(BaseModel):
    resolution: str = Field(min_length=1, max_length=500)


def to_json(value: Any) -> Any:
    """Money as strings (never floats), periods as ``YYYY-MM``, times in ISO 8601."""
    return jsonable_encoder(value, custom_encoder={Decimal: str, Period: str})


def api_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["dashboard"])
    Who = Annotated[Viewer, Depends(api_viewer(runtime))]

    async def call(request: Request, fn: Any, *args: Any) -> Any:
        web = runtime(request)
        try:
            return await web.call(fn, web.ctx, *args)
        except DomainError as error:
            code, message = status_of_error(error)
            raise HTTPException(code, message) from None

    async def acting(request: Request, viewer: Viewer, alert_id: int) -> int:
        """The employee acting on an alert the viewer can see (else 404, as if none existed)."""
        check_csrf(runtime(request), viewer, request.headers.get(CSRF_HEADER))
        await call(request, dashboard.alert_detail, _scope(viewer), alert_id)
        if viewer.employee_id is None:
            raise HTTPException(403, NO_EMPLOYEE)
        return viewer.employee_id

    @router.get("/me")
    async def me(viewer: Who) -> dict[str, Any]:
        """The logged-in account, its role and the branches it may see (null: all)."""
        scope = None if viewer.scope is None else sorted(viewer.scope)
        return {"email": viewer.email, "role": str(viewer.role), "branches": scope}

    @router.get("/overview")
    async def overview(
        request: Request,
        viewer: Who,
        region: Annotated[str | None, Query(max_length=100)] = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """One row per branch: this month's batch, countdown, affected staff, open alerts."""
        data = await call(request, dashboard.overview, _scope(viewer), region, progress)
        return dict(to_json(data))

    @router.get("/branches/{branch_id}")
    async def branch(
        request: Request,
        viewer: Who,
        branch_id: RowId,
        status: EmployeeStatus | None = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    ) -> dict[str, Any]:
        """A branch: its employees' statuses (paged) and this month's batch lines."""
        data = await call(request, dashboard.branch_page, _scope(viewer), branch_id, status, page)
        return dict(to_json(data))

    @router.get("/alerts")
    async def alert_list(
        request: Request, viewer: Who, state: AlertStateIn | None = None
    ) -> list[dict[str, Any]]:
        """Alerts (unresolved unless ``state`` says otherwise) with who was notified when."""
        rows = await call(request, dashboard.alert_list, _scope(viewer), state)
        return list(to_json(list(rows)))

    @router.get("/alerts/{alert_id}")
    async def alert(request: Request, viewer: Who, alert_id: RowId) -> dict[str, Any]:
        data = await call(request, dashboard.alert_detail, _scope(viewer), alert_id)
        return dict(to_json(data))

    @router.post("/alerts/{alert_id}/acknowledge")
    async def acknowledge(
        request: Request, viewer: Who, alert_id: RowId, body: AcknowledgeIn
    ) -> dict[str, Any]:
        """Give the cause and a fix date (HR of the branch); same rules and audit as chat."""
        actor = await acting(request, viewer, alert_id)
        done = await call(
            request,
            alerts.acknowledge_alert,
            alert_id,
            actor,
            body.cause,
            body.fix_date,
            body.note,
            "api",
        )
        return {"id": done.id, "state": str(done.state), "level": done.level}

    @router.post("/alerts/{alert_id}/resolve")
    async def resolve(
        request: Request, viewer: Who, alert_id: RowId, body: ResolveIn
    ) -> dict[str, Any]:
        actor = await acting(request, viewer, alert_id)
        done = await call(
            request, alerts.resolve_alert, alert_id, actor, body.resolution.strip(), "api"
        )
        return {"id": done.id, "state": str(done.state), "level": done.level}

    @router.get("/claims")
    async def claim_list(
        request: Request, viewer: Who, state: ClaimStateIn | None = None
    ) -> list[dict[str, Any]]:
        rows = await call(request, dashboard.claim_list, _scope(viewer), state)
        return list(to_json(list(rows)))

    @router.get("/claims/{claim_id}")
    async def claim(request: Request, viewer: Who, claim_id: RowId) -> dict[str, Any]:
        """A claim, its documents (metadata only) and its timeline."""
        data = await call(request, dashboard.claim_detail, _scope(viewer), claim_id)
        view = ("claim.view", ("claim", claim_id), "api")  # who read whose claim, when
        await call(request, audit_trail.record_account_view, viewer.account_id, *view)
        return dict(to_json(data))

    @router.get("/reports/{name}")
    async def report(
        request: Request,
        viewer: Who,
        name: ReportName,
        first: Annotated[MonthText, Query(alias="from")] = None,
        last: Annotated[MonthText, Query(alias="to")] = None,
    ) -> dict[str, Any]:
        """A report over months ``from``..``to`` (default: the last 12), within your scope."""
        web = runtime(request)
        try:
            result = await report_result(web, viewer, name, first, last)
        except DomainError as error:
            code, message = status_of_error(error)
            raise HTTPException(code, message) from None
        await web.call(
            audit_trail.record_account_view,
            web.ctx,
            viewer.account_id,
            "report.export",
            ("account", viewer.account_id),
            "api",
            report=str(name),
            first=first,
            last=last,
        )
        return dict(to_json(result.to_json()))

    assert set(REPORTS) == {"delays", "durations", "costs", "escalations"}
    return router


def _scope(viewer: Viewer) -> set[int] | None:
    return None if viewer.scope is None else set(viewer.scope)
