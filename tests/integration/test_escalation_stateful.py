"""Escalation with delegation, approval reminders, repeats and policy edits, driven at random
through the real services on a fresh SQLite file per run.

The issue's promise is "every alert is always owned by someone present, or escalated". After
every step: an escalation card or an approval reminder went only to someone not away that day
(and "on behalf of" only someone who was); every open alert has a timer still to fire or has
been flagged for management, an acknowledged one waits for its fix date, and every fired level
told somebody while a skipped one says why; every timer fired at most once and no notice was
queued twice; an alert keeps the policy version it opened with, and its timers follow it.
After every sweep no timer or approval wait is left pending past its due time. Absences are
refused exactly when a simple model says (unfit substitute, overlap, loop), refusals leave
nothing behind, and the stored ones never loop.

Every run starts with a batch waiting for finance and with someone in HR and finance away, so
delegation and reminders are in play even in CI's fixed examples (``HYPOTHESIS_PROFILE=ci``).
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

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
from core.domain.absences import SubstituteCycle, may_substitute
from core.domain.batches import BatchState
from core.domain.contributions import DelayReason
from core.domain.directory import Employee, Role
from core.domain.errors import InvalidValue
from core.domain.escalation import (
    Alert,
    AlertState,
    EscalationPolicy,
    EscalationStep,
    PolicyLevel,
    StepKind,
    StepState,
    SubjectKind,
    default_policy,
)
from core.domain.notifications import Notification
from core.domain.workclock import Delay
from core.persistence import tables as t
from core.persistence.engine import make_engine
from core.persistence.uow import Database, UnitOfWork
from core.ports import ManualClock
from core.services.absences import cancel_away, set_away
from core.services.alerts import acknowledge_alert, resolve_alert, sweep_escalations
from core.services.approvals import plan_approval_waits, remind_due_approvals
from core.services.claims import submit_claim
from core.services.context import Context, Rules
from tests.factories import (
    add_branch,
    add_employee,
    add_records,
    make_batch,
    make_org,
    open_complete_claim,
    row_counts,
)

START = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]
LEVEL_ROLES = [Role.HR, Role.HR_MANAGER, Role.HR_DIRECTOR, Role.FINANCE]
ROUTED = re.compile(r"^(alert(\.[a-z_.]+)?\.level\d+|approval\.reminder\.[a-z_]+)$")
"""Notices whose receiver delegation chooses: escalation cards and approval reminders."""
STEP_KEY = re.compile(r"^alert:(\d+):step:(\d+):\d+:[a-z]+$")
"""A level's card (not the acknowledger's "fix date missed", which ends in ``:missed:…``)."""
_runs = itertools.count()
PICK = st.integers(min_value=0, max_value=1000)
HOURS = st.integers(min_value=1, max_value=30)
DAYS = st.integers(min_value=0, max_value=5)
"""An absence lasts from today to this many days later."""
WHO = st.integers(min_value=0, max_value=3)
"""Who goes away: HR, the HR manager, the HR director or finance."""
SUBSTITUTE = st.sampled_from([None, None, 0, 1, 2, 3, 4])
"""Nobody named (often), or an index into the others who might stand in."""


@dataclass
class ModelAbsence:
    id: int
    employee_id: int
    starts_on: date
    ends_on: date
    substitute_id: int | None
    cancelled: bool = False

    def active_on(self, day: date) -> bool:
        return not self.cancelled and self.starts_on <= day <= self.ends_on


class Escalation(RuleBasedStateMachine):
    def __init__(self, template: Path, workdir: Path) -> None:
        super().__init__()
        run = next(_runs)
        path = workdir / f"escalation-{run}.db"
        shutil.copy(template, path)
        self.engine = make_engine(f"sqlite:///{path}")
        self.clock = ManualClock(START)
        self.ctx = Context(
            uow=Database(self.engine).uow,
            clock=self.clock,
            documents=FilesystemDocumentStore(workdir / f"documents-{run}"),
            rules=Rules(policy=default_policy(repeat=2)),
        )
        self.org = org = make_org(self.ctx)
        assert org.hr_manager is not None and org.hr_director is not None
        beijing = add_branch(self.ctx, "BJ01", "北京分公司")
        stand_ins = [
            add_employee(self.ctx, beijing, no, name, role, responsible_for=[beijing])
            for no, name, role in (
                ("BJ01-H001", "孙八", Role.HR),
                ("BJ01-F001", "周九", Role.FINANCE),
            )
        ]
        self.away_side = [org.hr, org.hr_manager, org.hr_director, org.finance]
        self.staff = self.away_side + stand_ins
        self.employees = [org.employee] + [
            add_employee(self.ctx, org.branch, f"SH01-E00{n}", name)
            for n, name in ((2, "吴十"), (3, "郑十一"))
        ]
        for person in self.employees:
            add_records(
                self.ctx,
                person,
                MONTHS,
                unpaid=MONTHS[1:],
                delay_reason=DelayReason.FINANCE_APPROVAL,
            )
        self.absences: list[ModelAbsence] = []
        self.batched: list[str] = []
        self.latest_policy: EscalationPolicy | None = None
        self.versions: dict[int, tuple[str, int, str, int]] = {}
        self.checked_notice = 0

    def teardown(self) -> None:
        self.engine.dispose()

    # rules -------------------------------------------------------------------------------------

    @initialize()
    def a_batch_waits_for_finance(self) -> None:
        """Every run has an approval waiting, so reminders (and, after three working days, its
        alert) are in play whatever else is drawn."""
        self.batch_awaits_finance(0)

    @initialize(
        who=st.integers(min_value=0, max_value=2),
        days=DAYS,
        substitute=SUBSTITUTE,
        fit=st.booleans(),
        swap=st.booleans(),
    )
    def someone_in_hr_is_away_from_the_start(
        self, who: int, days: int, substitute: int | None, fit: bool, swap: bool
    ) -> None:
        """Every run tries an absence on an escalation level before anything happens; with
        ``swap``, its substitute then tries to go away naming them (a loop, when named)."""
        self.go_away(who, days, substitute, fit)
        if swap and self.swaps():
            self.the_stand_in_goes_away_too(0, days)

    @initialize(days=DAYS, stand_in=st.booleans())
    def finance_is_away_from_the_start(self, days: int, stand_in: bool) -> None:
        """Finance, whom the batch waits for, is away from the first day, alone or with
        Beijing's finance standing in: the reminders must find whoever acts."""
        self.try_away(self.org.finance, self.staff[-1] if stand_in else None, days)

    @rule(who=st.integers(min_value=0, max_value=2))
    def open_held_claim_alert(self, who: int) -> None:
        employee = self.employees[who]
        claim_id = open_complete_claim(self.ctx, employee)
        submit_claim(self.ctx, claim_id, employee.id)
        with self.ctx.uow() as uow:
            (alert,) = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim_id)
            opened = uow.alerts.policy(alert.policy_name, alert.policy_version)
        if self.latest_policy is not None:  # a new alert starts on the latest edit
            assert opened.levels_json() == self.latest_policy.levels_json()
            assert opened.repeat == self.latest_policy.repeat

    @rule(hours=HOURS)
    def time_passes(self, hours: int) -> None:
        now = self.clock.advance(timedelta(hours=hours))
        plan_approval_waits(self.ctx)
        remind_due_approvals(self.ctx, "w1")
        sweep_escalations(self.ctx, "w1")
        with self.ctx.uow() as uow:  # nothing due is left behind (a re-opened alert's next
            # level may fall due at this very moment: the next sweep fires it)
            steps = uow.session.scalars(select(EscalationStep)).all()
            assert not [s.id for s in steps if s.state is StepState.PENDING and s.due_at < now]
            waits = uow.approvals.all()
            assert not [w.id for w in waits if w.state is StepState.PENDING and w.due_at < now]

    @rule(hours=HOURS)
    def more_time_passes(self, hours: int) -> None:
        """Time drives every timer: it gets two of the rules' draws, so a run of 25 steps
        usually reaches the director, repeats, flags and the approval deadline."""
        self.time_passes(hours)

    @rule(who=WHO, days=DAYS, substitute=SUBSTITUTE, fit=st.booleans())
    def go_away(self, who: int, days: int, substitute: int | None, fit: bool) -> None:
        """``fit``: the substitute is drawn only from those able to do the work (finance has
        one), so stand-ins are common; otherwise from anyone else, and often refused."""
        person = self.away_side[who]
        others = [p for p in self.staff if p.id != person.id]
        if fit:
            others = [p for p in others if may_substitute(person.role, p.role)]
        self.try_away(
            person, others[substitute % len(others)] if substitute is not None else None, days
        )

    @precondition(lambda self: self.swaps())
    @rule(pick=PICK, days=DAYS)
    def the_stand_in_goes_away_too(self, pick: int, days: int) -> None:
        """The likeliest loop: a substitute goes away naming the person they stand in for."""
        absence = self.swaps()[pick % len(self.swaps())]
        by_id = {p.id: p for p in self.away_side}
        self.try_away(by_id[absence.substitute_id or 0], by_id[absence.employee_id], days)

    def try_away(self, person: Employee, stand_in: Employee | None, days: int) -> None:
        """Away from today for ``days`` more days: stored, or refused with nothing stored."""
        starts, ends = self.ctx.today(), self.ctx.today() + timedelta(days=days)
        expected = self.refusal(person, stand_in, starts, ends)
        before = row_counts(self.ctx)
        try:
            view = set_away(
                self.ctx, person.id, starts, ends, stand_in.employee_no if stand_in else None
            )
        except (InvalidValue, SubstituteCycle) as refused:
            why = "cycle" if isinstance(refused, SubstituteCycle) else refused.params["field"]
            assert why == expected
            assert row_counts(self.ctx) == before  # nothing stored
            return
        assert expected is None and view.absence.id is not None
        sub_id = stand_in.id if stand_in else None
        self.absences.append(ModelAbsence(view.absence.id, person.id, starts, ends, sub_id))

    def swaps(self) -> list[ModelAbsence]:
        """Absences not over whose substitute may go away too (one of the four)."""
        side, today = {p.id for p in self.away_side}, self.ctx.today()
        return [a for a in self.absences if a.active_on(today) and a.substitute_id in side]

    @precondition(lambda self: self.absences)
    @rule(pick=PICK)
    def come_back(self, pick: int) -> None:
        absence = self.absences[pick % len(self.absences)]
        if absence.cancelled or absence.ends_on < self.ctx.today():
            before = row_counts(self.ctx)
            with pytest.raises(InvalidValue):
                cancel_away(self.ctx, absence.employee_id, absence.id)
            assert row_counts(self.ctx) == before
            return
        cancel_away(self.ctx, absence.employee_id, absence.id)
        absence.cancelled = True

    @rule(pick=PICK, actor=st.integers(min_value=0, max_value=2), days=st.integers(0, 3))
    def acknowledge(self, pick: int, actor: int, days: int) -> None:
        alert_id = self.pick_alert(pick, AlertState.OPEN)
        if alert_id is not None:  # HR, the manager and the director all answer for SH01
            fix_date = self.ctx.today() + timedelta(days=days)
            by = self.away_side[actor].id
            acknowledge_alert(self.ctx, alert_id, by, DelayReason.FINANCE_APPROVAL, fix_date)

    @rule(pick=PICK, actor=st.integers(min_value=0, max_value=2))
    def resolve(self, pick: int, actor: int) -> None:
        alert_id = self.pick_alert(pick, None)
        if alert_id is not None:
            resolve_alert(self.ctx, alert_id, self.away_side[actor].id, "handled")

    @rule(
        hours=st.lists(st.integers(min_value=0, max_value=72), min_size=1, max_size=3),
        roles=st.lists(st.sampled_from(LEVEL_ROLES), min_size=3, max_size=3),
        repeat=st.integers(min_value=0, max_value=2),
    )
    def edit_policy(self, hours: list[int], roles: list[Role], repeat: int) -> None:
        levels = tuple(
            PolicyLevel(n, role, Delay.calendar(h))
            for n, role, h in zip(itertools.count(1), roles, sorted(hours), strict=False)
        )
        policy = EscalationPolicy(self.ctx.rules.policy.name, levels, repeat=repeat)
        with self.ctx.uow() as uow:
            now = self.ctx.now()
            self.latest_policy = uow.alerts.save_edited_policy(policy, now, "admin", "random")
            uow.commit()

    @precondition(lambda self: len(self.batched) < len(MONTHS))
    @rule(pick=PICK)
    def batch_awaits_finance(self, pick: int) -> None:
        left = [m for m in MONTHS if m not in self.batched]
        month = left[pick % len(left)]
        make_batch(self.ctx, self.org, month, BatchState.FINANCE_PENDING)
        self.batched.append(month)

    # what must hold ----------------------------------------------------------------------------

    @invariant()
    def cards_and_reminders_reach_only_people_present(self) -> None:
        with self.ctx.uow() as uow:
            query = select(Notification).where(t.outbox.c.id > self.checked_notice)
            fresh = uow.session.scalars(query.order_by(t.outbox.c.id)).all()
            for notice in fresh:
                if not ROUTED.match(notice.key):
                    continue
                day = notice.created_at.astimezone(self.ctx.rules.timezone).date()
                assert not self.away(notice.recipient_id, day), (notice.key, day)
                absent_no = notice.params.get("on_behalf_of_no")
                if absent_no is not None:
                    absent = uow.directory.employee_by_no(absent_no)
                    assert absent is not None and absent.id != notice.recipient_id
                    assert self.away(absent.id, day), (notice.key, absent_no, day)
            self.checked_notice = fresh[-1].id if fresh else self.checked_notice

    @invariant()
    def every_alert_is_owned_or_escalated(self) -> None:
        with self.ctx.uow() as uow:
            told = _cards_by_step(uow)
            for alert in uow.alerts.unresolved():
                pending = uow.alerts.pending_steps(alert.id)
                if alert.state is AlertState.ACKNOWLEDGED:  # waits for its fix date to end
                    assert [s.kind for s in pending] == [StepKind.REOPEN], alert.id
                else:
                    escalating = [s for s in pending if s.kind is StepKind.ESCALATE]
                    assert escalating or alert.flagged_at is not None, alert.id
            for step in uow.session.scalars(select(EscalationStep)).all():
                cards = told.get(step.id, [])
                if step.state is StepState.FIRED:  # told somebody, all at the moment it fired
                    assert cards and {c.created_at for c in cards} == {step.fired_at}, step.id
                    assert all(c.key.endswith(f"level{min(step.level, 3)}") for c in cards)
                else:
                    assert not cards, step.id
                if step.state is StepState.SKIPPED:
                    assert step.note and step.fired_at is not None, step.id

    @invariant()
    def each_timer_fires_at_most_once_and_no_notice_repeats(self) -> None:
        with self.ctx.uow() as uow:
            keys = uow.session.scalars(select(t.outbox.c.idempotency_key)).all()
            assert len(keys) == len(set(keys))
            told = _cards_by_step(uow)
            assert all(
                len({c.recipient_id for c in cards}) == len(cards) for cards in told.values()
            )
            outcomes = Counter(
                e.subject_id
                for e in uow.audit.all()
                if e.subject_kind == "alert"
                and e.action in ("alert.escalate", "alert.level_skipped")
            )
            done = Counter(
                s.alert_id
                for s in uow.session.scalars(select(EscalationStep)).all()
                if s.state in (StepState.FIRED, StepState.SKIPPED)
            )
            assert outcomes == done

    @invariant()
    def alerts_keep_their_policy_version(self) -> None:
        with self.ctx.uow() as uow:
            for alert in uow.session.scalars(select(Alert)).all():
                policy = uow.alerts.policy(alert.policy_name, alert.policy_version)
                seen = (
                    alert.policy_name,
                    alert.policy_version,
                    policy.levels_json(),
                    policy.repeat,
                )
                assert self.versions.setdefault(alert.id, seen) == seen
                steps = uow.alerts.steps(alert.id)
                assert alert.level <= policy.top
                assert all(1 <= s.level <= policy.top for s in steps)
                if all(s.kind is StepKind.ESCALATE for s in steps):  # never acknowledged
                    expected = [*range(1, policy.top + 1), *[policy.top] * policy.repeat]
                    assert [s.level for s in steps] == expected, alert.id

    @invariant()
    def substitutes_never_loop(self) -> None:
        today = self.ctx.today()
        for day in (today + timedelta(days=n) for n in range(6)):
            for absence in self.absences:
                if absence.active_on(day) and absence.substitute_id is not None:
                    assert not self.loops(absence.employee_id, absence.substitute_id, day)

    # the model ---------------------------------------------------------------------------------

    def away(self, employee_id: int, day: date) -> bool:
        return any(a.employee_id == employee_id and a.active_on(day) for a in self.absences)

    def loops(self, start: int, substitute: int, day: date) -> bool:
        """Following substitutes on ``day`` from ``substitute`` comes back to ``start``."""
        seen, current = {start}, substitute
        while current != start:
            if current in seen:
                return False
            seen.add(current)
            following = [
                a.substitute_id
                for a in self.absences
                if a.employee_id == current and a.active_on(day)
            ]
            if not following or following[0] is None:
                return False
            current = following[0]
        return True

    def refusal(
        self, person: Employee, stand_in: Employee | None, starts: date, ends: date
    ) -> str | None:
        """Why ``set_away`` must refuse, in the order it checks; None: it must store it."""
        if stand_in is not None and not may_substitute(person.role, stand_in.role):
            return "substitute_role"
        mine = [a for a in self.absences if a.employee_id == person.id and not a.cancelled]
        if any(a.starts_on <= ends and starts <= a.ends_on for a in mine):
            return "overlap"
        days = (starts + timedelta(days=n) for n in range((ends - starts).days + 1))
        if stand_in is not None and any(self.loops(person.id, stand_in.id, d) for d in days):
            return "cycle"
        return None

    def pick_alert(self, pick: int, state: AlertState | None) -> int | None:
        with self.ctx.uow() as uow:
            found = [a.id for a in uow.alerts.unresolved() if state in (None, a.state)]
        return found[pick % len(found)] if found else None


def _cards_by_step(uow: UnitOfWork) -> dict[int, list[Notification]]:
    """Each escalation step's level cards, by step id (read from the idempotency key)."""
    found: dict[int, list[Notification]] = {}
    for notice in uow.outbox.all():
        match = STEP_KEY.match(notice.idempotency_key)
        if match and notice.replaces_id is None:
            found.setdefault(int(match[2]), []).append(notice)
    return found


def test_every_alert_is_owned_by_someone_present_or_escalated(
    sqlite_template: Path, tmp_path: Path
) -> None:
    run_state_machine_as_test(
        lambda: Escalation(sqlite_template, tmp_path),  # type: ignore[arg-type]
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
