"""The dashboard's Jinja2 environment: templates shipped in the package, autoescaped, with the
few filters the pages share (money, dates in the organisation's time zone, countdowns)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

PROGRESS = {
    "done": ("已完成", "Paid"),
    "pending": ("待审批", "In progress"),
    "late": ("延迟", "Late"),
    "none": ("未生成", "No batch yet"),
}
STATUS = {
    "normal": ("正常", "Normal"),
    "delayed": ("延迟", "Delayed"),
    "lapsed": ("断缴", "Lapsed"),
}
CAUSES = {
    "finance_approval": ("财务审批", "Finance approval"),
    "hr_verification": ("HR 核对", "HR verification"),
    "bureau_system": ("社保局系统", "Bureau system"),
    "bureau": ("社保局系统", "Bureau system"),
    "bank_failure": ("银行扣款", "Bank"),
    "bank": ("银行扣款", "Bank"),
    "data_error": ("数据错误", "Data error"),
    "other": ("其他", "Other"),
}


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"¥{value:,.2f}"


def both(pair: tuple[str, str] | None, fallback: str = "—") -> Markup:
    if pair is None:
        return Markup.escape(fallback)
    return Markup('{}<span class="en">{}</span>').format(pair[0], pair[1])


def label(table: dict[str, tuple[str, str]], value: object) -> Markup:
    text = "" if value is None else str(value)
    return both(table.get(text), text or "—")


def countdown(days: int | None) -> str:
    if days is None:
        return "—"
    if days > 0:
        return f"{days} 天 · {days} d"
    if days == 0:
        return "今天到期 · due today"
    return f"逾期 {-days} 天 · {-days} d late"


def until(moment: datetime | None, now: datetime) -> str:
    """Time left until ``moment`` in hours and minutes, as the escalation countdown shows it."""
    if moment is None:
        return "—"
    minutes = int((moment - now).total_seconds() // 60)
    if minutes <= 0:
        return "即将升级 · now"
    hours, rest = divmod(minutes, 60)
    return f"{hours} 小时 {rest} 分 · {hours} h {rest:02d} min"


@cache
def environment(zone: str) -> Environment:
    tz = ZoneInfo(zone)
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local(moment: datetime | None) -> str:
        return "—" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def day(value: date | None) -> str:
        return "—" if value is None else value.isoformat()

    env.filters.update(
        money=money, local=local, day=day, countdown=countdown, label=label, both=both
    )
    env.globals.update(PROGRESS=PROGRESS, STATUS=STATUS, CAUSES=CAUSES, until=until)
    return env
