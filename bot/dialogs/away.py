"""``/away`` in chat: set an absence with a substitute, list mine, cancel one.

``/away 2026-12-01 2026-12-07 @H2002`` (one date means a single day; the substitute is an
employee number, or a Slack mention of someone in the directory), ``/away`` alone lists my
absences not yet over, ``/away cancel N`` cancels number N. Every refusal says why, and nothing
is stored.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.dialogs.talk import Talk
from core.domain.absences import AWAY_ROLES, SubstituteCycle
from core.domain.errors import InvalidValue, NotFound
from core.services import absences

CANCEL_WORDS = {"cancel", "取消", "撤销"}
_SLACK_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
_REFUSALS = {
    "dates": "chat.away_bad_dates",
    "substitute": "chat.away_unknown_substitute",
    "substitute_role": "chat.away_bad_substitute",
    "substitute_self": "chat.away_bad_substitute",
    "substitute_left": "chat.away_substitute_left",
    "overlap": "chat.away_overlap",
}


def handle(talk: Talk, argument: str) -> None:
    if talk.employee.role not in AWAY_ROLES:
        talk.say("chat.away_not_allowed")
        return
    words = argument.split()
    if not words:
        show(talk)
    elif words[0].lower() in CANCEL_WORDS:
        cancel(talk, words[1:])
    else:
        set_away(talk, words)


def show(talk: Talk) -> None:
    found = absences.my_absences(talk.ctx, talk.employee.id)
    if not found:
        talk.say("chat.away_none")
    for view in found:
        talk.say(
            "chat.away_line",
            absence_id=view.absence.id,
            starts_on=view.absence.starts_on.isoformat(),
            ends_on=view.absence.ends_on.isoformat(),
            substitute=view.substitute.name if view.substitute else None,
        )


def set_away(talk: Talk, words: list[str]) -> None:
    first = _date(words[0])
    second = _date(words[1]) if len(words) > 1 else None
    if first is None or (second is None and len(words) > 1 and _looks_like_date(words[1])):
        talk.say("chat.away_bad_dates" if _looks_like_date(words[0]) else "chat.away_usage")
        return
    rest = words[2:] if second else words[1:]
    if len(rest) > 1:
        talk.say("chat.away_usage")
        return
    starts_on, ends_on = first, second or first
    substitute = _substitute_no(talk, rest[0]) if rest else None
    try:
        view = absences.set_away(
            talk.ctx, talk.employee.id, starts_on, ends_on, substitute, talk.session.platform
        )
    except SubstituteCycle as loop:
        chain = loop.params.get("chain")
        names = [str(name) for name in chain] if isinstance(chain, list) else []
        talk.say("chat.away_cycle", chain=" → ".join(names))
        return
    except InvalidValue as refused:
        field = str(refused.params.get("field"))
        talk.say(_REFUSALS.get(field, "chat.away_usage"), substitute=rest[0] if rest else "")
        return
    absence = view.absence
    shown: dict[str, Any] = {
        "absence_id": absence.id,
        "starts_on": absence.starts_on.isoformat(),
        "ends_on": absence.ends_on.isoformat(),
    }
    if view.substitute is None:
        talk.say("chat.away_set_alone", **shown)
        return
    substitute_no = view.substitute.employee_no
    talk.say("chat.away_set", substitute=view.substitute.name, substitute_no=substitute_no, **shown)


def cancel(talk: Talk, words: list[str]) -> None:
    number = words[0].lstrip("#＃") if len(words) == 1 else ""
    if not number.isdigit():
        talk.say("chat.away_usage")
        return
    try:
        view = absences.cancel_away(
            talk.ctx, talk.employee.id, int(number), channel=talk.session.platform
        )
    except (NotFound, InvalidValue):
        talk.say("chat.away_not_found", absence_id=number)
        return
    talk.say(
        "chat.away_cancelled",
        absence_id=view.absence.id,
        starts_on=view.absence.starts_on.isoformat(),
        ends_on=view.absence.ends_on.isoformat(),
    )


def _date(word: str) -> date | None:
    try:
        return date.fromisoformat(word.replace("/", "-"))
    except ValueError:
        return None


def _looks_like_date(word: str) -> bool:
    return bool(re.match(r"^\d{2,4}[-/.]\d", word))


def _substitute_no(talk: Talk, word: str) -> str:
    """An employee number from ``@H2002``, ``H2002`` or a Slack mention ``<@U123>``."""
    mention = _SLACK_MENTION.match(word)
    if mention:
        found = absences.employee_no_for_chat(talk.ctx, talk.session.platform, mention.group(1))
        return found or word
    return word.lstrip("@＠")
