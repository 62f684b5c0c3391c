"""The bureau and bank gateways over HTTP: one JSON POST per filing or payment, retried safely.

The contract is ours; a bureau or bank integration (or a small proxy in front of one) speaks it:

* Every request is ``POST`` with ``Authorization: Bearer <token>``, ``Idempotency-Key: <key>``
  (the port object's ``idempotency_key``) and a JSON body. Amounts are strings with two
  decimals (``"1234.50"``), periods ``YYYY-MM``, dates ISO ``YYYY-MM-DD``.
* ``POST {base}/batches`` files a month of contributions, body
  ``{"branch_code", "period", "total", "lines": [{"employee_no", "name", "id_number", "base",
  "employer_amount", "employee_amount"}]}``; answers 200/201 ``{"reference", "message"?}``.
* ``POST {base}/batch-payments`` pays a filed batch, body ``{"branch_code", "period", "amount",
  "bureau_reference"}``; answers ``{"reference", "paid_on"?, "receipt_pdf"? (base64)}``.
* ``POST {base}/claim-payouts`` reimburses a claim, body ``{"claim_reference", "employee_no",
  "amount"}``; answers ``{"reference", "paid_on"?}``.
* The far side must treat a repeated ``Idempotency-Key`` as the same request and answer with its
  first answer, so a retry never files or pays twice.

Connection errors, timeouts, 408, 409 (the same key is still being processed), 429 and 5xx are
retried ``retries`` more times with exponential backoff (``backoff * 2**attempt``; a
``Retry-After`` wins, capped at 30 s), always with the same key; after the last attempt
``GatewayError(retryable=True)``. Any other refusal raises ``GatewayError(retryable=False)`` at
once with the far side's ``error`` or ``message`` text. A 2xx without JSON or without a
``reference`` is ``retryable=True``: the next try with the same key gets the stored answer.

ID numbers and the token never reach logs or exception messages: text echoed by the far side
is scrubbed before use. Malformed optional answer fields (``paid_on``, ``receipt_pdf``) are
dropped with a warning rather than failing, because the money has moved once a reference exists.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from types import TracebackType
from typing import Any

import httpx

from adapters.sms import retry_after_seconds
from core.ports import (
    BatchPayment,
    BatchSubmission,
    ClaimPayout,
    GatewayError,
    GatewayReceipt,
    SubmissionLine,
)

logger = logging.getLogger("hrbot.gateways")

MAX_WAIT = 30.0
"""Longest pause between attempts, whatever ``Retry-After`` asks: the caller holds a lease."""

_RETRY_STATUSES = frozenset({408, 409, 429})
_CENTS = Decimal("0.01")
# Shaped like a mainland resident ID (18 characters, or the old 15 digits), wherever it came from.
_ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MAX_MESSAGE = 200


def money(value: Decimal) -> str:
    """An amount as the contract wants it: a string with exactly two decimals."""
    if not value.is_finite():
        raise GatewayError("amount is not a finite number", retryable=False)
    return str(value.quantize(_CENTS, rounding=ROUND_HALF_UP))


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` safe for a log line or an HR-facing error: no secret, no ID-shaped number."""
    for secret in secrets:
        if secret:
            text = re.sub(re.escape(secret), "***", text, flags=re.IGNORECASE)
    text = " ".join(_ID_SHAPED.sub("***", text).split())
    return text[:_MAX_MESSAGE]


@dataclass(frozen=True)
class _Retry:
    """An attempt that may succeed if repeated: why, and how long the far side asked us to wait."""

    reason: str
    retry_after: float | None = None


