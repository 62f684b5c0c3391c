"""The dashboard's "Policy" page: the escalation policy new alerts start with, where it comes
from, every stored version with how many alerts started under it, and (for admins) a form that
stores a new version, as ``hrbot policy set`` does.

Admins and HR directors may look; only admins may edit. The page runs the same core use case as
the command line (``core.services.policies``) with channel "dashboard" and the account's e-mail
as the editor. A refusal re-renders the page with its reason and the values typed, and stores
nothing; success redirects (303) so a reload never posts twice.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from adapters.web.dashboard.auth import Viewer, check_csrf
from adapters.web.dashboard.common import DENIED, Runtime, error_page, page_viewer, render
from adapters.web.dashboard.runtime import Dashboard
from core.domain.accounts import AccountRole
from core.domain.errors import DomainError
from core.domain.escalation import MAX_REPEAT
from core.domain.policy_text import EXAMPLE, MAX_LEVELS, ROLE_WORDS, delay_words
from core.services import policies

VIEWERS = frozenset({AccountRole.ADMIN, AccountRole.HR_DIRECTOR})
EDITORS = frozenset({AccountRole.ADMIN})
FIELDS = ("levels", "repeat", "repeat_every", "note")
NOTHING_SAVED = "未保存任何内容。"
SAVED = (
    "已保存第 {v} 版升级策略：新告警将使用此版本，进行中的告警保持原版本 · Version {v} saved: "
    "new alerts start with it; alerts already open keep theirs"
)
REFUSALS = {
    "empty": f"请至少填写一级，例如 {EXAMPLE}。",
    "too_many": f"最多 {MAX_LEVELS} 级。",
    "format": "第 {level} 级写法有误（{value}），应为“角色:时长”，例如 hr_manager:24h。",
    "role": "第 {level} 级的角色 {value} 不存在，可用 hr、hr_manager、hr_director。",
    "not_hr": "第 {level} 级的 {value} 不是 HR 角色：告警只升级给 hr、hr_manager、hr_director。",
    "delay": (
        "第 {level} 级的时长 {value} 有误，应为 24h（小时）、24wh（工作小时）或 3wd（工作日）。"
    ),
    "units": "各级时长必须使用同一单位（h、wh 或 wd），第 {level} 级是 {value}。",
    "decreasing": "时长不能递减：第 {level} 级（{value}）早于上一级。",
    "repeat": f"重复次数须为 0 到 {MAX_REPEAT} 的整数。",
    "repeat_every": "重复间隔 {value} 有误：须与各级使用同一单位且大于零，留空则取最后两级的间隔。",
    "unchanged": "与当前策略相同，没有保存新版本。",
    "stale": "策略已被他人修改，请刷新页面后重试。",
    "note": f"备注最多 {policies.MAX_NOTE} 字。",
    "by": "编辑人无效。",
}
SOURCES = {
    "settings": ("来自系统设置", "From settings (HRBOT_ESCALATION_*)"),
    "edited": ("管理员编辑", "Edited by an admin"),
}


def policy_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/dashboard/policy", include_in_schema=False)
    Who = Annotated[Viewer, Depends(page_viewer(runtime))]

    @router.get("", response_class=HTMLResponse)
    async def policy_page(request: Request, viewer: Who, msg: str = "", v: int = 0) -> HTMLResponse:
        web = runtime(request)
        if viewer.role not in VIEWERS:
            return error_page(web, viewer, 403, DENIED)
        return await _page(web, viewer, SAVED.format(v=v) if msg == "saved" else None)

    @router.post("", response_model=None)
    async def edit(request: Request, viewer: Who) -> HTMLResponse | RedirectResponse:
        web = runtime(request)
        if viewer.role not in EDITORS:
            return error_page(web, viewer, 403, DENIED)
        form = await request.form()
        check_csrf(web, viewer, _text(form.get("csrf")))
        entered = {name: _text(form.get(name)).strip()[:1000] for name in FIELDS}
        based_on = _text(form.get("based_on")).strip()
        try:
            repeat = int(entered["repeat"])
        except ValueError:
            message = refusal("repeat", {}, f"repeat must be a whole number from 0 to {MAX_REPEAT}")
            return await _page(web, viewer, message, 400, entered)
        try:
            saved = await web.call(
                policies.edit_policy,
                web.ctx,
                entered["levels"],
                repeat,
                entered["repeat_every"],
                viewer.email,
                entered["note"],
                "dashboard",
                int(based_on) if based_on.isdigit() else None,
            )
        except DomainError as error:
            message = refusal(str(error.params.get("reason", "")), error.params, str(error))
            return await _page(web, viewer, message, 400, entered)
        return RedirectResponse(f"/dashboard/policy?msg=saved&v={saved.version}", status_code=303)

    return router


def refusal(reason: str, params: dict[str, object], english: str) -> str:
    """A refused edit in Chinese first, then English, saying that nothing was stored."""
    wording = REFUSALS.get(reason, "策略无效。")
    zh = wording.format(level=params.get("level") or "", value=params.get("value") or "")
    return f"{zh}{NOTHING_SAVED} · {english[:1].upper()}{english[1:]}. Nothing was saved."


async def _page(
    web: Dashboard,
    viewer: Viewer,
    flash: str | None,
    status_code: int = 200,
    entered: dict[str, str] | None = None,
) -> HTMLResponse:
    overview = await web.call(policies.show_policy, web.ctx)
    policy = overview.policy
    current = {
        "levels": overview.text,
        "repeat": str(policy.repeat),
        "repeat_every": str(policy.repeat_every) if policy.repeat_every else "",
        "note": "",
    }
    return render(
        web,
        viewer,
        "policy.html",
        status_code,
        nav="policy",
        flash=flash,
        flash_kind="ok" if status_code < 400 else "error",
        overview=overview,
        history=list(reversed(overview.history)),
        may_edit=viewer.role in EDITORS,
        entered=entered or current,
        SOURCES=SOURCES,
        ROLE_WORDS=ROLE_WORDS,
        delay_words=delay_words,
        example=EXAMPLE,
        max_repeat=MAX_REPEAT,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
