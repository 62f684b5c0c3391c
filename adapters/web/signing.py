"""Signed, time-stamped tokens for the web chat's cookie and its short-lived download links.

Standard library HMAC-SHA256 (no extra dependency): ``value.timestamp.signature``, where the
signature covers a purpose (the salt), the value and the time, so a download token cannot be
replayed as a session cookie or outlive its ``max_age``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


class Signer:
    def __init__(self, secret: str, salt: str) -> None:
        self._key = hashlib.sha256(f"{salt}\x00{secret}".encode()).digest()

    def _mac(self, value: str, stamp: str) -> str:
        digest = hmac.new(self._key, f"{value}\x00{stamp}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def sign(self, value: str, now: float | None = None) -> str:
        stamp = str(int(time.time() if now is None else now))
        return f"{value}.{stamp}.{self._mac(value, stamp)}"

    def unsign(self, token: str, max_age: float, now: float | None = None) -> str | None:
        """The signed value, or None if the token is forged, malformed or older than max_age."""
        parts = token.rsplit(".", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        value, stamp, mac = parts
        if not hmac.compare_digest(mac, self._mac(value, stamp)):
            return None
        age = (time.time() if now is None else now) - int(stamp)
        return value if -60 <= age <= max_age else None
