"""Rosters and batches driven at random through the real services on a fresh SQLite file per run.

People are hired, leave and move between two branches on any day of October and November
(month boundaries included); rosters are built for one branch or all, verified, approved, paid
or returned in any order. After every step: nobody is on two batches of one month, a batch's
figures are its lines, and an approved batch's lines never change. After building every branch
of a month: everyone employed in it is on exactly one batch, where the directory says (unless an
approved batch already holds them), and nobody else is on an unapproved one.
"""

from __future__ import annotations

import itertools
import shutil
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

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
from core.domain.batches import UNAPPROVED, BatchState
from core.domain.directory import Role
from core.domain.periods import Period
from core.persistence import tables as t
from core.persistence.engine import make_engine
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services import batches as batch_services
from core.services.context import Context, Rules
from core.services.review import verify_batch
from core.services.roster import build_roster
from tests.factories import add_branch, add_employee

PERIODS = (Period(2026, 10), Period(2026, 11))
DAYS = st.sampled_from(
    [
        date(2026, 9, 30),
        date(2026, 10, 1),
        date(2026, 10, 15),
        date(2026, 10, 31),
        date(2026, 11, 1),
        date(2026, 11, 16),
        date(2026, 11, 30),
        date(2026, 12, 1),
    ]
)
"""Days of the two months, most of them on a month's boundary, where the rules turn."""
CODES = ("SH01", "BJ01")
_runs = itertools.count()


