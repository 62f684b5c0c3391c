"""The dashboard's "Away" page: HR and finance staff set and cancel their own absences (with a
substitute), as ``/away`` does in chat, and see whom they stand in for today.

The page runs the same core use cases as chat (``core.services.absences``) with channel
"dashboard", so rules, audit rows and the substitute's notice are the same whichever way an
absence is set. A refusal re-renders the page with its reason and the values typed, and stores
nothing; success redirects (303) so a reload never posts twice.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.web.dashboard.auth import Viewer, check_csrf
from adapters.web.dashboard.common import Runtime, error_page, page_viewer, render
from adapters.web.dashboard.runtime import Dashboard
from adapters.web.ids import names_a_row
from core.domain.absences import SubstituteCycle
from core.domain.errors import DomainError, InvalidValue, NotFound, PermissionDenied
from core.services import absences

NO_EMPLOYEE = (
    "此账号未关联员工档案，不能设置休假代理 · This account has no employee record behind it, "
    "so it has no absences to set"
)
MESSAGES = {
    "set": "已记录休假，代理人已收到通知 · Absence recorded; your substitute has been told",
    "set_alone": (
        "已记录休假，未指定代理人：发给您的告警将直接升级到下一级，待您审批的事项将等待处理 · "
        "Absence recorded with no substitute: alerts for you skip to the next level and your "
        "approvals wait"
    ),
    "cancelled": "已取消休假，代理人已收到通知 · Absence cancelled; any substitute has been told",
}
BAD_DATES = (
    "日期有误：请填写 YYYY-MM-DD，结束日期不能早于开始日期或今天，最长 366 天。未保存任何内容。"
    " · Those dates will not do: YYYY-MM-DD, the end no earlier than the start or today, "
    "at most 366 days. Nothing was saved."
)
REFUSALS = {
    "dates": BAD_DATES,
    "substitute": (
        "找不到员工 {no}，请填写代理人的工号，例如 H2002。未保存任何内容。"
        " · No employee {no} found: give your substitute's employee number, e.g. H2002. "
        "Nothing was saved."
    ),
    "substitute_role": (
        "{no} 不能代理您：HR 的工作只能由 HR 代理，财务审批只能由财务代理。未保存任何内容。"
        " · {no} cannot stand in for you: HR work goes to someone in HR, finance approvals to "
        "finance. Nothing was saved."
    ),
    "substitute_self": (
        "不能指定自己为代理人。未保存任何内容。 · You cannot be your own substitute. "
        "Nothing was saved."
    ),
    "substitute_left": (
        "{no} 在您休假结束前离职，不能做代理人。未保存任何内容。"
        " · {no} leaves the company before your absence ends and cannot stand in. "
        "Nothing was saved."
    ),
    "overlap": (
        "这些日期与您已有的休假重叠，请先在下方取消那一条。未保存任何内容。"
        " · You already have an absence on some of these days: cancel it below first. "
        "Nothing was saved."
    ),
    "absence": "这条休假已结束或已取消 · This absence is already over or cancelled",
}
CYCLE = (
    "这样设置会让代理关系形成循环（{chain}），届时没有人处理事项，请换一位代理人。未保存任何内容。"
    " · That would make substitutes go round in a loop ({chain}) and then nobody would act: "
    "choose another substitute. Nothing was saved."
)
NO_ABSENCE = "没有这条休假，或它不是您的 · No such absence of yours"
NOT_ALLOWED = (
    "只有 HR 和财务审批人可以设置休假代理 · Absences with a substitute are for HR and finance "
    "approvers"
)
CHANNELS = {
    "dashboard": ("管理后台", "Dashboard"),
    "web": ("网页聊天", "Web chat"),
    "slack": ("Slack", "Slack"),
    "telegram": ("Telegram", "Telegram"),
}
FIELDS = ("starts_on", "ends_on", "substitute")


def away_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/dashboard/away", include_in_schema=False)
    Who = Annotated[Viewer, Depends(page_viewer(runtime))]

    @router.get("", response_class=HTMLResponse)
    async def away_page(request: Request, viewer: Who, msg: str = "") -> HTMLResponse:
        web = runtime(request)
        if viewer.employee_id is None:
            return error_page(web, viewer, 403, NO_EMPLOYEE)
        return await _page(web, viewer, viewer.employee_id, MESSAGES.get(msg))

    @router.post("", response_model=None)
    async def set_absence(request: Request, viewer: Who) -> HTMLResponse | RedirectResponse:
        web, form = await _posted(request, viewer)
        if viewer.employee_id is None:
            return error_page(web, viewer, 403, NO_EMPLOYEE)
        entered = {name: _text(form.get(name)).strip()[:40] for name in FIELDS}
        try:
            starts_on = date.fromisoformat(entered["starts_on"])
            ends_on = date.fromisoformat(entered["ends_on"])
        except ValueError:
            return await _page(web, viewer, viewer.employee_id, BAD_DATES, 400, entered)
        substitute = entered["substitute"].lstrip("@＠") or None
        try:
            view = await web.call(
                absences.set_away,
                web.ctx,
                viewer.employee_id,
                starts_on,
                ends_on,
                substitute,
                "dashboard",
            )
        except DomainError as error:
            code, message = refusal(error, substitute or "")
            return await _page(web, viewer, viewer.employee_id, message, code, entered)
        done = "set" if view.substitute is not None else "set_alone"
        return RedirectResponse(f"/dashboard/away?msg={done}", status_code=303)

    @router.post("/{absence_id}/cancel", response_model=None)
    async def cancel_absence(
        request: Request, viewer: Who, absence_id: int
    ) -> HTMLResponse | RedirectResponse:
        web, _ = await _posted(request, viewer)
        if viewer.employee_id is None:
            return error_page(web, viewer, 403, NO_EMPLOYEE)
        if not names_a_row(absence_id):
            return await _page(web, viewer, viewer.employee_id, NO_ABSENCE, 404)
        try:
            await web.call(
                absences.cancel_away, web.ctx, viewer.employee_id, absence_id, "dashboard"
            )
        except DomainError as error:
            code, message = refusal(error, "")
            return await _page(web, viewer, viewer.employee_id, message, code)
        return RedirectResponse("/dashboard/away?msg=cancelled", status_code=303)

    async def _posted(request: Request, viewer: Viewer) -> tuple[Dashboard, Any]:
        web = runtime(request)
        form = await request.form()
        check_csrf(web, viewer, _text(form.get("csrf")))
        return web, form

    return router


def refusal(error: DomainError, substitute_no: str) -> tuple[int, str]:
    """The status and the bilingual reason for a refused absence (worded as chat words it)."""
    if isinstance(error, SubstituteCycle):
        return 400, CYCLE.format(chain=_chain(error))
    if isinstance(error, NotFound):
        return 404, NO_ABSENCE
    if isinstance(error, PermissionDenied):
        return 403, NOT_ALLOWED
    if isinstance(error, InvalidValue):
        wording = REFUSALS.get(str(error.params.get("field")))
        if wording is not None:
            return 400, wording.format(no=substitute_no)
    return 400, str(error)


def _chain(loop: SubstituteCycle) -> str:
    """``王芳 (H2001) → 赵敏 (H2002) → 王芳 (H2001)``: the people the loop would go through."""
    names, numbers = loop.params.get("chain"), loop.params.get("chain_nos")
    if not isinstance(names, list) or not isinstance(numbers, list):
        return ""
    return " → ".join(f"{name} ({no})" for name, no in zip(names, numbers, strict=False))


async def _page(
    web: Dashboard,
    viewer: Viewer,
    employee_id: int,
    flash: str | None,
    status_code: int = 200,
    entered: dict[str, str] | None = None,
) -> HTMLResponse:
    mine = await web.call(absences.my_absences, web.ctx, employee_id)
    covering = await web.call(absences.covering_today, web.ctx, employee_id)
    return render(
        web,
        viewer,
        "away.html",
        status_code,
        nav="away",
        flash=flash,
        flash_kind="ok" if status_code < 400 else "error",
        mine=mine,
        covering=covering,
        today=web.ctx.today(),
        entered=entered or dict.fromkeys(FIELDS, ""),
        CHANNELS=CHANNELS,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
