"""The compact text form of an escalation policy, shared by ``hrbot policy`` and the dashboard.

Levels are written ``hr:0h,hr_manager:24h,hr_director:48h``: one ``role:delay`` per level, in
order, level 1 first. Full-width punctuation typed on a Chinese keyboard (``，`` ``：``) is read
as ASCII, and ``;`` or a new line also separates levels.

A mistake raises ``InvalidValue`` naming what is wrong in English, with the params ``reason``,
``level`` and ``value`` so an outer layer can word the same refusal in Chinese.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from itertools import pairwise

from core.domain.directory import HR_ROLES, Role
from core.domain.errors import InvalidValue
from core.domain.escalation import MAX_REPEAT, EscalationPolicy, PolicyLevel
from core.domain.workclock import Delay, DelayUnit

EXAMPLE = "hr:0h,hr_manager:24h,hr_director:48h"
MAX_LEVELS = 10
"""More levels than people in an HR hierarchy is a typo, not a policy."""
MAX_TEXT = 1000

ROLE_WORDS: dict[Role, tuple[str, str]] = {
    Role.HR: ("人事专员", "HR"),
    Role.HR_MANAGER: ("人事经理", "HR manager"),
    Role.HR_DIRECTOR: ("人事总监", "HR director"),
    Role.FINANCE: ("财务", "finance"),
    Role.EMPLOYEE: ("员工", "employee"),
}
_ALIASES = {zh: role for role, (zh, _) in ROLE_WORDS.items()}
_HR_NAMES = "hr, hr_manager or hr_director"
_UNIT_WORDS = {
    DelayUnit.HOURS: ("小时", "h"),
    DelayUnit.WORKING_HOURS: ("个工作小时", "working hours"),
    DelayUnit.WORKING_DAYS: ("个工作日", "working days"),
}
_AUTO = {"", "auto", "default"}


def _refuse(message: str, reason: str, level: int | None = None, value: str = "") -> InvalidValue:
    return InvalidValue(message, reason=reason, level=level, value=value)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def parse_levels(text: str) -> tuple[PolicyLevel, ...]:
    """The levels written in ``text``, numbered from 1 in the order given."""
    text = _normal(text)
    if len(text) > MAX_TEXT:
        raise _refuse(f"the levels text is longer than {MAX_TEXT} characters", "too_many")
    items = [part.strip() for part in text.replace(";", ",").replace("\n", ",").split(",")]
    items = [part for part in items if part]
    if not items:
        raise _refuse(f"give at least one level, e.g. {EXAMPLE}", "empty")
    if len(items) > MAX_LEVELS:
        raise _refuse(f"at most {MAX_LEVELS} levels", "too_many", value=str(len(items)))
    levels = tuple(_level(number, item) for number, item in enumerate(items, start=1))
    _check_order(levels)
    return levels


def _level(number: int, item: str) -> PolicyLevel:
    role_text, colon, delay_text = item.partition(":")
    if not colon or not role_text.strip() or not delay_text.strip():
        raise _refuse(
            f"level {number} ({item!r}) needs a role and a delay, like hr_manager:24h",
            "format",
            number,
            item,
        )
    return PolicyLevel(number, _role(number, role_text.strip()), _delay(number, delay_text))


def _role(number: int, text: str) -> Role:
    key = text.lower().replace("-", "_")
    role = _ALIASES.get(text) or next((r for r in Role if r.value == key), None)
    if role is None:
        raise _refuse(
            f"level {number}: unknown role {text!r}; use {_HR_NAMES}", "role", number, text
        )
    if role not in HR_ROLES:
        raise _refuse(
            f"level {number}: {role} is not an HR role; escalations go to {_HR_NAMES}",
            "not_hr",
            number,
            str(role),
        )
    return role


def _delay(number: int, text: str) -> Delay:
    try:
        return Delay.parse(text)
    except InvalidValue as error:
        raise _refuse(
            f"level {number}: {error} (got {text.strip()!r})", "delay", number, text.strip()
        ) from None


def _check_order(levels: tuple[PolicyLevel, ...]) -> None:
    unit = levels[0].delay.unit
    for lvl in levels[1:]:
        if lvl.delay.unit is not unit:
            raise _refuse(
                f"every level counts in the same unit (h, wh or wd): level 1 is {levels[0].delay}"
                f", level {lvl.level} is {lvl.delay}",
                "units",
                lvl.level,
                str(lvl.delay),
            )
    for before, after in pairwise(levels):
        if after.delay.amount < before.delay.amount:
            raise _refuse(
                f"delays must not decrease: level {after.level} ({after.delay}) is earlier than "
                f"level {before.level} ({before.delay})",
                "decreasing",
                after.level,
                str(after.delay),
            )


def parse_repeat_every(text: str) -> Delay | None:
    """A gap between repeats; blank or ``auto``: the gap between the last two levels."""
    text = _normal(text).strip()
    if text.lower() in _AUTO:
        return None
    try:
        return Delay.parse(text)
    except InvalidValue as error:
        raise _refuse(f"repeat every: {error} (got {text!r})", "repeat_every", value=text) from None


def build_policy(
    name: str, levels: tuple[PolicyLevel, ...], repeat: int, every: Delay | None
) -> EscalationPolicy:
    """The policy made of these parts, checked with a reason for each refusal."""
    if not 0 <= repeat <= MAX_REPEAT:
        raise _refuse(
            f"repeat must be 0 to {MAX_REPEAT}, got {repeat}", "repeat", value=str(repeat)
        )
    unit = levels[0].delay.unit
    if every is not None and (every.unit is not unit or every.amount <= 0):
        raise _refuse(
            f"repeat every must count in the levels' unit ({unit.value}) and be more than zero, "
            f"got {every}",
            "repeat_every",
            value=str(every),
        )
    return EscalationPolicy(name, levels, repeat=repeat, repeat_every=every)


def format_levels(levels: Iterable[PolicyLevel]) -> str:
    """The text form of ``levels``; ``parse_levels`` reads it back to the same levels."""
    return ",".join(f"{lvl.role.value}:{lvl.delay}" for lvl in levels)


def delay_words(delay: Delay) -> tuple[str, str]:
    """A delay in Chinese and in English: ``("24 小时", "24 h")``, zero as "at once"."""
    if delay.amount == 0:
        return "立即", "at once"
    number = str(delay).removesuffix(delay.unit.value)
    zh, en = _UNIT_WORDS[delay.unit]
    return f"{number} {zh}", f"{number} {en}"


def same_behaviour(a: EscalationPolicy, b: EscalationPolicy) -> bool:
    """Whether two policies escalate alike: the same levels and repeats (the gap between
    repeats only counts when there are repeats)."""
    if a.levels_json() != b.levels_json() or a.repeat != b.repeat:
        return False
    return a.repeat == 0 or a.interval == b.interval
