"""Claims end to end through the real services: submit, hold, resume, decide, pay out."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from core.domain.batches import BatchState
from core.domain.claims import ClaimState, ClaimType, DocumentKind
from core.domain.contributions import DelayReason, MonthState, Status
from core.domain.errors import ClaimIncomplete, IllegalTransition, InvalidValue, PermissionDenied
from core.domain.escalation import AlertState, StepState, SubjectKind
from core.domain.notifications import ChannelKind
from core.ports import ManualClock
from core.services.alerts import sweep_escalations
from core.services.batches import record_batch_payment
from core.services.claims import (
    approve_claim,
    attach_document,
    claim_view,
    open_claim,
    read_document,
    record_payout,
    reject_claim,
    return_claim,
    submit_claim,
    withdraw_claim,
)
from core.services.context import Context, Rules
from core.services.status import check_status
from tests.factories import (
    PDF,
    Org,
    add_records,
    audit_trail,
    make_batch,
    make_org,
    notices,
    open_complete_claim,
    row_counts,
)

MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


@pytest.fixture
def clean(ctx: Context, org: Org) -> Org:
    add_records(ctx, org.employee, MONTHS, unpaid=["2026-10"])
    return org


@pytest.fixture
def delayed(ctx: Context, org: Org) -> Org:
    """The seed: August and September unpaid past their due dates, pending finance approval."""
    add_records(
        ctx,
        org.employee,
        MONTHS,
        unpaid=["2026-08", "2026-09", "2026-10"],
        delay_reason=DelayReason.FINANCE_APPROVAL,
    )
    return org


def claim_of(ctx: Context, claim_id: int) -> ClaimState:
    return claim_view(ctx, claim_id).claim.state


def held_alert(ctx: Context, claim_id: int) -> AlertState | None:
    with ctx.uow() as uow:
        found = [
            a
            for a in uow.alerts.unresolved()
            if (a.subject_kind, a.subject_id) == (SubjectKind.HELD_CLAIM, claim_id)
        ]
        return found[0].state if found else None


# Submitting ----------------------------------------------------------------------------------


def test_a_clean_record_goes_to_review_and_finance_is_asked(ctx: Context, clean: Org) -> None:
    claim_id = open_complete_claim(ctx, clean.employee)
    claim = submit_claim(ctx, claim_id, clean.employee.id, channel="web")

    assert claim.state is ClaimState.UNDER_REVIEW
    assert claim.submitted_at == ctx.now()
    assert [(n.to, n.key) for n in notices(ctx)] == [
        (clean.employee.employee_no, "claim.submitted"),
        (clean.finance.employee_no, "claim.review_requested"),
    ]
    (review,) = notices(ctx, "claim.review_requested")
    assert [b["action"] for b in review.buttons] == [
        "claim.approve",
        "claim.return",
        "claim.reject",
    ]
    assert review.params["claim"] == claim.reference
    assert notices(ctx, "claim.held") == [] and notices(ctx, "alert.level1") == []
    trail = [(a.action, a.from_state, a.to_state) for a in audit_trail(ctx, "claim", claim_id)]
    assert trail[-2:] == [
        ("claim.submit", "draft", "submitted"),
        ("claim.review", "submitted", "under_review"),
    ]


def test_overdue_months_hold_the_claim_alert_hr_and_tell_the_employee(
    ctx: Context, delayed: Org
) -> None:
    claim_id = open_complete_claim(ctx, delayed.employee)
    claim = submit_claim(ctx, claim_id, delayed.employee.id)

    assert claim.state is ClaimState.ON_HOLD
    assert claim.hold_reason is not None and "2026-08, 2026-09" in claim.hold_reason
    (held,) = notices(ctx, "claim.held")
    assert held.to == delayed.employee.employee_no
    assert held.params["months"] == ["2026-08", "2026-09"]
    assert held.params["status"] == "delayed"
    (level1,) = notices(ctx, "alert.level1")
    assert (level1.to, level1.channel) == (delayed.hr.employee_no, "chat")
    assert level1.params["claim"] == claim.reference
    assert level1.params["suspected_cause"] == "finance_approval"
    assert level1.params["deadline"] == (ctx.now() + timedelta(hours=24)).isoformat()
    assert [b["action"] for b in level1.buttons] == ["alert.acknowledge", "alert.resolve"]
    assert notices(ctx, "claim.review_requested") == []
    assert notices(ctx, to=delayed.hr_manager) == []

    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim_id)
        assert (alert.state, alert.level, alert.employee_id) == (
            AlertState.OPEN,
            1,
            delayed.employee.id,
        )
        assert alert.opened_at == claim.submitted_at
        steps = uow.alerts.steps(alert.id)
        assert [(s.level, s.state, s.due_at - ctx.now()) for s in steps] == [
            (1, StepState.FIRED, timedelta(0)),
            (2, StepState.PENDING, timedelta(hours=24)),
            (3, StepState.PENDING, timedelta(hours=48)),
        ]


def test_level_one_goes_by_chat_and_email_when_email_is_on(ctx: Context, delayed: Org) -> None:
    with_email = dataclasses.replace(
        ctx, rules=Rules(channels=frozenset({ChannelKind.CHAT, ChannelKind.EMAIL}))
    )
    claim_id = open_complete_claim(with_email, delayed.employee)
    submit_claim(with_email, claim_id, delayed.employee.id)

    assert [(n.to, n.channel) for n in notices(ctx, "alert.level1")] == [
        (delayed.hr.employee_no, "chat"),
        (delayed.hr.employee_no, "email"),
    ]
    # The employee's notice is a chat message either way.
    assert [n.channel for n in notices(ctx, "claim.held")] == ["chat"]


class FailingClock:
    """A clock that fails on its n-th reading: a crash at an arbitrary point of a use case."""

    def __init__(self, inner: ManualClock, fail_on: int) -> None:
        self.inner, self.fail_on, self.calls = inner, fail_on, 0

    def now(self) -> datetime:
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("power cut")
        return self.inner.now()


def test_hold_alert_and_notices_are_one_transaction(
    ctx: Context, delayed: Org, clock: ManualClock
) -> None:
    claim_id = open_complete_claim(ctx, delayed.employee)
    before = row_counts(ctx)
    failures = 0
    for fail_on in range(1, 200):
        crashing = dataclasses.replace(ctx, clock=FailingClock(clock, fail_on))
        try:
            submit_claim(crashing, claim_id, delayed.employee.id)
        except RuntimeError:
            failures += 1
            assert row_counts(ctx) == before, f"a crash at clock reading {fail_on} left traces"
            assert claim_of(ctx, claim_id) is ClaimState.DRAFT
            continue
        break
    assert failures >= 5  # the use case reads the clock all along its way
    assert claim_of(ctx, claim_id) is ClaimState.ON_HOLD
    after = row_counts(ctx)
    assert after["alerts"] == 1 and after["outbox"] == 2


def test_a_claim_with_missing_documents_cannot_be_submitted(ctx: Context, clean: Org) -> None:
    claim = open_claim(ctx, clean.employee.id, ClaimType.HOSPITALIZATION)
    attach_document(ctx, claim.id, clean.employee.id, DocumentKind.ID_COPY, "id.pdf", PDF)
    before = row_counts(ctx)
    with pytest.raises(ClaimIncomplete) as raised:
        submit_claim(ctx, claim.id, clean.employee.id)
    assert raised.value.params == {"missing": ["admission_certificate", "itemized_bill"]}
    assert claim_of(ctx, claim.id) is ClaimState.DRAFT
    assert row_counts(ctx) == before


def test_only_the_claimant_may_submit(ctx: Context, clean: Org) -> None:
    claim_id = open_complete_claim(ctx, clean.employee)
    with pytest.raises(PermissionDenied):
        submit_claim(ctx, claim_id, clean.hr.id)
    assert claim_of(ctx, claim_id) is ClaimState.DRAFT


def test_submitting_twice_is_illegal(ctx: Context, clean: Org) -> None:
    claim_id = open_complete_claim(ctx, clean.employee)
    submit_claim(ctx, claim_id, clean.employee.id)
    before = row_counts(ctx)
    with pytest.raises(IllegalTransition):
        submit_claim(ctx, claim_id, clean.employee.id)
    assert row_counts(ctx) == before
    assert claim_of(ctx, claim_id) is ClaimState.UNDER_REVIEW


# Paying contributions resumes held claims -----------------------------------------------------


def test_paying_the_batches_marks_lines_paid_resumes_the_claim_and_tells_everyone(
    ctx: Context, delayed: Org, clock: ManualClock
) -> None:
    august = make_batch(ctx, delayed, "2026-08", BatchState.SUBMITTED)
    september = make_batch(ctx, delayed, "2026-09", BatchState.SUBMITTED)
    claim_id = open_complete_claim(ctx, delayed.employee)
    submit_claim(ctx, claim_id, delayed.employee.id)

    clock.advance(timedelta(hours=3))
    record_batch_payment(ctx, august, date(2026, 10, 12), "BANK-0812")
    # September is still overdue: the claim stays held and nobody is told it resumed.
    assert claim_of(ctx, claim_id) is ClaimState.ON_HOLD
    assert notices(ctx, "claim.resumed") == []
    assert held_alert(ctx, claim_id) is AlertState.OPEN

    record_batch_payment(ctx, september, date(2026, 10, 12), "BANK-0913")
    assert claim_of(ctx, claim_id) is ClaimState.UNDER_REVIEW
    report = check_status(ctx, delayed.employee.employee_no, months=3)
    assert report.status is Status.NORMAL
    assert [(str(m.period), m.state, m.paid_date) for m in report.months] == [
        ("2026-08", MonthState.PAID_LATE, date(2026, 10, 12)),
        ("2026-09", MonthState.PAID_LATE, date(2026, 10, 12)),
        ("2026-10", MonthState.UNPAID_NOT_DUE, None),
    ]
    (resumed,) = notices(ctx, "claim.resumed")
    assert resumed.to == delayed.employee.employee_no
    assert [n.to for n in notices(ctx, "claim.review_requested")] == [delayed.finance.employee_no]
    assert [n.to for n in notices(ctx, "batch.paid")] == [delayed.hr.employee_no] * 2
    assert held_alert(ctx, claim_id) is None
    trail = audit_trail(ctx, "claim", claim_id)
    assert (trail[-1].action, trail[-1].from_state, trail[-1].to_state, trail[-1].actor) == (
        "claim.resume",
        "on_hold",
        "under_review",
        "system",
    )
    with ctx.uow() as uow:
        assert uow.batches.get(september).state is BatchState.PAID
        assert uow.batches.get(september).paid_date == date(2026, 10, 12)

    # The alert died with the hold: nobody is chased about it later.
    clock.advance(timedelta(days=5))
    assert sweep_escalations(ctx).fired == 0
    assert notices(ctx, "alert.level2") == [] and notices(ctx, "alert.level3") == []


def test_a_batch_not_yet_submitted_cannot_be_paid(ctx: Context, delayed: Org) -> None:
    batch_id = make_batch(ctx, delayed, "2026-08", BatchState.FINANCE_PENDING)
    before = row_counts(ctx)
    with pytest.raises(IllegalTransition):
        record_batch_payment(ctx, batch_id, date(2026, 10, 12), "BANK-1")
    assert row_counts(ctx) == before
    report = check_status(ctx, delayed.employee.employee_no, months=3)
    assert report.months[0].state is MonthState.OVERDUE


# Decisions -----------------------------------------------------------------------------------


@pytest.fixture
def in_review(ctx: Context, clean: Org) -> int:
    claim_id = open_complete_claim(ctx, clean.employee)
    submit_claim(ctx, claim_id, clean.employee.id)
    return claim_id


def test_finance_approves_and_the_employee_is_told(
    ctx: Context, clean: Org, in_review: int
) -> None:
    claim = approve_claim(ctx, in_review, clean.finance.id, Decimal("3280.50"), channel="slack")
    assert (claim.state, claim.amount, claim.decided_at) == (
        ClaimState.APPROVED,
        Decimal("3280.50"),
        ctx.now(),
    )
    (approved,) = notices(ctx, "claim.approved")
    assert approved.to == clean.employee.employee_no
    assert approved.params["amount"] == "3280.50"
    last = audit_trail(ctx, "claim", in_review)[-1]
    assert (last.action, last.actor, last.channel) == (
        "claim.approve",
        clean.finance.employee_no,
        "slack",
    )


def test_a_rejection_tells_the_employee_why(ctx: Context, clean: Org, in_review: int) -> None:
    claim = reject_claim(ctx, in_review, clean.finance.id, "  发票与费用清单不符 ")
    assert claim.state is ClaimState.REJECTED
    (rejected,) = notices(ctx, "claim.rejected")
    assert rejected.to == clean.employee.employee_no
    assert rejected.params["reason"] == "发票与费用清单不符"


@pytest.mark.parametrize("decide", [reject_claim, return_claim])
def test_rejecting_or_returning_needs_a_reason(
    ctx: Context, clean: Org, in_review: int, decide: object
) -> None:
    before = row_counts(ctx)
    with pytest.raises(InvalidValue):
        decide(ctx, in_review, clean.finance.id, "  ")  # type: ignore[operator]
    assert row_counts(ctx) == before
    assert claim_of(ctx, in_review) is ClaimState.UNDER_REVIEW


@pytest.mark.parametrize("amount", ["0", "-5.00", "12.345"])
def test_an_approval_needs_a_sensible_amount(
    ctx: Context, clean: Org, in_review: int, amount: str
) -> None:
    with pytest.raises(InvalidValue):
        approve_claim(ctx, in_review, clean.finance.id, Decimal(amount))
    assert claim_of(ctx, in_review) is ClaimState.UNDER_REVIEW


def test_only_finance_decides(ctx: Context, clean: Org, in_review: int) -> None:
    for person in (clean.employee, clean.hr, clean.hr_director):
        assert person is not None
        with pytest.raises(PermissionDenied):
            approve_claim(ctx, in_review, person.id, Decimal("100.00"))
    assert claim_of(ctx, in_review) is ClaimState.UNDER_REVIEW
    assert notices(ctx, "claim.approved") == []


def test_a_claim_is_decided_once(ctx: Context, clean: Org, in_review: int) -> None:
    approve_claim(ctx, in_review, clean.finance.id, Decimal("100.00"))
    before = row_counts(ctx)
    with pytest.raises(IllegalTransition):
        reject_claim(ctx, in_review, clean.finance.id, "changed my mind")
    with pytest.raises(IllegalTransition):
        approve_claim(ctx, in_review, clean.finance.id, Decimal("200.00"))
    assert row_counts(ctx) == before
    assert claim_view(ctx, in_review).claim.amount == Decimal("100.00")


def test_a_held_claim_can_be_returned_which_closes_its_alert(
    ctx: Context, delayed: Org, clock: ManualClock
) -> None:
    claim_id = open_complete_claim(ctx, delayed.employee)
    submit_claim(ctx, claim_id, delayed.employee.id)
    claim = return_claim(ctx, claim_id, delayed.finance.id, "请补充出院小结")
    assert claim.state is ClaimState.RETURNED
    (returned,) = notices(ctx, "claim.returned")
    assert returned.params["reason"] == "请补充出院小结"
    assert held_alert(ctx, claim_id) is None

    # The employee adds a document and resubmits: still overdue, so held again with a new alert.
    attach_document(
        ctx, claim_id, delayed.employee.id, DocumentKind.DISCHARGE_SUMMARY, "summary.pdf", PDF
    )
    clock.advance(timedelta(minutes=5))
    assert submit_claim(ctx, claim_id, delayed.employee.id).state is ClaimState.ON_HOLD
    assert held_alert(ctx, claim_id) is AlertState.OPEN
    assert len(notices(ctx, "alert.level1")) == 2
    assert len(notices(ctx, "claim.held")) == 2


def test_withdrawing_a_held_claim_stops_its_escalation(
    ctx: Context, delayed: Org, clock: ManualClock
) -> None:
    claim_id = open_complete_claim(ctx, delayed.employee)
    submit_claim(ctx, claim_id, delayed.employee.id)
    with pytest.raises(PermissionDenied):
        withdraw_claim(ctx, claim_id, delayed.hr.id)
    assert withdraw_claim(ctx, claim_id, delayed.employee.id).state is ClaimState.WITHDRAWN
    assert held_alert(ctx, claim_id) is None
    clock.advance(timedelta(hours=72))
    assert sweep_escalations(ctx).fired == 0
    assert notices(ctx, "alert.level2") == []


# Payout and voucher --------------------------------------------------------------------------


def test_payout_files_a_voucher_the_employee_can_download(
    ctx: Context, clean: Org, in_review: int
) -> None:
    approve_claim(ctx, in_review, clean.finance.id, Decimal("3280.50"))
    with pytest.raises(PermissionDenied):
        record_payout(ctx, in_review, clean.hr.id, "PAY-1")
    claim = record_payout(ctx, in_review, clean.finance.id, " PAY-20261012-01 ")
    assert (claim.state, claim.paid_at, claim.payout_reference) == (
        ClaimState.PAID,
        ctx.now(),
        "PAY-20261012-01",
    )
    (paid,) = notices(ctx, "claim.paid")
    assert (paid.to, paid.channel, paid.params["amount"]) == (
        clean.employee.employee_no,
        "chat",
        "3280.50",
    )
    assert [b["action"] for b in paid.buttons] == ["claim.voucher"]

    view = claim_view(ctx, in_review)
    (voucher,) = [d for d in view.documents if d.kind is DocumentKind.VOUCHER]
    document, content = read_document(ctx, voucher.id, clean.employee.id, channel="telegram")
    assert document.content_type == "application/pdf" and content.startswith(b"%PDF-")
    assert b"C%06d" % in_review in content
    assert b"1101**********" in content
    assert clean.employee.id_number is not None
    assert clean.employee.id_number.encode() not in content
    with pytest.raises(IllegalTransition):
        record_payout(ctx, in_review, clean.finance.id, "PAY-again")
    assert len(notices(ctx, "claim.paid")) == 1


def test_payout_goes_by_sms_too_when_sms_is_on(ctx: Context, clean: Org, in_review: int) -> None:
    with_sms = dataclasses.replace(
        ctx, rules=Rules(channels=frozenset({ChannelKind.CHAT, ChannelKind.SMS}))
    )
    approve_claim(with_sms, in_review, clean.finance.id, Decimal("10.00"))
    record_payout(with_sms, in_review, clean.finance.id, "PAY-2")
    assert [n.channel for n in notices(ctx, "claim.paid")] == ["chat", "sms"]


def test_the_audit_trail_starts_from_nothing(ctx: Context, delayed: Org) -> None:
    claim_id = open_complete_claim(ctx, delayed.employee)
    submit_claim(ctx, claim_id, delayed.employee.id)
    moves = [
        (a.action, a.from_state, a.to_state, a.actor)
        for a in audit_trail(ctx, "claim", claim_id)
        if a.to_state is not None
    ]
    assert moves == [
        ("claim.open", None, "draft", delayed.employee.employee_no),
        ("claim.submit", "draft", "submitted", delayed.employee.employee_no),
        ("claim.hold", "submitted", "on_hold", "system"),
    ]
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved()
    first = audit_trail(ctx, "alert", alert.id)[0]
    assert (first.action, first.from_state, first.to_state) == ("alert.open", None, "open")
