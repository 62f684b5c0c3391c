"""Conversations as transcripts (after zulip's ``verify_dialog``): say something, click a button,
and assert on the message keys the bot answered with, so wording can change freely."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation import Conversation
from core.chat import Address, Attachment, ButtonClick, IncomingMessage, OutgoingMessage, Platform


@dataclass
class Chatter:
    conversation: Conversation
    user_id: str
    platform: Platform = Platform.SLACK
    employee_id: int | None = None
    last: list[OutgoingMessage] = field(default_factory=list)

    @property
    def address(self) -> Address:
        return Address(self.platform, self.user_id)

    def says(self, text: str, *files: tuple[str, bytes]) -> list[str]:
        attachments = tuple(
            Attachment(name, None, len(content), f"f{i}", content)
            for i, (name, content) in enumerate(files)
        )
        message = IncomingMessage(self.address, text, attachments)
        self.last = self.conversation.on_message(message, self.employee_id)
        return self.keys

    def clicks(self, action: str, index: int = 0, token: str | None = None) -> list[str]:
        if token is None:
            buttons = [b for m in self.last for b in m.buttons if b.action == action]
            assert buttons, f"no {action} button in {self.keys}"
            token = buttons[index].token
        self.last = self.conversation.on_click(
            ButtonClick(self.address, action, token), self.employee_id
        )
        return self.keys

    @property
    def keys(self) -> list[str]:
        return [m.key or "" for m in self.last]

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.last)