class _HttpGateway:
    """The shared POST-with-retries; subclasses only build bodies and read answers."""

    name = "gateway"

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        client: httpx.Client | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("gateway base URL must be an absolute http(s) URL")
        if retries < 0 or backoff < 0 or timeout <= 0:
            raise ValueError("retries and backoff must be >= 0 and timeout > 0")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout)
        self._sleep = sleep

    def __repr__(self) -> str:  # the default would be harmless, but never risk showing the token
        return f"{type(self).__name__}({self.base_url!r})"

    def close(self) -> None:
        """Close the HTTP client if this gateway created it; an injected one is the caller's."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> _HttpGateway:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _post(
        self, path: str, key: str, body: dict[str, Any], secrets: Iterable[str | None] = ()
    ) -> GatewayReceipt:
        """POST until accepted, refused, or out of attempts; every attempt carries ``key``."""
        hidden = (*secrets, self._token)
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Idempotency-Key": key,
            "Accept": "application/json",
        }
        last = _Retry("no attempt")
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self._wait(attempt - 1, last.retry_after))
            outcome = self._attempt(path, key, body, headers, hidden, attempt)
            if isinstance(outcome, GatewayReceipt):
                logger.info("POST %s attempt %d key %s accepted", path, attempt, key)
                return outcome
            last = outcome
        raise GatewayError(
            f"{self.name} unavailable after {self.retries + 1} attempts: {last.reason}",
            retryable=True,
        )

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        wanted = retry_after if retry_after is not None else self.backoff * 2**attempt
        return max(0.0, min(MAX_WAIT, wanted))

    def _attempt(
        self,
        path: str,
        key: str,
        body: dict[str, Any],
        headers: dict[str, str],
        secrets: tuple[str | None, ...],
        attempt: int,
    ) -> GatewayReceipt | _Retry:
        try:
            response = self._client.post(
                self.base_url + path, json=body, headers=headers, timeout=self.timeout
            )
        except httpx.TransportError as error:
            # str(error) may carry the URL or socket details: the class name is enough.
            reason = type(error).__name__
            logger.warning("POST %s attempt %d key %s failed: %s", path, attempt, key, reason)
            return _Retry(reason)
        status = response.status_code
        if status in _RETRY_STATUSES or status >= 500:
            logger.warning("POST %s attempt %d key %s answered %d", path, attempt, key, status)
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            return _Retry(f"answered {status}", wait)
        if not 200 <= status < 300:
            logger.warning("POST %s attempt %d key %s refused: %d", path, attempt, key, status)
            text = _error_text(response) or f"refused: {status}"
            raise GatewayError(scrub(text, secrets), retryable=False)
        return self._accepted(response, path, key, secrets)

    def _accepted(
        self, response: httpx.Response, path: str, key: str, secrets: tuple[str | None, ...]
    ) -> GatewayReceipt:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        reference = answer.get("reference") if isinstance(answer, dict) else None
        if not isinstance(answer, dict) or not isinstance(reference, str) or not reference.strip():
            status = response.status_code
            logger.warning("POST %s key %s answered %d without a reference", path, key, status)
            raise GatewayError(f"{self.name} answered {status} without a reference", retryable=True)
        message = answer.get("message")
        return GatewayReceipt(
            reference=reference.strip(),
            paid_on=_paid_on(answer.get("paid_on"), key),
            document=_document(answer.get("receipt_pdf"), key),
            message=scrub(message, secrets) if isinstance(message, str) else "",
        )


class HttpSocialInsuranceGateway(_HttpGateway):
    """``SocialInsuranceGateway``: files contribution batches with the bureau."""

    name = "bureau"

    def submit_batch(self, submission: BatchSubmission) -> GatewayReceipt:
        body = {
            "branch_code": submission.branch_code,
            "period": submission.period,
            "total": money(submission.total),
            "lines": [_line(line) for line in submission.lines],
        }
        ids = [line.id_number for line in submission.lines]
        return self._post("/batches", submission.idempotency_key, body, ids)


class HttpPaymentGateway(_HttpGateway):
    """``PaymentGateway``: pays filed batches and reimburses approved claims through the bank."""

    name = "bank"

    def pay_batch(self, payment: BatchPayment) -> GatewayReceipt:
        body = {
            "branch_code": payment.branch_code,
            "period": payment.period,
            "amount": money(payment.amount),
            "bureau_reference": payment.bureau_reference,
        }
        return self._post("/batch-payments", payment.idempotency_key, body)

    def pay_claim(self, payout: ClaimPayout) -> GatewayReceipt:
        body = {
            "claim_reference": payout.claim_reference,
            "employee_no": payout.employee_no,
            "amount": money(payout.amount),
        }
        return self._post("/claim-payouts", payout.idempotency_key, body)


def _line(line: SubmissionLine) -> dict[str, str | None]:
    return {
        "employee_no": line.employee_no,
        "name": line.name,
        "id_number": line.id_number,
        "base": money(line.base),
        "employer_amount": money(line.employer_amount),
        "employee_amount": money(line.employee_amount),
    }


def _error_text(response: httpx.Response) -> str | None:
    """The refusal's own words, from ``error`` (text or ``{"message"}``) or ``message``."""
    try:
        answer = response.json()
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    for field in ("error", "message"):
        value = answer.get(field)
        if isinstance(value, dict):
            value = value.get("message")
        if isinstance(value, str) and value.strip():
            return value
    return None


def _paid_on(value: object, key: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        logger.warning("key %s: ignoring a paid_on that is not an ISO date", key)
        return None


def _document(value: object, key: str) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        logger.warning("key %s: ignoring a receipt_pdf that is not base64", key)
        return None
