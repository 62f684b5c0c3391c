"""The whole monthly cycle against a local fake bureau and bank over HTTP.

roster build → HR verifies → finance approves → the worker files the batch and pays it → every
line paid, the receipt filed in each record, everyone told. Then the faults: a payment answered
too late is retried with the same key and paid once; a refused filing or payment leaves the batch
``failed`` with its cause, alerts HR, and a retry finishes it without filing or paying twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.gateways.http import HttpPaymentGateway, HttpSocialInsuranceGateway
from core.domain.batches import BatchState, FailureCause, stuck_cause
from core.domain.claims import ClaimState, DocumentKind
from core.domain.contributions import DelayReason
from core.domain.escalation import SubjectKind
from core.domain.periods import Period
from core.domain.records import RecordKind
from core.domain.settlement import JobKind, JobState
from core.services.batches import approve_batch, retry_batch
from core.services.claims import approve_claim, retry_payout, submit_claim
from core.services.context import Context
from core.services.review import verify_batch
from core.services.roster import build_roster
from core.services.settlement import Gateways, SettlementResult, run_settlement
from tests.factories import (
    Org,
    add_employee,
    add_records,
    audit_trail,
    make_org,
    notices,
    open_complete_claim,
)
from tests.fakes_gateway import FakeGateway, gateway_server

NOV = Period(2026, 11)
TOKEN = "s3cret-token"


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    with gateway_server(TOKEN) as fake:
        yield fake


@pytest.fixture
def gateways(gateway: FakeGateway) -> Iterator[Gateways]:
    options = {"timeout": 0.3, "retries": 2, "backoff": 0.01}
    bureau = HttpSocialInsuranceGateway(f"{gateway.url}", TOKEN, **options)
    bank = HttpPaymentGateway(f"{gateway.url}", TOKEN, **options)
    yield Gateways(bureau, bank)
    bureau.close()
    bank.close()


@pytest.fixture
def org(ctx: Context) -> Org:
    ctx.rules = dataclasses.replace(ctx.rules, settlement="gateway")
    org = make_org(ctx)
    add_employee(ctx, org.branch, "SH01-E002", "孙八", id_sequence=321)
    return org


def approved_batch(ctx: Context, org: Org) -> int:
    (built,) = build_roster(ctx, NOV)
    batch_id = built.batch_id or 0
    verify_batch(ctx, batch_id, org.hr.id, channel="slack")
    approve_batch(ctx, batch_id, org.finance.id, channel="slack")
    return batch_id


def settle(ctx: Context, gateways: Gateways, rounds: int = 3) -> SettlementResult:
    total = SettlementResult()
    for _ in range(rounds):
        done = run_settlement(ctx, gateways, owner="w1")
        total = SettlementResult(
            total.done + done.done, total.failed + done.failed, total.skipped + done.skipped
        )
    return total


def state_of(ctx: Context, batch_id: int) -> BatchState:
    with ctx.uow() as uow:
        return uow.batches.get(batch_id).state


def test_an_approved_batch_is_filed_paid_and_everyone_is_told(
    ctx: Context, org: Org, gateway: FakeGateway, gateways: Gateways
) -> None:
    batch_id = approved_batch(ctx, org)
    assert settle(ctx, gateways) == SettlementResult(done=2)
    assert state_of(ctx, batch_id) is BatchState.PAID
    (filing,) = gateway.filings.values()
    assert filing["period"] == "2026-11" and len(filing["lines"]) == 6
    assert {line["employee_no"] for line in filing["lines"]} >= {"SH01-E001", "SH01-E002"}
    (payment,) = gateway.payments.values()
    with ctx.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert payment["amount"] == str(batch.total)
        assert payment["bureau_reference"].startswith("BUR")
        assert batch.paid_date == date(2026, 10, 15) and batch.payment_reference
        records = uow.rosters.records(NOV)
        assert all(record.paid for record in records.values())
        receipts = uow.records.of_employee(org.employee.id, RecordKind.CONTRIBUTION_RECEIPT)
        assert [r.content_type for r in receipts] == ["application/pdf"]
        assert ctx.documents.get(receipts[0].storage_key).startswith(b"%PDF-1.4")
    told = {n.to for n in notices(ctx, "contribution.paid")}
    assert {"SH01-E001", "SH01-E002", org.hr.employee_no} <= told
    assert [n.params["period"] for n in notices(ctx, "batch.paid")] == ["2026-11"]


def test_a_payment_answered_too_late_is_retried_with_the_same_key_and_paid_once(
    ctx: Context, org: Org, gateway: FakeGateway, gateways: Gateways
) -> None:
    batch_id = approved_batch(ctx, org)
    gateway.script("/batch-payments", ("delay", 1.0))
    settle(ctx, gateways)
    assert state_of(ctx, batch_id) is BatchState.PAID
    attempts = gateway.requests_to("/batch-payments")
    assert len(attempts) == 2
    assert len({a["headers"]["Idempotency-Key"] for a in attempts}) == 1
    assert len(gateway.payments) == 1


def test_a_refused_filing_fails_the_batch_alerts_hr_and_a_retry_files_it(
    ctx: Context, org: Org, gateway: FakeGateway, gateways: Gateways
) -> None:
    batch_id = approved_batch(ctx, org)
    gateway.script("/batches", ("status", 422, {"error": "基数低于下限"}))
    assert settle(ctx, gateways).failed == 1
    with ctx.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert (batch.state, batch.failure_cause) == (BatchState.FAILED, "bureau_system")
        assert "基数低于下限" in (batch.failure_message or "")
        (alert,) = uow.alerts.unresolved_for(SubjectKind.CONTRIBUTION_BATCH, batch_id)
        assert alert.suspected_cause is DelayReason.BUREAU_SYSTEM
    (failed,) = notices(ctx, "batch.failed")
    assert failed.to == org.hr.employee_no and failed.params["cause"] == "bureau_system"
    assert [b["action"] for b in failed.buttons] == ["batch.retry"]

    retry_batch(ctx, batch_id, org.hr.id, channel="slack")
    settle(ctx, gateways)
    assert state_of(ctx, batch_id) is BatchState.PAID
    assert len(gateway.filings) == 1 and len(gateway.payments) == 1
    with ctx.uow() as uow:
        assert uow.alerts.unresolved_for(SubjectKind.CONTRIBUTION_BATCH, batch_id) == []


def test_a_failed_payment_is_a_bank_failure_and_the_retry_never_files_or_pays_twice(
    ctx: Context, org: Org, gateway: FakeGateway, gateways: Gateways
) -> None:
    batch_id = approved_batch(ctx, org)
    gateway.script("/batch-payments", *[("status", 503)] * 3)  # every attempt of one call
    settle(ctx, gateways)
    with ctx.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert (batch.state, batch.failure_cause) == (BatchState.FAILED, "bank_failure")
        (pay_job,) = uow.settlement.for_subject(JobKind.BATCH_PAY, batch_id)
        assert pay_job.state is JobState.FAILED and pay_job.attempts == 1
    assert len(gateway.requests_to("/batch-payments")) == 3  # 1 + 2 retries inside one attempt
    retry_batch(ctx, batch_id, org.finance.id)
    settle(ctx, gateways)
    assert state_of(ctx, batch_id) is BatchState.PAID
    assert len(gateway.requests_to("/batches")) == 2  # the retry repeated the filing's key …
    assert len(gateway.filings) == 1 and len(gateway.payments) == 1  # … and nothing twice


def test_only_payers_retry_and_only_failed_batches(ctx: Context, org: Org) -> None:
    from core.domain.errors import IllegalTransition, PermissionDenied

    batch_id = approved_batch(ctx, org)
    with pytest.raises(PermissionDenied):
        retry_batch(ctx, batch_id, org.employee.id)
    with pytest.raises(IllegalTransition):
        retry_batch(ctx, batch_id, org.hr.id)


def test_the_overdue_cause_follows_where_the_batch_is_stuck() -> None:
    assert stuck_cause(BatchState.DRAFT) is DelayReason.HR_VERIFICATION
    assert stuck_cause(BatchState.RETURNED) is DelayReason.HR_VERIFICATION
    assert stuck_cause(BatchState.FINANCE_PENDING) is DelayReason.FINANCE_APPROVAL
    assert stuck_cause(BatchState.HR_VERIFIED) is DelayReason.FINANCE_APPROVAL
    assert stuck_cause(BatchState.FAILED, FailureCause.BANK_FAILURE) is DelayReason.BANK_FAILURE
    assert stuck_cause(BatchState.FAILED, FailureCause.BUREAU_SYSTEM) is DelayReason.BUREAU_SYSTEM
    assert stuck_cause(BatchState.SUBMITTED) is DelayReason.BUREAU_SYSTEM


def _approved_claim(ctx: Context, org: Org) -> int:
    add_records(ctx, org.employee, ["2026-08", "2026-09", "2026-10"])
    claim_id = open_complete_claim(ctx, org.employee)
    assert submit_claim(ctx, claim_id, org.employee.id).state is ClaimState.UNDER_REVIEW
    approve_claim(ctx, claim_id, org.finance.id, Decimal("3200.50"), channel="telegram")
    return claim_id


def test_an_approved_claim_is_paid_out_and_the_voucher_filed(
    ctx: Context, org: Org, gateway: FakeGateway, gateways: Gateways
) -> None:
    claim_id = _approved_claim(ctx, org)
    assert settle(ctx, gateways).done == 1
    (payout,) = gateway.payments.values()
    assert payout == {
        "claim_reference": f"C{claim_id:06d}",
        "employee_no": "SH01-E001",
        "amount": "3200.50",
    }
    with ctx.uow() as uow:
        claim = uow.claims.get(claim_id)
        assert claim.state is ClaimState.PAID and claim.payout_reference.startswith("CLM")
        (voucher,) = uow.records.of_employee(org.employee.id, RecordKind.CLAIM_VOUCHER)
        kinds = [d.kind for d in uow.claims.documents(claim_id)]
        assert DocumentKind.VOUCHER in kinds and voucher.claim_id == claim_id
    (paid,) = [n for n in notices(ctx, "claim.paid") if n.channel == "chat"]
    assert paid.to == "SH01-E001" and paid.buttons[0]["action"] == "claim.voucher"


def test_a_failed_payout_tells_finance_and_a_retry_pays_once(
    ctx: Context, org: Org, gateway: FakeGateway, gateways: Gateways
) -> None:
    claim_id = _approved_claim(ctx, org)
    gateway.script("/claim-payouts", ("status", 409, {"error": "账户冻结"}))
    gateway.script("/claim-payouts", ("status", 403, {"error": "收款账户已冻结"}))
    settle(ctx, gateways)
    (told,) = notices(ctx, "claim.payout_failed")
    assert told.to == org.finance.employee_no and "冻结" in told.params["message"]
    retry_payout(ctx, claim_id, org.finance.id, channel="slack")
    settle(ctx, gateways)
    with ctx.uow() as uow:
        assert uow.claims.get(claim_id).state is ClaimState.PAID
    assert len(gateway.payments) == 1


def test_a_lost_lease_records_nothing_and_the_next_worker_repeats_the_key(
    ctx: Context, org: Org, gateway: FakeGateway, gateways: Gateways, clock
) -> None:
    """A worker that stalls past its lease: another takes the job; the far side answers the
    repeated key with its first receipt, and the batch is filed once."""
    batch_id = approved_batch(ctx, org)
    with ctx.uow() as uow:
        (job_id,) = uow.settlement.claim_due(ctx.now(), "stalled", ctx.rules.lease)
        uow.commit()
    clock.set(datetime(2026, 10, 12, 1, 5, tzinfo=UTC))  # the 2-minute lease has expired
    settle(ctx, gateways)
    assert state_of(ctx, batch_id) is BatchState.PAID and job_id
    assert len(gateway.filings) == 1


def test_a_receipt_the_checks_refuse_never_stops_the_payment_being_recorded(
    ctx: Context, org: Org, gateway: FakeGateway, gateways: Gateways
) -> None:
    """The bank's PDF carries JavaScript: hrbot files its own receipt and records the payment."""
    from tests.fakes_gateway import RECEIPT_PDF

    gateway.receipt_pdf = RECEIPT_PDF.replace(b"/Type /Catalog", b"/Type /Catalog /JavaScript 1")
    batch_id = approved_batch(ctx, org)
    settle(ctx, gateways)
    assert state_of(ctx, batch_id) is BatchState.PAID
    with ctx.uow() as uow:
        (receipt,) = uow.records.of_employee(org.employee.id, RecordKind.CONTRIBUTION_RECEIPT)
        assert b"JavaScript" not in ctx.documents.get(receipt.storage_key)
    actions = [e.action for e in audit_trail(ctx, "batch", batch_id)]
    assert "batch.receipt_refused" in actions
