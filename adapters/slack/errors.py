"""Slack Web API failures sorted for the outbox: wait and retry, or give up on Slack for now.

A 429 carries ``Retry-After`` and is retried by the dispatcher no sooner than asked; a person
Slack cannot reach (left the workspace, deactivated, DMs closed) or a token Slack refuses is
permanent, so the notice falls back to e-mail at once instead of burning its attempts.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.sms import retry_after_seconds
from core.ports import DeliveryFailed

UNREACHABLE = frozenset(
    {
        "not_in_channel",
        "user_not_found",
        "users_not_found",
        "account_inactive",
        "user_disabled",
        "channel_not_found",
        "is_archived",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "user_is_bot",
        "restricted_action",
    }
)
"""Error codes that mean this address cannot be reached on Slack: mark it and use e-mail."""

MISCONFIGURED = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive_bot"}
    | {"missing_scope", "no_permission", "team_access_not_granted", "ekm_access_denied"}
)
"""The installation itself is wrong: no retry can fix it, an operator must."""

TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackConfigurationError(RuntimeError):
    """Slack answered in a way only a change to the app's set-up can fix (a missing scope,
    a revoked token, a login page instead of a file)."""


def error_code(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error") or "")
    return ""


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if str(key).lower() == name.lower():
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def delivery_failure(error: Exception) -> DeliveryFailed:
    """The ``DeliveryFailed`` a Slack call's exception means for the dispatcher."""
    if not isinstance(error, SlackApiError):  # the network: try again later
        return DeliveryFailed(f"Slack unreachable: {type(error).__name__}")
    status = int(getattr(error.response, "status_code", 0) or 0)
    code = error_code(error)
    if status == 429 or code == "ratelimited":
        wait = retry_after_seconds(_header(error.response.headers, "Retry-After"))
        return DeliveryFailed("Slack rate limit (429)", retry_after=wait if wait else 1.0)
    if status >= 500 or code in TRANSIENT:
        return DeliveryFailed(f"Slack answered {status} {code}".strip())
    if code in UNREACHABLE:
        return DeliveryFailed(f"Slack cannot reach this person: {code}", permanent=True)
    if code in MISCONFIGURED:
        return DeliveryFailed(f"Slack app misconfigured: {code}", permanent=True)
    # Anything else (invalid_blocks, msg_too_long…) would fail the same way again: fall back.
    return DeliveryFailed(f"Slack refused the message: {code or status}", permanent=True)
