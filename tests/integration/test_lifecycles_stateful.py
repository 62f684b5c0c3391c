"""Claims and alerts driven at random through the real services on a fresh SQLite file per run.

Invariants after every step: every state is one the tables allow and the one the model expects;
a claim gets at most one final decision; a resolved alert tells nobody anything more; every state
change left exactly one audit row, and the rows chain from one state to the next.
"""

from __future__ import annotations

import functools
import itertools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from adapters.documents import FilesystemDocumentStore
from core.domain.batches import BatchState
from core.domain.claims import (
    CLAIM_LIFECYCLE,
    REQUIRED_DOCUMENTS,
    ClaimState,
    ClaimType,
    DocumentKind,
)
from core.domain.contributions import DelayReason
from core.domain.errors import ClaimIncomplete, IllegalTransition, InvalidValue
from core.domain.escalation import ALERT_LIFECYCLE, Alert, AlertState, StepState, SubjectKind
from core.domain.statemachine import TransitionTable
from core.persistence.engine import make_engine
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services import alerts as alert_services
from core.services import batches as batch_services
from core.services import claims as claim_services
from core.services.context import Context, Rules
from tests.factories import add_employee, add_records, make_batch, make_org, unique_pdf

START = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
MAX_ADVANCE = timedelta(days=15)
"""Stay inside October's window so that only the batches decide who is in good standing."""
MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]
ESCALATION_KEYS = ("alert.level1", "alert.level2", "alert.level3", "alert.fix_date_missed")
_runs = itertools.count()
PICK = st.integers(min_value=0, max_value=1000)
_UPLOADABLE = (ClaimState.DRAFT, ClaimState.RETURNED)
_HELD = ClaimState.ON_HOLD


@dataclass
class ModelClaim:
    owner: str
    state: ClaimState
    complete: bool
    transitions: int = 1  # opening is the first recorded move (nothing → draft)
    decisions: int = 0


