"""The reports as pages (table + server-side SVG chart + CSV export) and their shared plumbing.

The figures come from ``core.services.reports``; this module only chooses the window, applies
the viewer's scope and draws. CSV is the same tables the command line prints
(``hrbot report NAME --format csv``), with a UTF-8 BOM so Excel opens the Chinese headers.
"""

import csv
import io
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from adapters.web.dashboard.auth import Viewer
from adapters.web.dashboard.charts_for_reports import CHARTS
from adapters.web.dashboard.common import Runtime, error_page, page_viewer, render, status_of_error
from adapters.web.dashboard.runtime import Dashboard
from core.domain.errors import DomainError, InvalidValue
from core.domain.periods import Period
from core.services import accounts, reports

REPORTS: dict[str, tuple[str, str, Callable[..., Any]]] = {
    "delays": ("缴费延迟", "Contribution delays", reports.delays),
    "durations": ("理赔时长", "Claim durations", reports.durations),
    "costs": ("社保成本", "Contribution costs", reports.costs),
    "escalations": ("告警响应", "Escalation response", reports.escalations),
}
MonthText = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")]


def window(web: Dashboard, first: str | None, last: str | None) -> tuple[Period, Period]:
    default_first, default_last = reports.default_window(web.ctx)
    start = Period.parse(first) if first else default_first
    end = Period.parse(last) if last else default_last
    if start > end:
        raise InvalidValue("起始月份晚于结束月份 · 'from' is after 'to'", field="from")
    return start, end


async def report_result(
    web: Dashboard, viewer: Viewer, name: str, first: str | None, last: str | None
) -> Any:
    start, end = window(web, first, last)
    scope = None if viewer.scope is None else set(viewer.scope)
    return await web.call(REPORTS[name][2], web.ctx, start, end, scope)


def csv_text(result: Any) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for index, table in enumerate(result.tables()):
        if index:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.columns)
        writer.writerows([_cell(value) for value in row] for row in table.rows)
    return out.getvalue()


def _cell(value: Any) -> Any:
    return "" if value is None else value


def reports_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/dashboard/reports", include_in_schema=False)
    Who = Annotated[Viewer, Depends(page_viewer(runtime))]

    @router.get("", response_class=HTMLResponse)
    async def index(request: Request, viewer: Who) -> HTMLResponse:
        web = runtime(request)
        return render(web, viewer, "reports.html", nav="reports", reports=REPORTS)

    @router.get("/{name}.csv", response_model=None)
    async def export(
        request: Request,
        viewer: Who,
        name: str,
        first: Annotated[MonthText, Query(alias="from")] = None,
        last: Annotated[MonthText, Query(alias="to")] = None,
    ) -> Response:
        web = runtime(request)
        if name not in REPORTS:
            return error_page(web, viewer, 404, "没有这个报表 · No such report")
        try:
            result_window = window(web, first, last)
            result = await report_result(web, viewer, name, first, last)
        except DomainError as error:
            return error_page(web, viewer, *status_of_error(error))
        await web.call(
            accounts.record_action,
            web.ctx,
            viewer.account_id,
            "report.export",
            report=name,
            first=str(result_window[0]),
            last=str(result_window[1]),
        )
        filename = f"hrbot-{name}.csv"
        return Response(
            csv_text(result),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
                "Cache-Control": "no-store",
            },
        )

    @router.get("/{name}", response_class=HTMLResponse)
    async def report(
        request: Request,
        viewer: Who,
        name: str,
        first: Annotated[MonthText, Query(alias="from")] = None,
        last: Annotated[MonthText, Query(alias="to")] = None,
    ) -> HTMLResponse:
        web = runtime(request)
        if name not in REPORTS:
            return error_page(web, viewer, 404, "没有这个报表 · No such report")
        try:
            start, end = window(web, first, last)
            result = await report_result(web, viewer, name, str(start), str(end))
        except DomainError as error:
            return error_page(web, viewer, *status_of_error(error))
        charts = [Markup(svg) for svg in CHARTS[name](result)]  # noqa: S704 - escaped by charts
        query = f"from={start}&to={end}"
        return render(
            web,
            viewer,
            "report.html",
            nav="reports",
            name=name,
            title=REPORTS[name][:2],
            result=result,
            charts=charts,
            first=str(start),
            last=str(end),
            query=query,
        )

    return router
