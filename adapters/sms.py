"""The SMS channel: one JSON POST per message to ``HRBOT_SMS_WEBHOOK_URL``.

The body carries only the phone number and the short SMS text (claim reference and amount, never
names of illnesses or ID numbers); 429 and 5xx are retried, honouring ``Retry-After``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from core.chat import Address, OutgoingMessage
from core.ports import DeliveryFailed


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class SmsChannel:
    """``Channel`` over an HTTP SMS gateway; the address target is the phone number."""

    def __init__(self, url: str, client: httpx.Client | None = None, timeout: float = 10.0) -> None:
        self.url = url
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        payload = {"to": address.target, "text": message.text}
        try:
            response = self.client.post(self.url, json=payload)
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"SMS gateway unreachable: {type(error).__name__}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryFailed(
                f"SMS gateway answered {response.status_code}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if response.status_code >= 400:
            raise DeliveryFailed(f"SMS gateway refused: {response.status_code}", permanent=True)
        try:
            body = response.json()
        except ValueError:
            return None
        message_id = body.get("id") if isinstance(body, dict) else None
        return str(message_id) if message_id is not None else None

    def close(self) -> None:
        self.client.close()
