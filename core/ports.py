"""Protocols the outside world implements for the core: time, channels, storage, gateways."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from core.chat import Address, OutgoingMessage
from core.domain.directory import Employee
from core.domain.notifications import Notification


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class PasswordHasher(Protocol):
    """Slow, salted password hashing (argon2 in production): the core stores only the hash."""

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


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

    def delete(self, key: str) -> None:
        """Remove the document; a key already gone is no error (purges may repeat)."""
        ...

    def reseal(self, key: str) -> bool:
        """Store the document again under the current encryption key; False when it already
        was (``hrbot keys rotate``). A key that names no file raises ``FileNotFoundError``."""
        ...


@dataclass(frozen=True)
class SubmissionLine:
    employee_no: str
    name: str
    id_number: str | None
    """Sent to the bureau, which needs it; never logged or shown whole."""
    base: Decimal
    employer_amount: Decimal
    employee_amount: Decimal


@dataclass(frozen=True)
class BatchSubmission:
    """A branch's month of contributions, filed with the social insurance bureau."""

    idempotency_key: str
    """The same for every attempt at filing one version of one batch: never filed twice."""
    branch_code: str
    period: str
    """``YYYY-MM``."""
    total: Decimal
    lines: tuple[SubmissionLine, ...]


@dataclass(frozen=True)
class BatchPayment:
    """Paying what the bureau assessed for a filed batch."""

    idempotency_key: str
    branch_code: str
    period: str
    amount: Decimal
    bureau_reference: str


@dataclass(frozen=True)
class ClaimPayout:
    """Reimbursing an approved claim to the employee."""

    idempotency_key: str
    claim_reference: str
    employee_no: str
    amount: Decimal


@dataclass(frozen=True)
class GatewayReceipt:
    """What the far side answered when it accepted: its reference, and a receipt if it sent one."""

    reference: str
    paid_on: date | None = None
    document: bytes | None = None
    """A receipt (PDF) when the far side sends one; hrbot writes its own otherwise."""
    message: str = ""


class GatewayError(Exception):
    """The far side refused, or could not be reached after the configured retries.

    ``retryable`` says whether trying the same request again later may succeed (timeouts,
    5xx, 429) or not (the request was refused as it stands).
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class SocialInsuranceGateway(Protocol):
    def submit_batch(self, submission: BatchSubmission) -> GatewayReceipt:
        """File the batch; raises ``GatewayError``. Repeating a key returns the first answer."""
        ...


class PaymentGateway(Protocol):
    def pay_batch(self, payment: BatchPayment) -> GatewayReceipt:
        """Pay a filed batch; raises ``GatewayError``. A repeated key never pays twice."""
        ...

    def pay_claim(self, payout: ClaimPayout) -> GatewayReceipt:
        """Pay out a claim; raises ``GatewayError``. A repeated key never pays twice."""
        ...


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
