"""What the bot remembers between messages, kept in the database so a restart forgets nothing.

A chat session belongs to one platform user: who they are (once linked), their language, the
dialog they are in (the claim wizard, a reason being asked for …) and the buttons offered to them.
Hand-offs are questions the FAQ could not answer, passed to HR; link codes tie a chat account to
an employee record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(eq=False)
class ChatSession:
    platform: str
    user_id: str
    updated_at: datetime
    employee_id: int | None = None
    locale: str | None = None
    dialog: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    buttons: dict[str, Any] = field(default_factory=dict)
    """Buttons offered in conversation replies: opaque token → action and payload."""
    id: int = field(init=False)


class HandoffState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


@dataclass(eq=False)
class Handoff:
    employee_id: int
    question: str
    lang: str
    created_at: datetime
    guesses: list[dict[str, Any]] = field(default_factory=list)
    state: HandoffState = HandoffState.OPEN
    answer: str | None = None
    answered_by: int | None = None
    answered_at: datetime | None = None
    id: int = field(init=False)


@dataclass(eq=False)
class LinkCode:
    platform: str
    user_id: str
    employee_id: int
    code_hash: str
    expires_at: datetime
    attempts: int = 0
    used: bool = False
    id: int = field(init=False)
