"""The bureau and bank gateways against a local fake gateway server, and the in-memory sandbox."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import httpx
import pytest

from adapters.gateways import HttpPaymentGateway, HttpSocialInsuranceGateway, SandboxGateway
from adapters.gateways.http import MAX_WAIT, money, scrub
from core.ports import (
    BatchPayment,
    BatchSubmission,
    ClaimPayout,
    GatewayError,
    SubmissionLine,
)
from tests.fakes_gateway import RECEIPT_PDF, FakeGateway, gateway_server

TOKEN = "t0ken-s3cret"
ID_NUMBER = "11010519491231002X"
SUBMISSION = BatchSubmission(
    idempotency_key="batch-7-v2-submit",
    branch_code="SH",
    period="2026-09",
    total=Decimal("1234.5"),
    lines=(
        SubmissionLine(
            "E001", "张三", ID_NUMBER, Decimal("8000"), Decimal("1000.3"), Decimal("234.2")
        ),
        SubmissionLine("E002", "李四", None, Decimal("0"), Decimal("0"), Decimal("0")),
    ),
)
PAYMENT = BatchPayment("batch-7-v2-pay", "SH", "2026-09", Decimal("1234.50"), "BUR-0001")
PAYOUT = ClaimPayout("claim-3-pay", "C000003", "E001", Decimal("88.8"))


@pytest.fixture
def fake() -> Iterator[FakeGateway]:
    with gateway_server(token=TOKEN) as server:
        yield server


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def bureau(fake: FakeGateway, waits: list[float]) -> Iterator[HttpSocialInsuranceGateway]:
    gateway = HttpSocialInsuranceGateway(
        fake.url, TOKEN, timeout=0.3, backoff=0.01, sleep=waits.append
    )
    yield gateway
    gateway.close()


@pytest.fixture
def bank(fake: FakeGateway, waits: list[float]) -> Iterator[HttpPaymentGateway]:
    gateway = HttpPaymentGateway(fake.url, TOKEN, timeout=0.3, backoff=0.01, sleep=waits.append)
    yield gateway
    gateway.close()


def keys(fake: FakeGateway, path: str) -> list[str]:
    return [request["headers"]["Idempotency-Key"] for request in fake.requests_to(path)]


def test_filing_sends_the_contract_and_maps_the_receipt(
    fake: FakeGateway, bureau: HttpSocialInsuranceGateway
) -> None:
    receipt = bureau.submit_batch(SUBMISSION)
    assert receipt.reference == "BUR-0001"
    assert receipt.message == "2 lines accepted"
    assert receipt.paid_on is None and receipt.document is None
    (request,) = fake.requests_to("/batches")
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["Idempotency-Key"] == "batch-7-v2-submit"
    assert request["json"] == {
        "branch_code": "SH",
        "period": "2026-09",
        "total": "1234.50",
        "lines": [
            {
                "employee_no": "E001",
                "name": "张三",
                "id_number": ID_NUMBER,
                "base": "8000.00",
                "employer_amount": "1000.30",
                "employee_amount": "234.20",
            },
            {
                "employee_no": "E002",
                "name": "李四",
                "id_number": None,
                "base": "0.00",
                "employer_amount": "0.00",
                "employee_amount": "0.00",
            },
        ],
    }
    assert fake.filings == {"batch-7-v2-submit": request["json"]}


def test_batch_payment_maps_paid_on_and_the_receipt_pdf(
    fake: FakeGateway, bank: HttpPaymentGateway
) -> None:
    receipt = bank.pay_batch(PAYMENT)
    assert receipt.reference.startswith("PAY-")
    assert receipt.paid_on == date(2026, 10, 15)
    assert receipt.document == RECEIPT_PDF
    assert fake.payments == {
        "batch-7-v2-pay": {
            "branch_code": "SH",
            "period": "2026-09",
            "amount": "1234.50",
            "bureau_reference": "BUR-0001",
        }
    }


def test_claim_payout_is_paid_and_mapped(fake: FakeGateway, bank: HttpPaymentGateway) -> None:
    receipt = bank.pay_claim(PAYOUT)
    assert receipt.reference.startswith("CLM-")
    assert receipt.paid_on == date(2026, 10, 15)
    assert receipt.document is None
    assert fake.payments["claim-3-pay"] == {
        "claim_reference": "C000003",
        "employee_no": "E001",
        "amount": "88.80",
    }


def test_repeating_a_key_returns_the_first_receipt_and_pays_once(
    fake: FakeGateway, bank: HttpPaymentGateway
) -> None:
    first = bank.pay_batch(PAYMENT)
    second = bank.pay_batch(PAYMENT)
    assert second == first
    assert len(fake.payments) == 1


def test_a_timed_out_payment_is_retried_with_the_same_key_and_paid_once(
    fake: FakeGateway, bank: HttpPaymentGateway, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script("/batch-payments", ("delay", 0.8))
    receipt = bank.pay_batch(PAYMENT)
    assert "ReadTimeout" in caplog.text
    assert keys(fake, "/batch-payments") == ["batch-7-v2-pay", "batch-7-v2-pay"]
    assert len(fake.payments) == 1
    assert receipt.reference == "PAY-0001"


def test_503_then_success(fake: FakeGateway, bank: HttpPaymentGateway, waits: list[float]) -> None:
    fake.script("/claim-payouts", ("status", 503))
    receipt = bank.pay_claim(PAYOUT)
    assert receipt.reference.startswith("CLM-")
    assert keys(fake, "/claim-payouts") == ["claim-3-pay", "claim-3-pay"]
    assert waits == [0.01]


def test_429_honours_retry_after(
    fake: FakeGateway, bank: HttpPaymentGateway, waits: list[float]
) -> None:
    fake.script("/batch-payments", ("status", 429, {"error": "slow down"}, {"Retry-After": "0"}))
    assert bank.pay_batch(PAYMENT).reference.startswith("PAY-")
    assert waits == [0.0]
    assert len(fake.requests_to("/batch-payments")) == 2


def test_a_long_retry_after_is_capped(
    fake: FakeGateway, bank: HttpPaymentGateway, waits: list[float]
) -> None:
    fake.script("/batch-payments", ("status", 429, None, {"Retry-After": "3600"}))
    bank.pay_batch(PAYMENT)
    assert waits == [MAX_WAIT]


def test_409_in_progress_is_retried(fake: FakeGateway, bank: HttpPaymentGateway) -> None:
    fake.script("/claim-payouts", ("status", 409, {"error": "in progress"}))
    assert bank.pay_claim(PAYOUT).reference.startswith("CLM-")
    assert len(fake.payments) == 1


def test_a_refusal_is_not_retried_and_carries_the_servers_words(
    fake: FakeGateway, bank: HttpPaymentGateway
) -> None:
    fake.script("/batch-payments", ("status", 422, {"error": "bureau reference unknown"}))
    with pytest.raises(GatewayError) as caught:
        bank.pay_batch(PAYMENT)
    assert caught.value.retryable is False
    assert str(caught.value) == "bureau reference unknown"
    assert len(fake.requests_to("/batch-payments")) == 1
    assert fake.payments == {}


def test_a_refusal_without_words_names_the_status(
    fake: FakeGateway, bank: HttpPaymentGateway
) -> None:
    fake.script("/claim-payouts", ("status", 403))
    with pytest.raises(GatewayError, match=r"^refused: 403$") as caught:
        bank.pay_claim(PAYOUT)
    assert caught.value.retryable is False


def test_when_every_attempt_fails_the_error_is_retryable(
    fake: FakeGateway, bank: HttpPaymentGateway, waits: list[float]
) -> None:
    fake.script("/batch-payments", *[("status", 503)] * 4)
    with pytest.raises(GatewayError) as caught:
        bank.pay_batch(PAYMENT)
    assert caught.value.retryable is True
    assert "4 attempts" in str(caught.value) and "503" in str(caught.value)
    assert keys(fake, "/batch-payments") == ["batch-7-v2-pay"] * 4
    assert waits == [0.01, 0.02, 0.04]
    assert fake.payments == {}


def test_a_wrong_token_is_refused_at_once(fake: FakeGateway) -> None:
    bank = HttpPaymentGateway(fake.url, "wrong", timeout=0.3, backoff=0.01)
    with bank, pytest.raises(GatewayError) as caught:
        bank.pay_claim(PAYOUT)
    assert caught.value.retryable is False
    assert str(caught.value) == "invalid token"
    assert len(fake.requests) == 1


def test_a_reset_connection_is_retried(
    fake: FakeGateway, bank: HttpPaymentGateway, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script("/batch-payments", ("reset",), ("reset",))
    assert bank.pay_batch(PAYMENT).reference.startswith("PAY-")
    assert "ReadError" in caplog.text or "RemoteProtocolError" in caplog.text
    assert len(fake.requests_to("/batch-payments")) == 3
    assert len(fake.payments) == 1


def test_an_unreachable_gateway_is_retryable(waits: list[float]) -> None:
    with gateway_server() as gone:
        url = gone.url
    bank = HttpPaymentGateway(url, TOKEN, timeout=0.3, retries=1, sleep=waits.append)
    with bank, pytest.raises(GatewayError, match="ConnectError") as caught:
        bank.pay_claim(PAYOUT)
    assert caught.value.retryable is True
    assert waits == [0.5]


@pytest.mark.parametrize("content", [b"<html>ok</html>", b'{"status": "ok"}'])
def test_success_without_a_reference_is_retryable(
    fake: FakeGateway, bank: HttpPaymentGateway, content: bytes
) -> None:
    fake.script("/claim-payouts", ("raw", 200, content))
    with pytest.raises(GatewayError) as caught:
        bank.pay_claim(PAYOUT)
    assert caught.value.retryable is True
    assert len(fake.requests_to("/claim-payouts")) == 1


def test_a_key_reused_for_another_request_is_refused(
    fake: FakeGateway, bank: HttpPaymentGateway
) -> None:
    bank.pay_claim(PAYOUT)
    other = ClaimPayout(PAYOUT.idempotency_key, "C000003", "E001", Decimal("99.00"))
    with pytest.raises(GatewayError, match="reused") as caught:
        bank.pay_claim(other)
    assert caught.value.retryable is False
    assert len(fake.payments) == 1


def test_id_numbers_and_the_token_stay_out_of_errors_and_logs(
    fake: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"error": f"line E001: id_number {ID_NUMBER} does not match, token {TOKEN}"}
    fake.script("/batches", ("status", 503, echo), ("status", 422, echo))
    bureau = HttpSocialInsuranceGateway(fake.url, TOKEN, timeout=0.3, backoff=0.01)
    with bureau, pytest.raises(GatewayError) as caught:
        bureau.submit_batch(SUBMISSION)
    text = str(caught.value)
    assert caught.value.retryable is False
    assert text.startswith("line E001: id_number *** does not match")
    for secret in (ID_NUMBER, ID_NUMBER.lower(), TOKEN):
        assert secret not in text
        assert secret not in caplog.text
    assert "batch-7-v2-submit" in caplog.text  # the key is what people trace a request by


def test_scrub_hides_id_shaped_numbers_it_was_not_told_about() -> None:
    assert scrub("bad 110105194912310021 and 110105491231002") == "bad *** and ***"
    assert scrub("reference BUR-0001 for 2026-09") == "reference BUR-0001 for 2026-09"


def test_amounts_have_two_decimals() -> None:
    assert money(Decimal("1234.5")) == "1234.50"
    assert money(Decimal("0.005")) == "0.01"
    assert money(Decimal("1E+3")) == "1000.00"
    with pytest.raises(GatewayError):
        money(Decimal("NaN"))


def test_close_leaves_an_injected_client_open(fake: FakeGateway) -> None:
    client = httpx.Client()
    HttpPaymentGateway(fake.url, TOKEN, client=client).close()
    assert not client.is_closed
    client.close()


def test_a_bad_base_url_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="absolute"):
        HttpPaymentGateway("gateway.example/api", TOKEN)


def test_sandbox_pays_each_key_once() -> None:
    sandbox = SandboxGateway(today=lambda: date(2026, 10, 12))
    filed = sandbox.submit_batch(SUBMISSION)
    assert filed.reference.startswith("SB-") and sandbox.submit_batch(SUBMISSION) == filed
    first = sandbox.pay_batch(PAYMENT)
    assert first.paid_on == date(2026, 10, 12)
    assert sandbox.pay_batch(PAYMENT) == first
    sandbox.pay_claim(PAYOUT)
    assert set(sandbox.payments) == {"batch-7-v2-pay", "claim-3-pay"}
    assert sandbox.total_paid == Decimal("1323.30")
    assert SandboxGateway().pay_batch(PAYMENT).reference == first.reference


def test_sandbox_counts_concurrent_repeats_once() -> None:
    sandbox = SandboxGateway()
    receipts = []
    threads = [
        threading.Thread(target=lambda: receipts.append(sandbox.pay_claim(PAYOUT)))
        for _ in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(receipts)) == 1
    assert sandbox.paid == {"claim-3-pay": Decimal("88.8")}
