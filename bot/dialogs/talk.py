"""One turn of the conversation: who is talking, in which language, and what the bot replies.

Buttons offered in replies get short random tokens kept in the user's session (in the
database), so a click can only mean what the server offered, and only to the person it was
offered to.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import Translator
from core.chat import OutgoingButton, OutgoingFile, OutgoingMessage
from core.domain.conversations import ChatSession
from core.domain.directory import Employee
from core.services.context import Context

MAX_SESSION_BUTTONS = 60


@dataclass
class Talk:
    ctx: Context
    session: ChatSession
    me: Employee | None
    t: Translator
    replies: list[OutgoingMessage] = field(default_factory=list)

    def say(self, key: str, buttons: tuple[OutgoingButton, ...] = (), **params: object) -> None:
        self.replies.append(
            OutgoingMessage(
                text=self.t(key, **params),
                buttons=buttons,
                key=key,
                params=params,
                locale=self.t.locale,
            )
        )

    def send_file(self, key: str, file: OutgoingFile, **params: Any) -> None:
        self.replies.append(
            OutgoingMessage(
                text=self.t(key, **params),
                files=(file,),
                key=key,
                params=params,
                locale=self.t.locale,
            )
        )

    def button(
        self, label_key: str, action: str, style: str = "default", **payload: Any
    ) -> OutgoingButton:
        token = "s" + secrets.token_hex(6)
        offered = dict(self.session.buttons)
        offered[token] = {"action": action, "payload": payload}
        if len(offered) > MAX_SESSION_BUTTONS:  # keep the newest; old cards' buttons expire
            offered = dict(list(offered.items())[-MAX_SESSION_BUTTONS:])
        self.session.buttons = offered
        return OutgoingButton(
            label=self.t(label_key, **payload), action=action, token=token, style=style
        )

    def enter(self, dialog: str | None, **data: Any) -> None:
        self.session.dialog = dialog
        self.session.data = dict(data)

    def leave(self) -> None:
        self.enter(None)

    @property
    def employee(self) -> Employee:
        assert self.me is not None, "dialogs that need an employee are guarded by the router"
        return self.me


def printable(filename: str) -> str:
    """A file name safe to echo: no control or bidi characters, at most 80 characters."""
    return "".join(ch for ch in filename if ch.isprintable())[:80]
