"""Benchmark: the monthly roster build, 100 branches × 1,000 employees (100k lines), 2% churn.

Measured: ``build_roster(ctx, period)`` for November on a database where October's roster already
exists (built untimed, then marked paid, as a settled month is). Every month about 2% of each
branch leave (a year of former employees is on file), about 2% are hired, and five people per
branch move to the next branch (``assignments`` rows, as ``DirectoryRepository.record_move``
writes them; half in October, half in November); each branch has its HR person in
``responsibilities``, so the HR card goes out per batch as in real use, with base bounds set so
some lines are flagged (and 1% of people without an ID number on file, 0.1% without a base, for
the card to list). Between runs the period's batches, lines, records, outbox and audit rows
are deleted, so each run builds the same 100 batches from nothing. Reported: wall time (median
of ``RUNS``), peak Python memory (``tracemalloc``, a separate run: tracing slows Python), and the
SQL statements issued (a ``before_cursor_execute`` listener on the engine; an executemany counts
as one, its ``insertmanyvalues`` pages too), split into single and executemany, and the cursor
calls they took (each ``insertmanyvalues`` page is one: row-at-a-time pages show up there).

Baseline, measured in the same run on the same database and period: the same lines written by
the database itself, one ``INSERT … SELECT`` each for the 100 batch rows (totals aggregated),
the contribution records (amounts from the base with the same rates, rounded half up in integer
fen) and the batch lines (``… FROM contributions JOIN employees JOIN contribution_batches``).
Both are checked to write the same lines and totals. Goal: build <= 3× the baseline.

SQLite always (a file in a temporary directory); PostgreSQL too when
``HRBOT_BENCH_DATABASE_URL`` or ``HRBOT_TEST_DATABASE_URL`` is set, in a schema of its own
(``hrbot_bench_roster``, dropped at the end); its ratio is reported but noisier. Rows go in with
SQLAlchemy Core ``insert()`` executemany. Times are reported, never asserted. Run:
``.venv/bin/python benchmarks/bench_roster.py`` (``make bench``); ``--profile`` adds a cProfile
of one build. A few minutes.
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import (  # noqa: E402
    BigInteger,
    Date,
    Engine,
    and_,
    case,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    type_coerce,
    update,
)

from adapters.documents import FilesystemDocumentStore  # noqa: E402
from benchmarks.results_io import Row, write_results  # noqa: E402
from core.domain.batches import BatchState  # noqa: E402
from core.domain.directory import Role  # noqa: E402
from core.domain.periods import Period  # noqa: E402
from core.domain.roster import Rates  # noqa: E402
from core.persistence import tables as t  # noqa: E402
from core.persistence.engine import make_engine  # noqa: E402
from core.persistence.migrate import upgrade  # noqa: E402
from core.persistence.uow import Database  # noqa: E402
from core.ports import ManualClock  # noqa: E402
from core.services.context import Context, Rules  # noqa: E402
from core.services.roster import build_roster  # noqa: E402

BRANCHES = 100
PER_BRANCH = 1_000  # employed in the measured month, per branch: 100k lines
CHURN = PER_BRANCH * 2 // 100  # leavers and hires per branch per month
MOVES = 5  # people per branch moving to the next branch, per month
FORMER_MONTHS = 12  # months of leavers on file
RUNS = 3
GOAL = 3.0
DUE_DAY = 15
PERIOD = Period(2026, 11)
PREVIOUS = PERIOD.shift(-1)
NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the roster day
RATES = Rates(base_min=Decimal("5360.00"), base_max=Decimal("26800.00"))
PG_SCHEMA = "hrbot_bench_roster"


@dataclass
class Backend:
    name: str
    engine: Engine
    ctx: Context
    counter: StatementCounter
    setup: float = 0.0
    previous_build: float = 0.0


@dataclass
class Figures:
    """One database's results."""

    build: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    build_peak: float = 0.0
    baseline_peak: float = 0.0
    build_statements: Counter[tuple[str, bool]] = field(default_factory=Counter)
    baseline_statements: Counter[tuple[str, bool]] = field(default_factory=Counter)
    build_calls: int = 0
    baseline_calls: int = 0
    lines: int = 0
    profile: str = ""


# Counting statements ---------------------------------------------------------------------------


