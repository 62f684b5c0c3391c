"""Every row of the claim, batch and alert transition tables, and every move they do not allow."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest

from core.domain.batches import BATCH_LIFECYCLE, BatchLine, BatchState, ContributionBatch
from core.domain.claims import CLAIM_LIFECYCLE, Claim, ClaimState, ClaimType
from core.domain.contributions import DelayReason
from core.domain.errors import IllegalTransition, InvalidValue, PermissionDenied
from core.domain.escalation import ALERT_LIFECYCLE, Alert, AlertState, SubjectKind
from core.domain.periods import Period
from core.domain.statemachine import TransitionTable

NOW = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)

EXPECTED_CLAIM_ROWS = {
    ("draft", "submit"): "submitted",
    ("submitted", "hold"): "on_hold",
    ("submitted", "review"): "under_review",
    ("on_hold", "resume"): "under_review",
    ("under_review", "approve"): "approved",
    ("under_review", "reject"): "rejected",
    ("under_review", "return"): "returned",
    ("on_hold", "return"): "returned",
    ("returned", "resubmit"): "submitted",
    ("approved", "pay"): "paid",
    ("draft", "withdraw"): "withdrawn",
    ("submitted", "withdraw"): "withdrawn",
    ("on_hold", "withdraw"): "withdrawn",
    ("under_review", "withdraw"): "withdrawn",
    ("returned", "withdraw"): "withdrawn",
}

EXPECTED_BATCH_ROWS = {
    ("draft", "verify"): "hr_verified",
    ("draft", "return"): "returned",
    ("hr_verified", "request_approval"): "finance_pending",
    ("hr_verified", "return"): "returned",
    ("finance_pending", "approve"): "approved",
    ("finance_pending", "return"): "returned",
    ("returned", "revise"): "draft",
    ("approved", "submit"): "submitted",
    ("approved", "fail"): "failed",
    ("submitted", "fail"): "failed",
    ("failed", "retry"): "approved",
    ("submitted", "pay"): "paid",
}

EXPECTED_ALERT_ROWS = {
    ("open", "acknowledge"): "acknowledged",
    ("acknowledged", "reopen"): "open",
    ("open", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
}


def make_claim(state: ClaimState) -> Claim:
    return Claim(employee_id=1, claim_type=ClaimType.HOSPITALIZATION, created_at=NOW, state=state)


def make_batch(state: BatchState, verified_by: int | None = None) -> ContributionBatch:
    return ContributionBatch(
        branch_id=1,
        period=Period(2026, 9),
        due_date=date(2026, 9, 15),
        created_at=NOW,
        state=state,
        verified_by=verified_by,
    )


def make_alert(state: AlertState) -> Alert:
    return Alert(
        subject_kind=SubjectKind.HELD_CLAIM,
        subject_id=1,
        branch_id=1,
        opened_at=NOW,
        policy_name="default",
        policy_version=1,
        state=state,
    )


MACHINES: dict[str, tuple[TransitionTable[Any], type[StrEnum], dict[tuple[str, str], str], Any]] = {
    "claim": (CLAIM_LIFECYCLE, ClaimState, EXPECTED_CLAIM_ROWS, make_claim),
    "batch": (BATCH_LIFECYCLE, BatchState, EXPECTED_BATCH_ROWS, make_batch),
    "alert": (ALERT_LIFECYCLE, AlertState, EXPECTED_ALERT_ROWS, make_alert),
}


def _all_moves(legal: bool) -> list[Any]:
    params = []
    for name, (_table, states, expected, _) in MACHINES.items():
        events = sorted({event for _, event in expected})
        for state in states:
            for event in events:
                if ((str(state), event) in expected) is legal:
                    params.append(pytest.param(name, state, event, id=f"{name}:{state}-{event}"))
    return params


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_the_tables_are_exactly_the_documented_lifecycles(name: str) -> None:
    table, _, expected, _ = MACHINES[name]
    assert {(str(s), e): str(d) for (s, e), d in table.rows.items()} == expected


@pytest.mark.parametrize(("name", "state", "event"), _all_moves(legal=True))
def test_every_row_moves_the_entity(name: str, state: StrEnum, event: str) -> None:
    table, _, expected, build = MACHINES[name]
    entity = build(state)
    before, after = entity.move(event) if name != "batch" else entity.move(event, 7)
    assert (str(before), str(after)) == (str(state), expected[(str(state), event)])
    assert entity.state is after
    assert table.allows(state, event)


@pytest.mark.parametrize(("name", "state", "event"), _all_moves(legal=False))
def test_every_other_move_is_refused_and_changes_nothing(
    name: str, state: StrEnum, event: str
) -> None:
    table, _, _, build = MACHINES[name]
    entity = build(state)
    with pytest.raises(IllegalTransition) as raised:
        entity.move(event)
    assert entity.state is state
    assert raised.value.params == {"machine": name, "event": event, "state": str(state)}
    assert raised.value.code == "error.illegal_transition"
    assert not table.allows(state, event)


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_unknown_events_are_refused(name: str) -> None:
    _, states, _, build = MACHINES[name]
    for state in states:
        entity = build(state)
        with pytest.raises(IllegalTransition):
            entity.move("teleport")
        assert entity.state is state


def test_final_states() -> None:
    assert CLAIM_LIFECYCLE.finals == {ClaimState.PAID, ClaimState.REJECTED, ClaimState.WITHDRAWN}
    assert BATCH_LIFECYCLE.finals == {BatchState.PAID}
    assert ALERT_LIFECYCLE.finals == {AlertState.RESOLVED}


class _S(StrEnum):
    A = "a"
    B = "b"
    C = "c"


def test_a_table_with_an_unreachable_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unreachable"):
        TransitionTable[_S](name="t", initial=_S.A, rows={(_S.A, "go"): _S.B, (_S.C, "go"): _S.A})


def test_a_table_whose_final_state_has_an_exit_is_refused() -> None:
    with pytest.raises(ValueError, match="final states with exits"):
        TransitionTable[_S](
            name="t",
            initial=_S.A,
            rows={(_S.A, "go"): _S.B, (_S.B, "back"): _S.A},
            finals=frozenset({_S.B}),
        )


# Separation of duties on batches --------------------------------------------------------------


def test_whoever_verified_a_batch_cannot_approve_it() -> None:
    batch = make_batch(BatchState.DRAFT)
    batch.move("verify", 7)
    batch.move("request_approval", 7)
    with pytest.raises(PermissionDenied) as raised:
        batch.move("approve", 7)
    assert raised.value.params == {"rule": "sod"}
    assert batch.state is BatchState.FINANCE_PENDING
    assert batch.approved_by is None


def test_someone_else_may_approve_and_both_are_recorded() -> None:
    batch = make_batch(BatchState.DRAFT)
    batch.move("verify", 7)
    batch.move("request_approval", 7)
    batch.move("approve", 8)
    assert batch.state is BatchState.APPROVED
    assert (batch.verified_by, batch.approved_by) == (7, 8)


def test_after_a_return_the_new_verifier_is_the_one_who_may_not_approve() -> None:
    batch = make_batch(BatchState.DRAFT)
    batch.move("verify", 7)
    batch.move("return", 8)
    batch.move("revise", 7)
    batch.move("verify", 8)
    batch.move("request_approval", 8)
    with pytest.raises(PermissionDenied):
        batch.move("approve", 8)
    batch.move("approve", 7)
    assert batch.state is BatchState.APPROVED


def test_an_illegal_verify_does_not_change_the_verifier() -> None:
    batch = make_batch(BatchState.APPROVED, verified_by=7)
    with pytest.raises(IllegalTransition):
        batch.move("verify", 9)
    assert (batch.state, batch.verified_by) == (BatchState.APPROVED, 7)


def test_batch_totals_are_exact() -> None:
    batch = make_batch(BatchState.DRAFT)
    lines = [
        BatchLine(1, n, n, Decimal("10000.01"), Decimal("2650.33"), Decimal("1050.17"))
        for n in range(1, 4)
    ]
    batch.set_totals(lines)
    assert batch.headcount == 3
    assert batch.total_base == Decimal("30000.03")
    assert batch.total_employer == Decimal("7950.99")
    assert batch.total_employee == Decimal("3150.51")
    assert batch.total == Decimal("11101.50")


# Alerts: acknowledging and resolving ---------------------------------------------------------


def test_acknowledging_records_who_why_and_until_when() -> None:
    alert = make_alert(AlertState.OPEN)
    alert.acknowledge(5, DelayReason.FINANCE_APPROVAL, date(2026, 10, 14), NOW, date(2026, 10, 12))
    assert alert.state is AlertState.ACKNOWLEDGED
    assert alert.cause is DelayReason.FINANCE_APPROVAL
    assert (alert.acknowledged_by, alert.acknowledged_at) == (5, NOW)
    assert alert.expected_fix_date == date(2026, 10, 14)


def test_a_fix_date_of_today_is_accepted() -> None:
    alert = make_alert(AlertState.OPEN)
    alert.acknowledge(5, DelayReason.OTHER, date(2026, 10, 12), NOW, date(2026, 10, 12))
    assert alert.state is AlertState.ACKNOWLEDGED


def test_a_fix_date_in_the_past_is_refused_and_changes_nothing() -> None:
    alert = make_alert(AlertState.OPEN)
    with pytest.raises(InvalidValue) as raised:
        alert.acknowledge(5, DelayReason.OTHER, date(2026, 10, 11), NOW, date(2026, 10, 12))
    assert raised.value.params == {"field": "fix_date"}
    assert alert.state is AlertState.OPEN
    assert (alert.cause, alert.acknowledged_by, alert.expected_fix_date) == (None, None, None)


def test_acknowledging_twice_is_illegal_and_keeps_the_first_answer() -> None:
    alert = make_alert(AlertState.OPEN)
    alert.acknowledge(5, DelayReason.BANK_FAILURE, date(2026, 10, 13), NOW, date(2026, 10, 12))
    with pytest.raises(IllegalTransition):
        alert.acknowledge(6, DelayReason.OTHER, date(2026, 10, 20), NOW, date(2026, 10, 12))
    assert (alert.acknowledged_by, alert.cause) == (5, DelayReason.BANK_FAILURE)
    assert alert.expected_fix_date == date(2026, 10, 13)


def test_resolving_records_the_resolution_once() -> None:
    alert = make_alert(AlertState.ACKNOWLEDGED)
    alert.resolve(5, "batch paid", NOW)
    assert (alert.state, alert.resolved_by, alert.resolution) == (
        AlertState.RESOLVED,
        5,
        "batch paid",
    )
    with pytest.raises(IllegalTransition):
        alert.resolve(6, "again", NOW)
    assert (alert.resolved_by, alert.resolution) == (5, "batch paid")
