"""``hrbot policy show|set``: the escalation policy new alerts start with, and admins' edits.

``show`` prints the current levels (roles and delays in Chinese and English), the repeats of the
last level, where the policy comes from (settings or an edit) and every stored version with who
wrote it, when, and how many alerts started under it; ``--json`` for programs. ``set`` stores a
new version from the compact text form (``hr:0h,hr_manager:24h,hr_director:48h``); alerts
already open keep the version they started with.

Errors: one line on stderr; exit 1 for a refused edit (nothing is stored), 2 for bad usage.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:
    from core.domain.escalation import EscalationPolicy, PolicyVersion
    from core.services.policies import PolicyOverview

policy_app = typer.Typer(
    help="Escalation policy: show it with its versions, or store a new version.",
    no_args_is_help=True,
)

SOURCES = {"settings": "settings 设置 (HRBOT_ESCALATION_*)", "edited": "edited 管理员编辑"}


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


def _services() -> Any:
    from bot.bootstrap import build

    try:
        return build()
    except ValueError as error:  # settlement gateways configured by half
        _fail(str(error), code=2)


@policy_app.command("show")
def show(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The current policy, where it comes from, and its version history."""
    from core.services.policies import show_policy

    services = _services()
    try:
        overview = show_policy(services.ctx)
    finally:
        services.close()
    zone = services.ctx.rules.timezone
    if as_json:
        typer.echo(json.dumps(overview_json(overview), ensure_ascii=False, indent=2))
        return
    typer.echo("\n".join(overview_lines(overview, zone)))


@policy_app.command("set")
def set_policy(
    levels: Annotated[
        str,
        typer.Option(
            "--levels", metavar="TEXT", help="Levels in order, e.g. hr:0h,hr_manager:24h,..."
        ),
    ],
    repeat: Annotated[
        int | None,
        typer.Option(help="How many more times the last level is told (0-10; default: keep)."),
    ] = None,
    repeat_every: Annotated[
        str | None,
        typer.Option(
            "--repeat-every",
            metavar="DELAY",
            help="Gap between repeats, e.g. 24h; 'auto': the gap between the last two levels "
            "(default: keep).",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why, kept with the version.")] = None,
    by: Annotated[str, typer.Option(help="Who makes the edit (kept with the version).")] = "cli",
) -> None:
    """Store a new version of the policy; alerts already open keep theirs."""
    from core.domain.errors import DomainError
    from core.services.policies import edit_policy, show_policy

    services = _services()
    try:
        before = show_policy(services.ctx)
        saved = edit_policy(
            services.ctx,
            levels,
            repeat,
            repeat_every,
            by,
            note,
            channel="cli",
            based_on=before.edited_version,
        )
    except DomainError as error:
        _fail(str(error))
    finally:
        services.close()
    was = f" (was {before.version})" if before.version is not None else ""
    typer.echo(f"policy {saved.name}: version {saved.version} saved{was}")
    for line in level_lines(saved):
        typer.echo(line)
    typer.echo("alerts already open keep their version; new alerts start with this one")


def level_lines(policy: EscalationPolicy) -> list[str]:
    from core.domain.policy_text import ROLE_WORDS, delay_words, format_levels

    lines = []
    for lvl in policy.levels:
        zh, en = ROLE_WORDS[lvl.role]
        when_zh, when_en = delay_words(lvl.delay)
        role = f"{lvl.role.value:<12} {zh} {en}"
        delay = f"{lvl.delay!s:>6}"
        lines.append(f"  level {lvl.level}  {role:<32} {delay}  {when_zh} · {when_en}")
    lines.append(f"  repeats  {_repeats(policy)}")
    lines.append(f"  text     {format_levels(policy.levels)}")
    return lines


def _repeats(policy: EscalationPolicy) -> str:
    from core.domain.policy_text import delay_words

    if policy.repeat == 0:
        return "none 不重复"
    gap = "" if policy.repeat_every is not None else " (the gap between the last two levels)"
    return (
        f"the last level {policy.repeat} more time(s), every {policy.interval}{gap} · "
        f"最后一级再提醒 {policy.repeat} 次，每 {delay_words(policy.interval)[0]}"
    )


def overview_lines(overview: PolicyOverview, zone: ZoneInfo) -> list[str]:
    from core.domain.policy_text import format_levels

    version = f"version {overview.version}" if overview.version is not None else "not stored yet"
    lines = [f"policy {overview.policy.name}, {version}, from {SOURCES[overview.source]}"]
    lines += level_lines(overview.policy)
    lines.append("history 版本历史")
    if not overview.history:
        lines.append("  (no stored version yet: no alert has opened)")
    for v in overview.history:
        who = f"{_local(v.edited_at, zone)} {v.edited_by}" if v.edited_by else "settings 设置"
        note = f' "{v.note}"' if v.note else ""
        alerts = f"{v.alerts} alert" + ("" if v.alerts == 1 else "s")
        lines.append(
            f"  v{v.policy.version}  {who}{note}  {alerts}  "
            f"{format_levels(v.policy.levels)} repeat {v.policy.repeat}"
        )
    return lines


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return "-" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def overview_json(overview: PolicyOverview) -> dict[str, Any]:
    from core.domain.policy_text import ROLE_WORDS

    policy = overview.policy
    return {
        "name": policy.name,
        "version": overview.version,
        "source": overview.source,
        "levels": [
            {
                "level": lvl.level,
                "role": lvl.role.value,
                "role_zh": ROLE_WORDS[lvl.role][0],
                "role_en": ROLE_WORDS[lvl.role][1],
                "delay": str(lvl.delay),
                "channels": list(lvl.channels),
            }
            for lvl in policy.levels
        ],
        "text": overview.text,
        "repeat": policy.repeat,
        "repeat_every": policy.repeat_text(),
        "interval": str(policy.interval),
        "history": [_version_json(v) for v in overview.history],
    }


def _version_json(v: PolicyVersion) -> dict[str, Any]:
    from core.domain.policy_text import format_levels

    return {
        "version": v.policy.version,
        "source": "edited" if v.edited_by else "settings",
        "edited_at": v.edited_at.isoformat() if v.edited_at else None,
        "edited_by": v.edited_by,
        "note": v.note,
        "alerts": v.alerts,
        "text": format_levels(v.policy.levels),
        "repeat": v.policy.repeat,
        "repeat_every": v.policy.repeat_text(),
    }