class StatementCounter:
    """Statements the engine sends while ``active``, by first word and executemany or not.

    ``insertmanyvalues`` sends one executemany as several cursor calls sharing one execution
    context: those count once (and their pages are kept apart in ``pages``)."""

    def __init__(self, engine: Engine) -> None:
        self.active = False
        self.kinds: Counter[tuple[str, bool]] = Counter()
        self.pages = 0
        self._last: Any = None
        event.listen(engine, "before_cursor_execute", self.seen)

    def seen(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if not self.active:
            return
        if executemany and context is not None and context is self._last:
            self.pages += 1
            return
        self._last = context
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        self.kinds[(verb, executemany)] += 1

    @property
    def calls(self) -> int:
        """Cursor calls: statements plus the extra pages of ``insertmanyvalues``."""
        return sum(self.kinds.values()) + self.pages

    @contextmanager
    def counting(self) -> Iterator[StatementCounter]:
        self.kinds, self.pages, self._last = Counter(), 0, None
        self.active = True
        try:
            yield self
        finally:
            self.active = False
            self._last = None


# Databases -------------------------------------------------------------------------------------


@contextmanager
def sqlite_backend() -> Iterator[Backend]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench-roster.db")
        upgrade(engine)
        try:
            yield prepared("sqlite", engine, Path(folder))
        finally:
            engine.dispose()


@contextmanager
def postgres_backend(url: str) -> Iterator[Backend]:
    """Tables in a schema of our own, so a test run on the same database cannot drop them."""
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={PG_SCHEMA}"})
    try:
        upgrade(engine)
        with tempfile.TemporaryDirectory() as folder:
            yield prepared("postgresql", engine, Path(folder))
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        admin.dispose()


def backends() -> list[Callable[[], Any]]:
    found: list[Callable[[], Any]] = [sqlite_backend]
    url = os.environ.get("HRBOT_BENCH_DATABASE_URL") or os.environ.get("HRBOT_TEST_DATABASE_URL")
    if url:
        found.append(lambda: postgres_backend(url))
    return found


def prepared(name: str, engine: Engine, folder: Path) -> Backend:
    """Seed the directory, build and settle October's roster (untimed), analyse."""
    db = Database(engine)
    clock = ManualClock(datetime(2026, 10, 1, 2, 0, tzinfo=UTC))
    ctx = Context(
        uow=db.uow,
        clock=clock,
        documents=FilesystemDocumentStore(folder / "documents"),
        rules=Rules(rates=RATES),
    )
    b = Backend(name, engine, ctx, StatementCounter(engine))
    started = time.perf_counter()
    seed(engine)
    b.setup = time.perf_counter() - started
    started = time.perf_counter()
    outcomes = build_roster(ctx, PREVIOUS)
    b.previous_build = time.perf_counter() - started
    assert [o.action for o in outcomes] == ["created"] * BRANCHES, outcomes[:3]
    with engine.begin() as conn:  # October is settled by the time November is built
        conn.execute(
            update(t.batches)
            .where(t.batches.c.period == PREVIOUS)
            .values(state=BatchState.PAID, paid_date=date(2026, 10, 14))
        )
        conn.execute(
            update(t.contributions)
            .where(t.contributions.c.period == PREVIOUS)
            .values(paid_date=date(2026, 10, 14))
        )
        conn.execute(text("ANALYZE"))
    clock.set(NOW)
    return b


# Seeding ---------------------------------------------------------------------------------------


def seed(engine: Engine) -> None:
    """Branches, people (with churn and moves), HR responsibilities, assignment history."""
    branch_rows = [
        {"id": n + 1, "code": f"BR{n:03d}", "name": f"分公司{n:03d}", "due_day": DUE_DAY}
        for n in range(BRANCHES)
    ]
    employees, responsible, moves = people()
    with engine.begin() as conn:
        conn.execute(insert(t.branches), branch_rows)
        conn.execute(insert(t.employees), employees)
        conn.execute(insert(t.responsibilities), responsible)
        conn.execute(insert(t.assignments), moves)
        conn.execute(text("ANALYZE"))


def people() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Per branch: its HR person; MOVES moving to the next branch in November and MOVES in
    October; long-standing staff; CHURN hired in October and CHURN in November; CHURN leavers
    in each of the FORMER_MONTHS months before November (October's are November's 减员)."""
    employees: list[dict[str, Any]] = []
    responsible: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    staying = PER_BRANCH - 2 * CHURN
    for number in range(BRANCHES):
        home, onward = number + 1, (number + 1) % BRANCHES + 1
        kinds = (
            ["hr"]
            + ["move_nov"] * MOVES
            + ["move_oct"] * MOVES
            + ["staff"] * (staying - 1 - 2 * MOVES)
            + ["hire_oct"] * CHURN
            + ["hire_nov"] * CHURN
            + [f"leave_{back}" for back in range(1, FORMER_MONTHS + 1) for _ in range(CHURN)]
        )
        for slot, kind in enumerate(kinds):
            person = len(employees) + 1
            hire = date(2015 + person % 10, 1 + person % 12, 1 + person % 28)
            leave, branch = None, home
            if kind == "hire_oct":
                hire = PREVIOUS.day(1 + person % 28)
            elif kind == "hire_nov":
                hire = PERIOD.day(1 + person % 28)
            elif kind.startswith("leave_"):
                leave = PERIOD.shift(-int(kind[6:])).day(1 + person % 28)
            elif kind.startswith("move_"):
                branch = onward
                month = PERIOD if kind == "move_nov" else PREVIOUS
                moves.append({"employee_id": person, "branch_id": home, "start_date": hire})
                moves.append(
                    {"employee_id": person, "branch_id": onward, "start_date": month.day(1 + slot)}
                )
            fen = 500_000 + (person * 7_919) % 2_500_000  # 5,000.00 … 29,999.99 yuan
            employees.append(
                {
                    "id": person,
                    "employee_no": f"BR{number:03d}-{slot:04d}",
                    "name": f"员工{person}",
                    "id_number": None
                    if person % 100 == 7
                    else f"{310_000_000_000_000_000 + person}",
                    "branch_id": branch,
                    "role": Role.HR if kind == "hr" else Role.EMPLOYEE,
                    "hire_date": hire,
                    "leave_date": leave,
                    "contribution_base": None if person % 1000 == 999 else Decimal(fen) / 100,
                }
            )
            if kind == "hr":
                responsible.append({"employee_id": person, "branch_id": home})
    return employees, responsible, moves


# Build, baseline, reset ------------------------------------------------------------------------


RESET_INDEX = "bench_roster_lines_contribution"


def reset(b: Backend) -> None:
    """Forget everything written for PERIOD (batches, lines, records, cards, audit).

    Deleting a record makes the database check that no batch line still refers to it, and
    ``batch_lines.contribution_id`` has no index: 100k deletions would each scan every line
    left (October's). A temporary index, dropped again before the next run, keeps this short
    without changing the schema the build and the baseline write to."""
    batch_ids = select(t.batches.c.id).where(t.batches.c.period == PERIOD).scalar_subquery()
    with b.engine.begin() as conn:
        conn.execute(text(f"CREATE INDEX {RESET_INDEX} ON batch_lines (contribution_id)"))
        conn.execute(delete(t.batch_lines).where(t.batch_lines.c.batch_id.in_(batch_ids)))
        conn.execute(
            delete(t.outbox).where(
                t.outbox.c.subject_kind == "batch", t.outbox.c.subject_id.in_(batch_ids)
            )
        )
        # audit rows stay: the trail is append-only (a trigger refuses DELETE)
        conn.execute(delete(t.contributions).where(t.contributions.c.period == PERIOD))
        conn.execute(delete(t.batches).where(t.batches.c.period == PERIOD))
        conn.execute(text(f"DROP INDEX {RESET_INDEX}"))


def written(b: Backend) -> tuple[Any, ...]:
    """What a run wrote for PERIOD: lines, their sums and flags, records, batch totals."""
    lines, batches, c = t.batch_lines, t.batches, t.contributions
    with b.engine.connect() as conn:
        line_sums = conn.execute(
            select(
                func.count(),
                func.sum(lines.c.base),
                func.sum(lines.c.employer_amount),
                func.sum(lines.c.employee_amount),
                func.count(lines.c.change),
            )
            .select_from(lines.join(batches, batches.c.id == lines.c.batch_id))
            .where(batches.c.period == PERIOD)
        ).one()
        records = conn.execute(
            select(func.count(), func.sum(c.c.employer_amount + c.c.employee_amount)).where(
                c.c.period == PERIOD
            )
        ).one()
        batch_sums = conn.execute(
            select(
                func.count(),
                func.sum(batches.c.headcount),
                func.sum(batches.c.total_employer + batches.c.total_employee),
                func.sum(batches.c.joiners),
            ).where(batches.c.period == PERIOD)
        ).one()
    return tuple(line_sums), tuple(records), tuple(batch_sums)


def run_build(b: Backend) -> float:
    started = time.perf_counter()
    outcomes = build_roster(b.ctx, PERIOD)
    seconds = time.perf_counter() - started
    assert [o.action for o in outcomes] == ["created"] * BRANCHES, outcomes[:3]
    return seconds


def fen_share(fen: Any, rate: Decimal) -> Any:
    """``round_half_up(fen × p/q)`` for the rate ``p/q``, in integers: ``(2·p·fen + q) // 2q``."""
    p, q = rate.as_integer_ratio()
    return (fen * (2 * p) + q) // (2 * q)


def baseline_statements(rates: Rates) -> list[Any]:
    """The same batches, records and lines in three ``INSERT … SELECT`` statements, amounts
    computed from the base (integer fen) with the same rates; every branch has the same due
    day here, so the due date is one value."""
    e, a, c, b, lines = t.employees, t.assignments, t.contributions, t.batches, t.batch_lines
    first, last = PERIOD.first_day(), PERIOD.last_day()
    period = literal(PERIOD, c.c.period.type)
    due = literal(PERIOD.day(DUE_DAY), Date)
    fen = func.coalesce(type_coerce(e.c.contribution_base, BigInteger), 0)
    employer, employee = fen_share(fen, rates.employer), fen_share(fen, rates.employee)
    employed = and_(e.c.hire_date <= last, or_(e.c.leave_date.is_(None), e.c.leave_date >= first))
    joiner = e.c.hire_date >= first
    moved_in = (
        exists()
        .where(a.c.employee_id == e.c.id, a.c.start_date.between(first, last))
        .where(e.c.hire_date < first)
    )
    batches = insert(b).from_select(
        [
            "branch_id",
            "period",
            "version",
            "state",
            "due_date",
            "created_at",
            "headcount",
            "total_base",
            "total_employer",
            "total_employee",
            "joiners",
            "transfers_in",
        ],
        select(
            e.c.branch_id,
            literal(PERIOD, b.c.period.type),
            literal(1),
            literal(BatchState.DRAFT, b.c.state.type),
            due,
            literal(NOW, b.c.created_at.type),
            func.count(),
            func.sum(fen),
            func.sum(employer),
            func.sum(employee),
            func.sum(case((joiner, 1), else_=0)),
            func.sum(case((moved_in, 1), else_=0)),
        )
        .where(employed)
        .group_by(e.c.branch_id),
    )
    records = insert(c).from_select(
        ["employee_id", "period", "base", "employer_amount", "employee_amount", "due_date"],
        select(e.c.id, period, fen, employer, employee, due).where(employed),
    )
    batch_lines = insert(lines).from_select(
        [
            "batch_id",
            "employee_id",
            "contribution_id",
            "base",
            "employer_amount",
            "employee_amount",
            "change",
        ],
        select(
            b.c.id,
            e.c.id,
            c.c.id,
            c.c.base,
            c.c.employer_amount,
            c.c.employee_amount,
            case((joiner, "joiner"), (moved_in, "transfer_in")),
        )
        .select_from(
            c.join(e, e.c.id == c.c.employee_id).join(
                b, and_(b.c.branch_id == e.c.branch_id, b.c.period == PERIOD)
            )
        )
        .where(c.c.period == PERIOD),
    )
    return [batches, records, batch_lines]


def run_baseline(b: Backend) -> float:
    statements = baseline_statements(b.ctx.rules.rates)
    started = time.perf_counter()
    with b.engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)
    return time.perf_counter() - started


def peak_mib(action: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure(b: Backend, profile: bool) -> Figures:
    """Build and baseline in turn, RUNS times (load drift falls on both), then memory runs."""
    figures = Figures()
    expected: tuple[Any, ...] | None = None
    reset(b)
    for run in range(RUNS):
        with b.counter.counting() as counter:
            figures.build.append(run_build(b))
        figures.build_statements, figures.build_calls = Counter(counter.kinds), counter.calls
        built = written(b)
        reset(b)
        with b.counter.counting() as counter:
            figures.baseline.append(run_baseline(b))
        figures.baseline_statements = Counter(counter.kinds)
        figures.baseline_calls = counter.calls
        direct = written(b)
        reset(b)
        # The baseline flags no transfers out or leavers on its batches, and HR cards are the
        # build's alone: compare lines, records and the batch totals they add up to.
        assert built == direct, (built, direct)
        expected = built
        print(
            f"    run {run + 1}: build {figures.build[-1]:6.2f} s, baseline "
            f"{figures.baseline[-1]:6.2f} s",
            flush=True,
        )
    assert expected is not None
    figures.lines = int(expected[0][0])
    figures.build_peak = peak_mib(lambda: run_build(b))
    reset(b)
    figures.baseline_peak = peak_mib(lambda: run_baseline(b))
    reset(b)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run_build(b)
        profiler.disable()
        reset(b)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(35)
        figures.profile = out.getvalue()
    return figures


# Main ------------------------------------------------------------------------------------------


def split(kinds: Counter[tuple[str, bool]]) -> tuple[int, int, str]:
    single = sum(n for (_, many), n in kinds.items() if not many)
    many = sum(n for (_, many), n in kinds.items() if many)
    detail = ", ".join(
        f"{verb}{' many' if many_ else ''} {n}"
        for (verb, many_), n in sorted(kinds.items(), key=lambda item: -item[1])
    )
    return single, many, detail


def main() -> None:
    profile = "--profile" in sys.argv[1:]
    began = time.perf_counter()
    people_count = BRANCHES * (PER_BRANCH + CHURN * FORMER_MONTHS)
    print(
        f"Roster benchmark: build_roster({PERIOD}) for {BRANCHES} branches × {PER_BRANCH:,} "
        f"employed ({BRANCHES * PER_BRANCH:,} lines; {people_count:,} people on file), "
        f"{CHURN} leavers and {CHURN} hires per branch a month, {MOVES} moves per branch a "
        f"month; {PREVIOUS} already built; median of {RUNS}"
    )
    results: dict[str, tuple[Backend, Figures]] = {}
    for open_backend in backends():
        with open_backend() as b:
            print(
                f"  {b.name}: seeded in {b.setup:.1f} s, {PREVIOUS} built in "
                f"{b.previous_build:.1f} s (untimed)",
                flush=True,
            )
            results[b.name] = (b, measure(b, profile))

    print(
        f"\n  {'database':10} {'lines':>8} {'build':>9} {'baseline':>9} {'ratio':>7} "
        f"{'build peak':>11} {'base peak':>10}"
    )
    for name, (_, f) in results.items():
        build, base = statistics.median(f.build), statistics.median(f.baseline)
        print(
            f"  {name:10} {f.lines:>8,} {build:7.2f} s {base:7.2f} s {build / base:7.2f} "
            f"{f.build_peak:7.1f} MiB {f.baseline_peak:6.1f} MiB"
        )
    print(
        f"\n  {'database':10} {'case':9} {'statements':>11} {'single':>7} {'many':>5} "
        f"{'cursor calls':>13}  by kind"
    )
    for name, (_, f) in results.items():
        for label, kinds, calls in (
            ("build", f.build_statements, f.build_calls),
            ("baseline", f.baseline_statements, f.baseline_calls),
        ):
            single, many, detail = split(kinds)
            print(
                f"  {name:10} {label:9} {single + many:>11,} {single:>7,} {many:>5,} "
                f"{calls:>13,}  {detail}"
            )
    print()
    for name, (_, f) in results.items():
        ratio = statistics.median(f.build) / statistics.median(f.baseline)
        verdict = "met" if ratio <= GOAL else "NOT MET"
        label = "" if name == "sqlite" else " (noisy: shared server, figures drift run to run)"
        print(f"  {name}: build / baseline = {ratio:.2f} (goal <= {GOAL:g}: {verdict}){label}")
    for name, (_, f) in results.items():
        if f.profile:
            print(f"\n== cProfile of one build on {name}\n{f.profile}")
    print(f"\n(benchmark took {time.perf_counter() - began:.0f} s)")
    save(results)


def save(results: dict[str, tuple[Backend, Figures]]) -> None:
    """benchmarks/results/roster.json: per database, the build against the baseline."""
    rows = []
    for name, (_, f) in results.items():
        build, base = statistics.median(f.build), statistics.median(f.baseline)
        single, many, _ = split(f.build_statements)
        noisy = "" if name == "sqlite" else "; noisy: shared server, figures drift run to run"
        rows.append(
            Row(
                f"{name}: build_roster, {f.lines:,} lines",
                build,
                base,
                build / base,
                f"<= {GOAL:g} × INSERT … SELECT",
                build / base <= GOAL,
                f"peak {f.build_peak:.1f} MiB (baseline {f.baseline_peak:.1f} MiB); "
                f"{single + many:,} statements ({many} executemany), {f.build_calls:,} cursor "
                f"calls{noisy}",
            )
        )
    write_results(
        "roster",
        f"Monthly roster build, {BRANCHES} branches × {PER_BRANCH:,} employees, 2% churn "
        f"(median of {RUNS}), against the same lines written by INSERT … SELECT",
        "s",
        rows,
    )


if __name__ == "__main__":
    main()
