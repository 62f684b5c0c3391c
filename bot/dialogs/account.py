"""Account: linking a chat account to an employee, the language, and help."""

from __future__ import annotations

import re

from bot.dialogs.talk import Talk
from core.domain.directory import Locale, Role
from core.domain.errors import InvalidValue, PermissionDenied
from core.services import chats, queries

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CODE = re.compile(r"^\d{6}$")


def link(talk: Talk, argument: str) -> None:
    value = argument.strip()
    if talk.me is not None:
        talk.say("chat.link_already", name=talk.me.name)
    elif _EMAIL.match(value):
        try:
            chats.start_link(talk.ctx, talk.session.platform, talk.session.user_id, value)
        except InvalidValue:
            talk.say("chat.link_unavailable")
            return
        talk.say("chat.link_code_sent")  # the same words whether or not the address exists
    elif _CODE.match(value):
        try:
            person = chats.confirm_link(
                talk.ctx, talk.session.platform, talk.session.user_id, value
            )
        except (InvalidValue, PermissionDenied):
            talk.say("chat.link_code_wrong")
            return
        talk.session.employee_id, talk.me = person.id, person
        talk.say("chat.link_done", name=person.name)
    else:
        talk.say("chat.link_needed")


def choose_language(talk: Talk) -> None:
    talk.say(
        "chat.lang_choose",
        buttons=(
            talk.button("chat.lang_zh", "lang.set", locale="zh-CN"),
            talk.button("chat.lang_en", "lang.set", locale="en"),
        ),
    )


def set_language(talk: Talk, locale: str) -> None:
    chosen = Locale(locale)
    talk.session.locale = str(chosen)
    if talk.me is not None:
        queries.set_locale(talk.ctx, talk.me.id, chosen)
    talk.t = type(talk.t)(str(chosen), talk.t.tz)
    talk.say("chat.lang_set")


def show_help(talk: Talk) -> None:
    role = talk.me.role if talk.me else None
    talk.say("chat.help")
    if role in (Role.HR, Role.HR_MANAGER, Role.HR_DIRECTOR):
        talk.say("chat.help_hr")
    if role is Role.FINANCE:
        talk.say("chat.help_finance")
