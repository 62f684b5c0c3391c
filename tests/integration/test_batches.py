"""Contribution batches through the services: finance is asked, approves or returns; SoD holds."""

from __future__ import annotations

import pytest

from core.domain.batches import BatchState
from core.domain.directory import Role
from core.domain.errors import IllegalTransition, InvalidValue, PermissionDenied
from core.services.batches import (
    approve_batch,
    request_finance_approval,
    return_batch,
    submit_batch,
)
from core.services.context import Context
from tests.factories import (
    Org,
    add_employee,
    add_records,
    audit_trail,
    make_batch,
    make_org,
    notices,
    row_counts,
)


@pytest.fixture
def org(ctx: Context) -> Org:
    org = make_org(ctx)
    colleague = add_employee(ctx, org.branch, "SH01-E002", "孙八")
    for person in (org.employee, colleague):
        add_records(ctx, person, ["2026-09"], unpaid=["2026-09"])
    return org


def batch_state(ctx: Context, batch_id: int) -> BatchState:
    with ctx.uow() as uow:
        return uow.batches.get(batch_id).state


def test_a_batch_has_one_line_per_employee_and_exact_totals(ctx: Context, org: Org) -> None:
    batch_id = make_batch(ctx, org, "2026-09")
    with ctx.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert batch.headcount == len(uow.batches.lines(batch_id)) == 2
        assert str(batch.total) == "7401.50"  # 2 x (2650.50 + 1050.25)


def test_hr_asks_finance_with_approve_and_return_buttons(ctx: Context, org: Org) -> None:
    batch_id = make_batch(ctx, org, "2026-09", BatchState.HR_VERIFIED)
    batch = request_finance_approval(ctx, batch_id, org.hr.id, channel="slack")
    assert batch.state is BatchState.FINANCE_PENDING
    (ask,) = notices(ctx, "batch.approval_requested")
    assert ask.to == org.finance.employee_no
    assert [b["action"] for b in ask.buttons] == ["batch.approve", "batch.return"]
    assert ask.params["period"] == "2026-09" and ask.params["total"] == "7401.50"
    assert ask.params["hr"] == org.hr.name


def test_asking_again_is_a_reminder_not_a_move(ctx: Context, org: Org) -> None:
    batch_id = make_batch(ctx, org, "2026-09", BatchState.FINANCE_PENDING)
    request_finance_approval(ctx, batch_id, org.hr.id)
    assert batch_state(ctx, batch_id) is BatchState.FINANCE_PENDING
    assert len(notices(ctx, "batch.approval_requested")) == 1
    moves = [a for a in audit_trail(ctx, "batch", batch_id) if a.to_state is not None]
    assert moves == []


def test_a_draft_cannot_be_sent_to_finance(ctx: Context, org: Org) -> None:
    batch_id = make_batch(ctx, org, "2026-09", BatchState.DRAFT)
    before = row_counts(ctx)
    with pytest.raises(IllegalTransition):
        request_finance_approval(ctx, batch_id, org.hr.id)
    assert row_counts(ctx) == before


def test_finance_approves_and_hr_is_told(ctx: Context, org: Org) -> None:
    batch_id = make_batch(ctx, org, "2026-09", BatchState.FINANCE_PENDING)
    batch = approve_batch(ctx, batch_id, org.finance.id, channel="slack")
    assert (batch.state, batch.approved_by, batch.verified_by) == (
        BatchState.APPROVED,
        org.finance.id,
        org.hr.id,
    )
    (told,) = notices(ctx, "batch.approved")
    assert (told.to, told.params["finance"]) == (org.hr.employee_no, org.finance.name)
    last = audit_trail(ctx, "batch", batch_id)[-1]
    assert (last.action, last.from_state, last.to_state, last.actor) == (
        "batch.approve",
        "finance_pending",
        "approved",
        org.finance.employee_no,
    )
    assert submit_batch(ctx, batch_id, "SI-2026-09").state is BatchState.SUBMITTED


@pytest.mark.parametrize("who", ["hr", "hr_manager", "employee"])
def test_only_finance_approves(ctx: Context, org: Org, who: str) -> None:
    batch_id = make_batch(ctx, org, "2026-09", BatchState.FINANCE_PENDING)
    before = row_counts(ctx)
    with pytest.raises(PermissionDenied):
        approve_batch(ctx, batch_id, getattr(org, who).id)
    assert row_counts(ctx) == before
    assert batch_state(ctx, batch_id) is BatchState.FINANCE_PENDING


def test_whoever_verified_cannot_approve(ctx: Context, org: Org) -> None:
    second = add_employee(
        ctx, org.branch, "SH01-F002", "吴十", Role.FINANCE, responsible_for=[org.branch]
    )
    batch_id = make_batch(ctx, org, "2026-09", BatchState.FINANCE_PENDING, verified_by=org.finance)
    before = row_counts(ctx)
    with pytest.raises(PermissionDenied):
        approve_batch(ctx, batch_id, org.finance.id)
    assert row_counts(ctx) == before
    assert batch_state(ctx, batch_id) is BatchState.FINANCE_PENDING
    assert approve_batch(ctx, batch_id, second.id).approved_by == second.id


def test_returning_needs_a_reason_and_tells_hr(ctx: Context, org: Org) -> None:
    batch_id = make_batch(ctx, org, "2026-09", BatchState.FINANCE_PENDING)
    with pytest.raises(InvalidValue):
        return_batch(ctx, batch_id, org.finance.id, " ")
    assert batch_state(ctx, batch_id) is BatchState.FINANCE_PENDING
    batch = return_batch(ctx, batch_id, org.finance.id, "基数与花名册不符")
    assert (batch.state, batch.return_reason) == (BatchState.RETURNED, "基数与花名册不符")
    (told,) = notices(ctx, "batch.returned")
    assert (told.to, told.params["reason"]) == (org.hr.employee_no, "基数与花名册不符")


def test_an_approved_batch_cannot_be_returned(ctx: Context, org: Org) -> None:
    batch_id = make_batch(ctx, org, "2026-09", BatchState.APPROVED)
    with pytest.raises(IllegalTransition):
        return_batch(ctx, batch_id, org.finance.id, "too late")
    with ctx.uow() as uow:
        batch = uow.batches.get(batch_id)
        assert (batch.state, batch.return_reason) == (BatchState.APPROVED, None)