class Rosters(RuleBasedStateMachine):
    def __init__(self, template: Path, workdir: Path) -> None:
        super().__init__()
        run = next(_runs)
        path = workdir / f"roster-{run}.db"
        shutil.copy(template, path)
        self.engine = make_engine(f"sqlite:///{path}")
        self.ctx = Context(
            uow=Database(self.engine).uow,
            clock=ManualClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC)),
            documents=FilesystemDocumentStore(workdir / f"documents-{run}"),
            rules=Rules(),
        )
        self.branches = {code: add_branch(self.ctx, code, code) for code in CODES}
        branches = list(self.branches.values())
        self.hr = add_employee(
            self.ctx, branches[0], "H1", "人事", Role.HR, responsible_for=branches
        )
        self.finance = add_employee(
            self.ctx, branches[0], "F1", "财务", Role.FINANCE, responsible_for=branches
        )
        self.people: list[int] = []
        self.approved_lines: dict[int, list[tuple[int, Decimal]]] = {}

    def teardown(self) -> None:
        self.engine.dispose()

    # the directory -----------------------------------------------------------------------------

    @initialize(hired=st.lists(st.tuples(st.sampled_from(CODES), DAYS), min_size=2, max_size=5))
    def staff(self, hired: list[tuple[str, date]]) -> None:
        for code, day in hired:
            self.hire(code, day)

    @rule(code=st.sampled_from(CODES), hired=DAYS)
    def hire(self, code: str, hired: date) -> None:
        number = f"P{len(self.people) + 1:03d}"
        person = add_employee(self.ctx, self.branches[code], number, number, hire_date=hired)
        with self.ctx.uow() as uow:
            uow.directory.record_move(person.id, person.branch_id, hired)
            uow.commit()
        self.people.append(person.id)

    @precondition(lambda self: self.people)
    @rule(pick=st.integers(min_value=0), left=DAYS)
    def leave(self, pick: int, left: date) -> None:
        with self.ctx.uow() as uow:
            person = uow.directory.employee(self.people[pick % len(self.people)])
            person.leave_date = max(left, person.hire_date)
            uow.commit()

    @precondition(lambda self: self.people)
    @rule(pick=st.integers(min_value=0), day=DAYS, code=st.sampled_from(CODES))
    def transfer(self, pick: int, day: date, code: str) -> None:
        with self.ctx.uow() as uow:
            person = uow.directory.employee(self.people[pick % len(self.people)])
            moves = uow.directory.moves_of(person.id)
            if day <= moves[-1].start_date:
                return  # a move is recorded after the last one, as the import does
            person.branch_id = self.branches[code].id
            uow.directory.record_move(person.id, person.branch_id, day)
            uow.commit()

    # the cycle ----------------------------------------------------------------------------------

    @rule(period=st.sampled_from(PERIODS), code=st.sampled_from(CODES))
    def build_one(self, period: Period, code: str) -> None:
        build_roster(self.ctx, period, [code])

    @rule(period=st.sampled_from(PERIODS))
    def build_all(self, period: Period) -> None:
        build_roster(self.ctx, period)
        self.check_complete(period)

    @rule(period=st.sampled_from(PERIODS), code=st.sampled_from(CODES), step=st.integers(0, 3))
    def decide(self, period: Period, code: str, step: int) -> None:
        batch_id, state = self.batch(period, code)
        if batch_id is None:
            return
        me, ctx = (self.hr.id, self.finance.id), self.ctx
        if step == 0 and state is BatchState.DRAFT:
            verify_batch(ctx, batch_id, me[0])
        elif step == 1 and state is BatchState.FINANCE_PENDING:
            batch_services.approve_batch(ctx, batch_id, me[1])
            self.approved_lines[batch_id] = self.lines_of(batch_id)
        elif step == 2 and state is BatchState.APPROVED:
            batch_services.confirm_batch_paid(ctx, batch_id, me[1], "BANK")
        elif step == 3 and state in UNAPPROVED - {BatchState.RETURNED}:
            batch_services.return_batch(ctx, batch_id, me[0], "重新核对")

    # what must hold -----------------------------------------------------------------------------

    @invariant()
    def nobody_is_on_two_batches_of_a_month(self) -> None:
        rows = self.all_lines()
        assert all(n == 1 for n in Counter((e, p) for e, p, _, _ in rows).values())

    @invariant()
    def approved_lines_never_change(self) -> None:
        for batch_id, lines in self.approved_lines.items():
            assert self.lines_of(batch_id) == lines

    @invariant()
    def figures_are_the_lines(self) -> None:
        with self.ctx.uow() as uow:
            for period in PERIODS:
                for batch in uow.batches.of_period(period).values():
                    lines = uow.batches.lines(batch.id)
                    assert batch.headcount == len(lines)
                    assert batch.total == sum(
                        (x.employer_amount + x.employee_amount for x in lines), Decimal("0")
                    )

    def check_complete(self, period: Period) -> None:
        """Right after building every branch of ``period``."""
        on = {(e, p): (branch, state) for e, p, branch, state in self.all_lines()}
        with self.ctx.uow() as uow:
            closed = {
                batch.branch_id
                for batch in uow.batches.of_period(period).values()
                if batch.state not in UNAPPROVED
            }
            for employee_id in self.people:
                person = uow.directory.employee(employee_id)
                moves = [(m.start_date, m.branch_id) for m in uow.directory.moves_of(person.id)]
                expected = _paying_branch(person.hire_date, person.leave_date, moves, period)
                held = on.get((employee_id, str(period)))
                if held is not None and held[1] not in UNAPPROVED:
                    continue  # an approved batch keeps whoever it holds
                if held is None and expected in closed:
                    continue  # nor takes anyone in: the difference is reported (batch.differs)
                assert (held[0] if held else None) == expected, (person.employee_no, period)

    # reading back -------------------------------------------------------------------------------

    def batch(self, period: Period, code: str) -> tuple[int | None, BatchState | None]:
        with self.ctx.uow() as uow:
            found = uow.batches.of_period(period).get(self.branches[code].id)
            return (found.id, found.state) if found else (None, None)

    def lines_of(self, batch_id: int) -> list[tuple[int, Decimal]]:
        with self.ctx.uow() as uow:
            return [(x.employee_id, x.base) for x in uow.batches.lines(batch_id)]

    def all_lines(self) -> list[tuple[int, str, int, BatchState]]:
        b, lines = t.batches, t.batch_lines
        query = select(lines.c.employee_id, b.c.period, b.c.branch_id, b.c.state).join(
            b, b.c.id == lines.c.batch_id
        )
        with self.engine.connect() as conn:
            return [(e, str(p), br, BatchState(s)) for e, p, br, s in conn.execute(query)]


def _paying_branch(
    hired: date, left: date | None, moves: list[tuple[date, int]], period: Period
) -> int | None:
    """The rule restated independently: employed in the month → the branch held on its last
    employed day."""
    first, last = period.first_day(), period.last_day()
    if hired > last or (left is not None and left < first):
        return None
    day = min(last, left) if left else last
    return [branch for start, branch in moves if start <= day][-1]


def test_rosters_and_batches_at_random(sqlite_template: Path, tmp_path: Path) -> None:
    run_state_machine_as_test(
        lambda: Rosters(sqlite_template, tmp_path),  # type: ignore[arg-type]
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
