"""Request verification: anything but a fresh signature over the exact bytes is 401, and
changes nothing (no row written, no Slack call made)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.factories import row_counts
from tests.integration.slack.conftest import SECRET, SlackHarness, dm_event, envelope, sign

Mangle = Callable[[bytes], tuple[bytes, dict[str, Any]]]


def _body() -> bytes:
    return json.dumps(envelope(dm_event("U0ZHANGSAN", "/status")), ensure_ascii=False).encode()


def _flip(body: bytes) -> bytes:
    middle = len(body) // 2
    return body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]


def _reserialised(body: bytes) -> tuple[bytes, dict[str, Any]]:
    # The same JSON, written differently: Slack signs bytes, not meaning.
    headers = sign(body)
    return json.dumps(json.loads(body), separators=(",", ":")).encode(), headers


def _without(name: str) -> Mangle:
    def mangle(body: bytes) -> tuple[bytes, dict[str, Any]]:
        headers = sign(body)
        del headers[name]
        return body, headers

    return mangle


def _with(name: str, value: str | bytes) -> Mangle:
    return lambda body: (body, sign(body) | {name: value})


def _aged(seconds: int) -> Mangle:
    return lambda body: (body, sign(body, timestamp=int(time.time()) + seconds))


FORGERIES: dict[str, Mangle] = {
    "wrong secret": lambda body: (body, sign(body, secret=SECRET[::-1])),
    "flipped body byte": lambda body: (_flip(body), sign(body)),
    "re-serialised body": _reserialised,
    "no signature": _without("X-Slack-Signature"),
    "no timestamp": _without("X-Slack-Request-Timestamp"),
    "garbled signature": _with("X-Slack-Signature", "v0=not-hex-at-all"),
    "other version": _with("X-Slack-Signature", "v1=" + "0" * 64),
    "empty signature": _with("X-Slack-Signature", ""),
    "non-ASCII signature": _with("X-Slack-Signature", "v0=é".encode("latin-1")),
    "garbled timestamp": _with("X-Slack-Request-Timestamp", "yesterday"),
    "negative timestamp": _with("X-Slack-Request-Timestamp", "-1"),
    "huge timestamp": _with("X-Slack-Request-Timestamp", "9" * 400),
    "301 s old": _aged(-301),
    "301 s ahead": _aged(301),
}


@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
async def test_a_forged_or_stale_request_is_refused_and_changes_nothing(
    slack: SlackHarness, forgery: str
) -> None:
    before = row_counts(slack.ctx)
    body, headers = FORGERIES[forgery](_body())
    response = await slack.post(body, {"Content-Type": "application/json", **headers})
    assert response.status_code == 401
    assert row_counts(slack.ctx) == before, "nothing written"
    assert slack.fake.calls == [], "nothing asked of Slack"


@pytest.mark.parametrize("skew", [-299, 299])
async def test_a_request_within_five_minutes_is_taken(slack: SlackHarness, skew: int) -> None:
    body = _body()
    headers = {"Content-Type": "application/json", **_aged(skew)(body)[1]}
    response = await slack.post(body, headers)
    assert response.status_code == 200
    assert [c.method for c in slack.fake.calls].count("chat.postMessage") == 2  # the status
