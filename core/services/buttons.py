"""One-tap buttons: a short opaque token names a button of a notice sent to one person.

The token (``n<notice id>.<index>``) carries no claim or batch id a client could edit; the server
looks up what the button does and refuses anyone but the notice's recipient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.domain.errors import InvalidValue, NotFound, PermissionDenied
from core.services.context import Context

_TOKEN = re.compile(r"^n(\d{1,12})\.(\d{1,2})$")


@dataclass(frozen=True)
class ResolvedButton:
    action: str
    payload: dict[str, Any]
    notification_id: int


def button_token(notification_id: int, index: int) -> str:
    return f"n{notification_id}.{index}"


def resolve_button(ctx: Context, token: str, actor_id: int) -> ResolvedButton:
    match = _TOKEN.match(token or "")
    if not match:
        raise InvalidValue("this button is not recognised", field="token")
    notification_id, index = int(match.group(1)), int(match.group(2))
    with ctx.uow() as uow:
        try:
            notification = uow.outbox.get(notification_id)
        except NotFound:
            raise InvalidValue("this button is not recognised", field="token") from None
        if notification.recipient_id != actor_id:
            raise PermissionDenied("this button was sent to someone else")
        if index >= len(notification.buttons):
            raise InvalidValue("this button is not recognised", field="token")
        button = notification.buttons[index]
        return ResolvedButton(button["action"], dict(button["payload"]), notification.id)