class ClaimsAndAlerts(RuleBasedStateMachine):
    def __init__(self, template: Path, workdir: Path) -> None:
        super().__init__()
        run = next(_runs)
        path = workdir / f"run-{run}.db"
        shutil.copy(template, path)
        self.engine = make_engine(f"sqlite:///{path}")
        self.clock = ManualClock(START)
        self.ctx = Context(
            uow=Database(self.engine).uow,
            clock=self.clock,
            documents=FilesystemDocumentStore(workdir / f"documents-{run}"),
            rules=Rules(),
        )
        self.org = make_org(self.ctx)
        colleague = add_employee(self.ctx, self.org.branch, "SH01-E002", "孙八")
        self.people = {"delayed": self.org.employee, "clean": colleague}
        add_records(
            self.ctx,
            self.org.employee,
            MONTHS,
            unpaid=["2026-08", "2026-09"],
            delay_reason=DelayReason.FINANCE_APPROVAL,
        )
        add_records(self.ctx, colleague, MONTHS)
        self.batches = {
            month: make_batch(self.ctx, self.org, month, BatchState.SUBMITTED)
            for month in ("2026-08", "2026-09")
        }
        self.paid_months: set[str] = set()
        self.model: dict[int, ModelClaim] = {}
        self.told_at_resolution: dict[int, int] = {}

    def teardown(self) -> None:
        self.engine.dispose()

    # helpers ---------------------------------------------------------------------------------

    def in_good_standing(self, who: str) -> bool:
        return who == "clean" or self.paid_months == set(self.batches)

    def expect(self, error: type[Exception] | None, call: Callable[[], Any]) -> Any:
        if error is None:
            return call()
        with pytest.raises(error):
            call()
        return None

    def choose(self, pick: int, legal: bool, allowed: Callable[[ModelClaim], bool]) -> int:
        """A claim for the next move: one it is allowed for or, when not ``legal``, any claim.

        Rules draw ``wild`` (usually False) to try a move on any claim, legal or not.
        """
        ids = sorted(self.model)
        pool = [i for i in ids if allowed(self.model[i])] if legal else ids
        return (pool or ids)[pick % len(pool or ids)]

    def open_alert_of(self, claim_id: int) -> tuple[int, AlertState] | None:
        with self.ctx.uow() as uow:
            found = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim_id)
            return (found[0].id, found[0].state) if found else None

    # rules -----------------------------------------------------------------------------------

    @initialize()
    def a_held_claim(self) -> None:
        """Every run starts like the seed: 张三's complete claim, held, with HR alerted."""
        claim_id = self.open_claim("delayed", True)
        self._submit(claim_id)
        assert self.model[claim_id].state is ClaimState.ON_HOLD

    @rule(who=st.sampled_from(["delayed", "clean"]), complete=st.booleans())
    def open_a_claim(self, who: str, complete: bool) -> None:
        self.open_claim(who, complete)

    def open_claim(self, who: str, complete: bool) -> int:
        person = self.people[who]
        claim = claim_services.open_claim(self.ctx, person.id, ClaimType.HOSPITALIZATION)
        kinds = REQUIRED_DOCUMENTS[ClaimType.HOSPITALIZATION]
        for kind in kinds if complete else kinds[-1:]:
            claim_services.attach_document(
                self.ctx, claim.id, person.id, kind, "doc.pdf", unique_pdf()
            )
        self.model[claim.id] = ModelClaim(who, ClaimState.DRAFT, complete)
        return claim.id

    @rule(who=st.sampled_from(["clean", "delayed"]))
    def open_and_submit(self, who: str) -> None:
        self._submit(self.open_claim(who, True))

    @rule(pick=PICK, wild=st.booleans())
    def complete_documents(self, pick: int, wild: bool) -> None:
        claim_id = self.choose(pick, not wild, lambda c: c.state in _UPLOADABLE)
        claim = self.model[claim_id]
        open_for_upload = claim.state in _UPLOADABLE
        person = self.people[claim.owner]
        for kind in (DocumentKind.ADMISSION_CERTIFICATE, DocumentKind.ITEMIZED_BILL):
            self.expect(
                None if open_for_upload else InvalidValue,
                functools.partial(
                    claim_services.attach_document,
                    self.ctx,
                    claim_id,
                    person.id,
                    kind,
                    "more.pdf",
                    unique_pdf(),
                ),
            )
        claim.complete = claim.complete or open_for_upload

    @rule(pick=PICK, wild=st.booleans())
    def submit(self, pick: int, wild: bool) -> None:
        self._submit(self.choose(pick, not wild, lambda c: c.complete and c.state in _UPLOADABLE))

    def _submit(self, claim_id: int) -> None:
        claim = self.model[claim_id]
        person = self.people[claim.owner]
        event = "resubmit" if claim.state is ClaimState.RETURNED else "submit"
        if not claim.complete:
            error: type[Exception] | None = ClaimIncomplete
        elif not CLAIM_LIFECYCLE.allows(claim.state, event):
            error = IllegalTransition
        else:
            error = None
        self.expect(error, lambda: claim_services.submit_claim(self.ctx, claim_id, person.id))
        if error is None:
            good = self.in_good_standing(claim.owner)
            claim.state = ClaimState.UNDER_REVIEW if good else ClaimState.ON_HOLD
            claim.transitions += 2

    @rule(
        pick=PICK,
        wild=st.booleans(),
        decision=st.sampled_from(["approve", "reject", "return"]),
        keep_unpaid=st.booleans(),
    )
    def decide(self, pick: int, wild: bool, decision: str, keep_unpaid: bool) -> None:
        moves = [
            (claim_id, event)
            for claim_id, claim in sorted(self.model.items())
            for event in ("approve", "reject", "return")
            if CLAIM_LIFECYCLE.allows(claim.state, event)
        ]
        if moves and not wild:
            claim_id, decision = moves[pick % len(moves)]
        else:
            claim_id = self.choose(pick, False, lambda c: True)
        claim = self.model[claim_id]
        legal = CLAIM_LIFECYCLE.allows(claim.state, decision)
        finance = self.org.finance.id
        calls = {
            "approve": lambda: claim_services.approve_claim(
                self.ctx, claim_id, finance, Decimal("1280.00")
            ),
            "reject": lambda: claim_services.reject_claim(self.ctx, claim_id, finance, "no"),
            "return": lambda: claim_services.return_claim(self.ctx, claim_id, finance, "more"),
        }
        self.expect(None if legal else IllegalTransition, calls[decision])
        if legal:
            claim.state = CLAIM_LIFECYCLE.apply(claim.state, decision)
            claim.transitions += 1
            claim.decisions += decision in ("approve", "reject")
            if claim.state is ClaimState.APPROVED and not keep_unpaid:
                self._pay_out(claim_id)

    @rule(pick=PICK, wild=st.booleans())
    def withdraw(self, pick: int, wild: bool) -> None:
        claim_id = self.choose(
            pick, not wild, lambda c: CLAIM_LIFECYCLE.allows(c.state, "withdraw")
        )
        claim = self.model[claim_id]
        legal = CLAIM_LIFECYCLE.allows(claim.state, "withdraw")
        owner = self.people[claim.owner].id
        self.expect(
            None if legal else IllegalTransition,
            lambda: claim_services.withdraw_claim(self.ctx, claim_id, owner),
        )
        if legal:
            claim.state, claim.transitions = ClaimState.WITHDRAWN, claim.transitions + 1

    @rule(pick=PICK, wild=st.booleans())
    def pay_out(self, pick: int, wild: bool) -> None:
        self._pay_out(self.choose(pick, not wild, lambda c: c.state is ClaimState.APPROVED))

    def _pay_out(self, claim_id: int) -> None:
        claim = self.model[claim_id]
        legal = claim.state is ClaimState.APPROVED
        self.expect(
            None if legal else IllegalTransition,
            lambda: claim_services.record_payout(self.ctx, claim_id, self.org.finance.id, "P-1"),
        )
        if legal:
            claim.state, claim.transitions = ClaimState.PAID, claim.transitions + 1

    @rule(month=st.sampled_from(["2026-08", "2026-09"]))
    def pay_contributions(self, month: str) -> None:
        legal = month not in self.paid_months
        today = self.clock.now().date()
        self.expect(
            None if legal else IllegalTransition,
            lambda: batch_services.record_batch_payment(
                self.ctx, self.batches[month], today, f"BANK-{month}"
            ),
        )
        if not legal:
            return
        self.paid_months.add(month)
        for claim in self.model.values():
            if claim.state is ClaimState.ON_HOLD and self.in_good_standing(claim.owner):
                claim.state, claim.transitions = ClaimState.UNDER_REVIEW, claim.transitions + 1

    @precondition(lambda self: self.clock.now() - START < MAX_ADVANCE)
    @rule(minutes=st.integers(min_value=1, max_value=60 * 60))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        alert_services.sweep_escalations(self.ctx)

    @rule(pick=PICK, days=st.integers(min_value=0, max_value=3))
    def acknowledge(self, pick: int, days: int) -> None:
        found = self.open_alert_of(self.choose(pick, True, lambda c: c.state is _HELD))
        if found is None:
            return
        alert_id, state = found
        fix_date = self.ctx.today() + timedelta(days=days)
        self.expect(
            None if ALERT_LIFECYCLE.allows(state, "acknowledge") else IllegalTransition,
            lambda: alert_services.acknowledge_alert(
                self.ctx, alert_id, self.org.hr.id, DelayReason.FINANCE_APPROVAL, fix_date
            ),
        )

    @rule(pick=PICK)
    def resolve(self, pick: int) -> None:
        found = self.open_alert_of(self.choose(pick, True, lambda c: c.state is _HELD))
        if found is not None:
            alert_services.resolve_alert(self.ctx, found[0], self.org.hr.id, "handled")

    # invariants ------------------------------------------------------------------------------

    @invariant()
    def claims_are_where_the_model_says_with_one_audit_row_per_move(self) -> None:
        with self.ctx.uow() as uow:
            for claim_id, expected in self.model.items():
                claim = uow.claims.get(claim_id)
                assert claim.state is expected.state
                moves = [a for a in uow.audit.for_subject("claim", claim_id) if a.to_state]
                assert len(moves) == expected.transitions
                _assert_chain(moves, CLAIM_LIFECYCLE, str(claim.state))
                decisions = [a for a in moves if a.action in ("claim.approve", "claim.reject")]
                assert len(decisions) == expected.decisions <= 1
                if expected.decisions:
                    assert claim.state in (
                        ClaimState.APPROVED,
                        ClaimState.REJECTED,
                        ClaimState.PAID,
                    )

    @invariant()
    def alerts_obey_their_lifecycle_and_fall_silent_once_resolved(self) -> None:
        with self.ctx.uow() as uow:
            told: dict[int, list[datetime]] = {}
            for notice in uow.outbox.all():
                if notice.key in ESCALATION_KEYS:
                    told.setdefault(notice.params["alert_id"], []).append(notice.created_at)
            alerts = uow.session.scalars(select(Alert)).all()
            for alert in alerts:
                assert alert.state in AlertState and 0 <= alert.level <= 3
                moves = [
                    a
                    for a in uow.audit.for_subject("alert", alert.id)
                    if a.action
                    in ("alert.open", "alert.acknowledge", "alert.reopen", "alert.resolve")
                ]
                _assert_chain(moves, ALERT_LIFECYCLE, str(alert.state))
                steps = uow.alerts.steps(alert.id)
                assert all(s.fired_at is not None for s in steps if s.state is StepState.FIRED)
                if alert.state is not AlertState.RESOLVED:
                    continue
                assert alert.resolved_at is not None
                assert not [s for s in steps if s.state is StepState.PENDING]
                assert all(at <= alert.resolved_at for at in told.get(alert.id, []))
                count = len(told.get(alert.id, []))
                assert self.told_at_resolution.setdefault(alert.id, count) == count


def _assert_chain(moves: list[Any], table: TransitionTable[Any], current: str) -> None:
    """Rows go nothing → initial → … → current, each one a row of the table."""
    assert moves and (moves[0].from_state, moves[0].to_state) == (None, str(table.initial))
    rows = {(str(a), str(b)) for (a, _), b in table.rows.items()}
    for before, after in itertools.pairwise(moves):
        assert after.from_state == before.to_state
        assert (after.from_state, after.to_state) in rows
    assert moves[-1].to_state == current


def test_claim_and_alert_lifecycles(sqlite_template: Path, tmp_path: Path) -> None:
    run_state_machine_as_test(
        lambda: ClaimsAndAlerts(sqlite_template, tmp_path),  # type: ignore[arg-type]
        settings=settings(
            max_examples=30,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_the_model_starts_where_the_demo_does(sqlite_template: Path, tmp_path: Path) -> None:
    machine = ClaimsAndAlerts(sqlite_template, tmp_path)
    try:
        assert machine.ctx.today() == date(2026, 10, 12)
        assert not machine.in_good_standing("delayed") and machine.in_good_standing("clean")
    finally:
        machine.teardown()
