"""Who is acting in a web request, for the request's log lines: the dashboard notes the signed-in
account and the web chat the chosen person in the request's ASGI state, where the app's
middleware (``bot/observability.py``) reads it. Internal ids only: an account or employee number
in a log line addresses nobody outside hrbot.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.requests import Request

STATE_KEY = "hrbot_actor"


def note_actor(request: Request, actor: str) -> None:
    setattr(request.state, STATE_KEY, actor)


def actor_of(scope: MutableMapping[str, Any]) -> str | None:
    state = scope.get("state")
    value = state.get(STATE_KEY) if isinstance(state, dict) else None
    return value if isinstance(value, str) else None
