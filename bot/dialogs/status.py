"""My contributions: the last months as a strip, the overall status, and what it means."""

from __future__ import annotations

from bot.dialogs.talk import Talk
from core.domain.contributions import MonthState, Status
from core.domain.directory import Role
from core.services.queries import responsible_staff
from core.services.status import check_status

MONTH_ICON = {
    MonthState.PAID_ON_TIME: "✅",
    MonthState.PAID_LATE: "🟡",
    MonthState.UNPAID_NOT_DUE: "⏳",
    MonthState.OVERDUE: "🔴",
    MonthState.NOT_ENROLLED: "⚫",
}


def show_status(talk: Talk) -> None:
    me = talk.employee
    report = check_status(talk.ctx, me.employee_no, talk.ctx.rules.self_service_months)
    strip = "\n".join(
        f"{MONTH_ICON[m.state]} {m.period} {talk.t.word('month', m.state)}" for m in report.months
    )
    talk.say("chat.status", strip=strip or "—", status=str(report.status))
    if report.status is Status.NORMAL:
        return
    months = [str(m.period) for m in report.problem_months]
    hr = [p.name for p in responsible_staff(talk.ctx, me.branch_id, Role.HR)]
    key = "chat.status_lapsed" if report.status is Status.LAPSED else "chat.status_delayed"
    talk.say(key, months=months, hr=hr or ["—"])
