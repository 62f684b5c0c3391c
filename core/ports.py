"""Protocols the outside world implements for the core: time, channels, storage, gateways."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from core.chat import Address, OutgoingMessage
from core.domain.directory import Employee
from core.domain.notifications import Notification


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told: tests and ``hrbot demo`` never sleep."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)


class Channel(Protocol):
    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        """Deliver ``message``; returns the platform's message id when it gives one."""
        ...


class UpdatableChannel(Channel, Protocol):
    def update(self, address: Address, message_id: str, message: OutgoingMessage) -> str | None:
        """Replace a message sent earlier (a card whose buttons are spent)."""
        ...


class Renderer(Protocol):
    def render(self, notification: Notification, recipient: Employee) -> OutgoingMessage:
        """Turn a notification's key and parameters into text in the recipient's language."""
        ...


class DocumentStore(Protocol):
    def put(self, key: str, content: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


@dataclass(frozen=True)
class GatewayReceipt:
    reference: str
    accepted: bool = True
    message: str = ""


class SocialInsuranceGateway(Protocol):
    def submit_batch(self, branch_code: str, period: str, total: Decimal) -> GatewayReceipt: ...


class PaymentGateway(Protocol):
    def pay_batch(self, branch_code: str, period: str, total: Decimal) -> GatewayReceipt: ...

    def pay_claim(
        self, claim_reference: str, employee_no: str, amount: Decimal
    ) -> GatewayReceipt: ...


class DeliveryFailed(Exception):
    """A channel could not deliver a message.

    ``retry_after`` is how long the far side asked us to wait (HTTP 429 ``Retry-After``);
    ``permanent`` means retrying cannot help (address refused, user not linked, bot blocked), so
    the dispatcher falls back to the next channel instead.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
