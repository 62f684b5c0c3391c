"""Which charts each report page draws, from the report's own figures (never recomputed here)."""

from collections.abc import Callable
from typing import Any

from adapters.web.charts import bar_chart, stacked_bars
from core.domain.reports import CostReport, DelayReport, DurationReport, EscalationReport


def delay_charts(report: DelayReport) -> list[str]:
    months, late = report.late_people_chart()
    codes, overdue = report.overdue_chart()
    late_codes, reasons = report.reason_chart()
    return [
        bar_chart("逾期月数 · Overdue months per branch", codes, overdue),
        stacked_bars("延迟原因 · Delay reasons per branch", late_codes, reasons, "%"),
        bar_chart("逾期人数 · Late people per month", months, late),
    ]


def duration_charts(report: DurationReport) -> list[str]:
    groups = [g.group for g in report.groups]
    return [
        bar_chart(
            "提交到支付（天）· Days from submission to payout",
            groups,
            [
                ("median", [float(g.median_days or 0) for g in report.groups]),
                ("p90", [float(g.p90_days or 0) for g in report.groups]),
            ],
            "d",
        )
    ]


TOP_DEPARTMENTS = 15
"""A bar per department stops being readable past this; the table below lists them all."""


def cost_charts(report: CostReport) -> list[str]:
    top = sorted(report.departments, key=lambda d: d.employer, reverse=True)[:TOP_DEPARTMENTS]
    return [
        bar_chart(
            f"单位缴费最高的部门 · Employer cost, top {TOP_DEPARTMENTS} departments",
            [f"{d.branch_code} {d.department}" for d in top],
            [("employer", [float(d.employer) for d in top])],
            "¥",
        ),
        bar_chart(
            "新入职成本 · New-hire employer cost per month",
            [str(m.period) for m in report.new_hires],
            [("new hires", [float(m.employer) for m in report.new_hires])],
            "¥",
        ),
    ]


def escalation_charts(report: EscalationReport) -> list[str]:
    levels = sorted(report.group, key=lambda stats: stats.level)
    return [
        bar_chart(
            "确认耗时（小时，按级别）· Hours to acknowledge, by level",
            [f"L{stats.level}" for stats in levels],
            [
                ("median", [float(stats.median_hours or 0) for stats in levels]),
                ("p90", [float(stats.p90_hours or 0) for stats in levels]),
            ],
            "h",
        )
    ]


CHARTS: dict[str, Callable[[Any], list[str]]] = {
    "delays": delay_charts,
    "durations": duration_charts,
    "costs": cost_charts,
    "escalations": escalation_charts,
}
