"""A bureau and bank that accept everything, in memory: for ``hrbot demo`` and for trying hrbot
without a bureau connection. Nothing leaves the process; nobody is paid.

It keeps the promise the real gateways make: a repeated idempotency key gets the first receipt
back and is counted once, so the settlement flow behaves exactly as it would in production.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from core.ports import BatchPayment, BatchSubmission, ClaimPayout, GatewayReceipt


def sandbox_reference(key: str) -> str:
    """The same key always gets the same reference, across restarts too."""
    return "SB-" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()


class SandboxGateway:
    """Both ``SocialInsuranceGateway`` and ``PaymentGateway``; ``filings`` and ``payments`` map
    each idempotency key to its (first) receipt, ``paid`` to the amount paid under it."""

    def __init__(self, today: Callable[[], date] = date.today) -> None:
        self._today = today
        self._lock = threading.Lock()
        self.filings: dict[str, GatewayReceipt] = {}
        self.payments: dict[str, GatewayReceipt] = {}
        self.paid: dict[str, Decimal] = {}

    def submit_batch(self, submission: BatchSubmission) -> GatewayReceipt:
        key = submission.idempotency_key
        with self._lock:
            if key not in self.filings:
                self.filings[key] = GatewayReceipt(
                    reference=sandbox_reference(key),
                    message=f"sandbox: {len(submission.lines)} lines filed, nothing sent",
                )
            return self.filings[key]

    def pay_batch(self, payment: BatchPayment) -> GatewayReceipt:
        return self._pay(payment.idempotency_key, payment.amount)

    def pay_claim(self, payout: ClaimPayout) -> GatewayReceipt:
        return self._pay(payout.idempotency_key, payout.amount)

    @property
    def total_paid(self) -> Decimal:
        with self._lock:
            return sum(self.paid.values(), Decimal("0"))

    def _pay(self, key: str, amount: Decimal) -> GatewayReceipt:
        with self._lock:
            if key not in self.payments:
                self.payments[key] = GatewayReceipt(
                    reference=sandbox_reference(key),
                    paid_on=self._today(),
                    message="sandbox: no money moved",
                )
                self.paid[key] = amount
            return self.payments[key]
