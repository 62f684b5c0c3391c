"""Which request bodies may be handed to slack-bolt: those in the shapes Slack documents.

bolt parses the body before it checks the signature, and then reads ids and sub-objects by
indexing, trusting the shapes Slack sends (``body["event"]["type"]``, ``payload["user"]["id"]``,
``body["actions"][0]["action_id"]``). Anything else raises inside bolt: a 500, or worse, an event
admitted by the guard that no listener then takes. Found by fuzzing
(tests/integration/test_fuzz_webhooks.py). ``readable`` parses the body exactly as bolt will
(``slack_bolt.request.internals.parse_body``) and checks those few shapes, so the adapter can
answer 400 instead. Pure functions, no I/O.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

_OBJECTS = ("event", "message", "previous_message", "container")
"""Sub-objects bolt or the adapter call ``.get`` on whenever the key is present."""
_IDS = ("user", "team", "channel", "enterprise")
"""A string id, or an object holding one; bolt tests ``"id" in value`` on anything else."""
_OBJECT_LISTS = ("authorizations", "response_urls", "actions")
_NESTED = ("event", "message", "previous_message", "item", "assistant_thread")
"""Where bolt looks again for ids (recursively, like the top level)."""
_MAX_DEPTH = 8
"""Slack nests these a few levels at most; deeper is not a Slack payload."""


def parse_body(raw: bytes, content_type: str | None) -> Any:
    """The body as bolt parses it; ``ValueError`` (``UnicodeDecodeError``, JSON errors) when
    bolt would raise instead."""
    body = raw.decode("utf-8")
    if not body:
        return {}
    if content_type == "application/json" or body.startswith("{"):
        return json.loads(body)
    if "payload" in body:
        payload = dict(parse_qsl(body, keep_blank_values=True)).get("payload")
        return {} if payload is None else json.loads(payload)
    return dict(parse_qsl(body, keep_blank_values=True))


def readable(raw: bytes, content_type: str | None) -> bool:
    """Whether bolt can be given this body without failing on its shape."""
    media = content_type.split(";")[0] if content_type else None
    try:
        body = parse_body(raw, media)
    except (ValueError, RecursionError):
        return False
    if not isinstance(body, dict) or not _well_shaped(body, 0):
        return False
    event = body.get("event")
    if isinstance(event, dict) and not isinstance(event.get("type", ""), str):
        return False  # listeners are matched on the event type with a regular expression
    if body.get("type") == "block_actions":
        actions = body.get("actions")
        # The guard admits a click before bolt matches it on its first action's id.
        return (
            isinstance(actions, list)
            and bool(actions)
            and isinstance(actions[0].get("action_id"), str)
        )
    return True


def _well_shaped(value: dict[str, Any], depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if any(key in value and not isinstance(value[key], dict) for key in _OBJECTS):
        return False
    if any(value.get(key) is not None and not isinstance(value[key], str | dict) for key in _IDS):
        return False
    for key in _OBJECT_LISTS:
        items = value.get(key)
        if items is not None and not (
            isinstance(items, list) and all(isinstance(item, dict) for item in items)
        ):
            return False
    nested = [value[key] for key in _NESTED if isinstance(value.get(key), dict)]
    nested += value.get("authorizations") or []
    return all(_well_shaped(item, depth + 1) for item in nested)
