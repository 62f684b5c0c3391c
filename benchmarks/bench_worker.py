"""Benchmark: the durable worker's sweep cost against table size, and the dispatcher's throughput.

(a) Sweep cost must grow with the number of *due* rows, not with the number of rows: one sweep
    fires 1,000 due escalation steps among 10,000 and among 1,000,000 timer rows (the rest fired,
    cancelled or due later, spread over alerts of three steps each, as in real use); the table
    gives the claim (the only query that scans the timer table) and the whole sweep, median of
    ``RUNS`` taken in turn on the two sizes (each in its own database), and the 1M/10k ratio
    (goal <= 1.5).
(b) Dispatcher throughput to a local no-op channel, notifications per second for one worker,
    against a bare loop on one held connection running the same SELECT/UPDATE statements in the
    same transactions, without the ORM, rendering or routing (goal >= 0.5 of that loop).

SQLite always (files in a temporary directory); PostgreSQL too when ``HRBOT_BENCH_DATABASE_URL``
or ``HRBOT_TEST_DATABASE_URL`` is set, in schemas of its own (``hrbot_bench_*``, dropped at the
end), where (b) prints figures only: fsync-bound commits are never a ratio's base. Rows go in
with SQLAlchemy Core ``insert()`` executemany (the million-row tables: a 90,000-row block, then
copied by ``INSERT … SELECT``). Times are reported, never asserted. Run:
``.venv/bin/python benchmarks/bench_worker.py`` (``make bench``); about 2 minutes.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, and_, delete, insert, or_, select, text, update  # noqa: E402

from adapters.documents import FilesystemDocumentStore  # noqa: E402
from benchmarks.results_io import Row, ratio, write_results  # noqa: E402
from bot.i18n import CatalogRenderer  # noqa: E402
from bot.routing import ChannelRouter  # noqa: E402
from core.chat import Address, OutgoingMessage, Platform  # noqa: E402
from core.domain.directory import Branch, Employee, Role  # noqa: E402
from core.domain.escalation import AlertState, StepKind, StepState, SubjectKind  # noqa: E402
from core.domain.notifications import ChannelKind, DeliveryState  # noqa: E402
from core.persistence import tables as t  # noqa: E402
from core.persistence.engine import make_engine  # noqa: E402
from core.persistence.migrate import upgrade  # noqa: E402
from core.persistence.uow import Database  # noqa: E402
from core.ports import ManualClock  # noqa: E402
from core.services.alerts import sweep_escalations  # noqa: E402
from core.services.context import Context, Rules  # noqa: E402
from core.services.delivery import deliver_due  # noqa: E402

SIZES = (10_000, 1_000_000)
DUE = 1_000
RUNS = 3
NOTICES = 1_000
DISPATCH_RUNS = 5  # short runs, interleaved with the bare loop's: load drift hits both
SWEEP_GOAL = 1.5
DISPATCH_GOAL = 0.5
CHUNK = 30_000  # alerts per executemany (90,000 steps)
NOW = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
PG_SCHEMA = "hrbot_bench"
PG_NOTICES = 300  # PostgreSQL commits are round trips: fewer notices keep the run short


@dataclass
class Backend:
    name: str
    engine: Engine
    ctx: Context
    people: dict[Role, int]
    branch_id: int


# Databases -------------------------------------------------------------------------------------


@contextmanager
def sqlite_backend(label: str) -> Iterator[Backend]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench-{label}.db")
        upgrade(engine)
        try:
            yield backend("sqlite", engine, Path(folder))
        finally:
            engine.dispose()


@contextmanager
def postgres_backend(url: str, label: str) -> Iterator[Backend]:
    """Tables in a schema of our own, so a test run on the same database cannot drop them."""
    schema = f"{PG_SCHEMA}_{label}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        with tempfile.TemporaryDirectory() as folder:
            yield backend("postgresql", engine, Path(folder))
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def backend(name: str, engine: Engine, folder: Path) -> Backend:
    db = Database(engine)
    ctx = Context(
        uow=db.uow,
        clock=ManualClock(NOW),
        documents=FilesystemDocumentStore(folder / "documents"),
        rules=Rules(),
    )
    people: dict[Role, int] = {}
    with ctx.uow() as uow:
        branch = Branch(code="SH01", name="上海分公司", city="上海", due_day=15)
        uow.directory.add(branch)
        uow.flush()
        for number, role in enumerate((Role.EMPLOYEE, Role.HR, Role.HR_MANAGER, Role.HR_DIRECTOR)):
            person = Employee(
                employee_no=f"B{number:04d}",
                name=f"员工{number}",
                branch_id=branch.id,
                hire_date=date(2020, 1, 1),
                role=role,
                email=f"b{number}@example.test",
            )
            uow.directory.add(person)
            uow.flush()
            if role is not Role.EMPLOYEE:
                uow.directory.assign(person, branch)
            people[role] = person.id
        uow.commit()
        return Backend(name, engine, ctx, people, branch.id)


def backends() -> list[tuple[Callable[[str], Any], int]]:
    """How to open each database (by label), and how many notices its dispatcher run sends."""
    found: list[tuple[Callable[[str], Any], int]] = [(sqlite_backend, NOTICES)]
    url = os.environ.get("HRBOT_BENCH_DATABASE_URL") or os.environ.get("HRBOT_TEST_DATABASE_URL")
    if url:
        found.append((lambda label: postgres_backend(url, label), PG_NOTICES))
    return found


# (a) Sweep cost --------------------------------------------------------------------------------


def seed_timers(b: Backend, total: int) -> list[int]:
    """``total`` step rows: ``DUE`` alerts with level 1 due now (2 and 3 later), the rest in
    alerts of three steps: nine in ten resolved (fired, cancelled), one in ten open (level 1
    fired, 2 and 3 pending for later). Returns the ids of the due steps.

    The first ``CHUNK`` alerts go in by Core executemany; beyond that the background block is
    copied by the database itself (``INSERT … SELECT`` with shifted ids), which keeps the
    million-row setup within seconds instead of a minute of Python binding parameters."""
    with b.ctx.uow() as uow:
        version = uow.alerts.policy_version(b.ctx.rules.policy)
        uow.commit()
    alerts = total // 3
    written = min(alerts, DUE + CHUNK)
    due_ids = []
    for first in range(0, written, CHUNK):
        alert_rows, step_rows = [], []
        for number in range(first, min(first + CHUNK, written)):
            alert_id, due = number + 1, number < DUE
            resolved = not due and number % 10 != 0
            alert_rows.append(
                {
                    "id": alert_id,
                    "subject_kind": SubjectKind.EMPLOYEE_STATUS,
                    "subject_id": alert_id,
                    "branch_id": b.branch_id,
                    "state": AlertState.RESOLVED if resolved else AlertState.OPEN,
                    "level": 0 if due else (3 if resolved else 1),
                    "policy_name": b.ctx.rules.policy.name,
                    "policy_version": version,
                    "opened_at": NOW - timedelta(days=1 if due else 30 + number % 300),
                }
            )
            opened = alert_rows[-1]["opened_at"]
            for level in (1, 2, 3):
                step_id = 3 * number + level
                if due:
                    state = StepState.PENDING
                    due_at = NOW - timedelta(seconds=DUE - number) if level == 1 else None
                    due_at = due_at or NOW + timedelta(days=level - 1)
                    if level == 1:
                        due_ids.append(step_id)
                elif resolved:
                    state = StepState.FIRED if level == 1 else StepState.CANCELLED
                    due_at = opened + timedelta(days=level - 1)
                else:
                    state = StepState.FIRED if level == 1 else StepState.PENDING
                    due_at = opened if level == 1 else NOW + timedelta(days=level, seconds=number)
                step_rows.append(
                    {
                        "id": step_id,
                        "alert_id": alert_id,
                        "level": level,
                        "kind": StepKind.ESCALATE,
                        "state": state,
                        "due_at": due_at,
                        "fired_at": due_at if state is StepState.FIRED else None,
                    }
                )
        with b.engine.begin() as conn:
            conn.execute(insert(t.alerts), alert_rows)
            conn.execute(insert(t.escalation_steps), step_rows)
    replicate(b, first=DUE + 1, block=written - DUE, alerts=alerts)
    with b.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return due_ids


def replicate(b: Backend, first: int, block: int, alerts: int) -> None:
    """Copy alerts ``first … first+block-1`` and their steps, ids shifted, until ``alerts``."""
    a, s = t.alerts, t.escalation_steps
    made = first + block - 1
    while made < alerts:
        count = min(block, alerts - made)
        shift = made - first + 1
        last = first + count - 1
        alert_copy = select(
            a.c.id + shift,
            a.c.subject_kind,
            a.c.subject_id + shift,
            a.c.branch_id,
            a.c.state,
            a.c.level,
            a.c.policy_name,
            a.c.policy_version,
            a.c.opened_at,
        ).where(a.c.id.between(first, last))
        step_copy = select(
            s.c.id + 3 * shift,
            s.c.alert_id + shift,
            s.c.level,
            s.c.kind,
            s.c.state,
            s.c.due_at,
            s.c.fired_at,
        ).where(s.c.alert_id.between(first, last))
        alert_columns = [
            "id",
            "subject_kind",
            "subject_id",
            "branch_id",
            "state",
            "level",
            "policy_name",
            "policy_version",
            "opened_at",
        ]
        step_columns = ["id", "alert_id", "level", "kind", "state", "due_at", "fired_at"]
        with b.engine.begin() as conn:
            conn.execute(insert(a).from_select(alert_columns, alert_copy))
            conn.execute(insert(s).from_select(step_columns, step_copy))
        made += count


def reset(b: Backend, due_ids: list[int]) -> None:
    """Make the due steps due again, and forget what firing them wrote."""
    with b.engine.begin() as conn:
        steps = t.escalation_steps
        conn.execute(
            update(steps)
            .where(steps.c.id.in_(due_ids))
            .values(state=StepState.PENDING, fired_at=None, lease_owner=None, lease_until=None)
        )
        conn.execute(update(t.alerts).where(t.alerts.c.id <= DUE).values(level=0))
        conn.execute(delete(t.outbox))
        # audit rows stay: the trail is append-only (a trigger refuses DELETE)


def time_sweep(b: Backend, due_ids: list[int]) -> tuple[float, float]:
    """(claim seconds, whole sweep seconds) for one sweep of the ``DUE`` steps."""
    ctx = b.ctx
    with ctx.uow() as uow:  # the claim alone, rolled back
        started = time.perf_counter()
        claimed = uow.alerts.claim_due_steps(ctx.now(), "probe", ctx.rules.lease, DUE)
        claim = time.perf_counter() - started
    assert len(claimed) == DUE, len(claimed)
    started = time.perf_counter()
    result = sweep_escalations(ctx, "bench", limit=DUE)
    sweep = time.perf_counter() - started
    assert result.fired == DUE, result
    reset(b, due_ids)
    return claim, sweep


def sweep_rows(small: Backend, large: Backend) -> list[tuple[int, float, float, float]]:
    """Seed both sizes, then sweep them in turn (small, large, small, …) so that any drift in
    the machine's load falls on both alike; medians of ``RUNS``."""
    seeded = []
    for b, total in zip((small, large), SIZES, strict=True):
        started = time.perf_counter()
        seeded.append((b, total, seed_timers(b, total), time.perf_counter() - started))
    timings: dict[int, list[tuple[float, float]]] = {total: [] for total in SIZES}
    for _ in range(RUNS):
        for b, total, due_ids, _ in seeded:
            timings[total].append(time_sweep(b, due_ids))
    rows = []
    for b, total, _, setup in seeded:
        claim = statistics.median(c for c, _ in timings[total])
        sweep = statistics.median(s for _, s in timings[total])
        rows.append((total, setup, claim, sweep))
        print(
            f"  {b.name:10} {total:>10,} {DUE:>6,} {setup:9.1f} s {1000 * claim:9.2f} ms "
            f"{sweep:8.2f} s {1000 * sweep / DUE:8.2f} ms",
            flush=True,
        )
    return rows


# (b) Dispatcher throughput ---------------------------------------------------------------------


class NoOpChannel:
    def __init__(self) -> None:
        self.count = 0

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        self.count += 1
        return f"noop-{self.count}"


def seed_notices(b: Backend, count: int) -> None:
    recipient = b.people[Role.EMPLOYEE]
    rows = [
        {
            "idempotency_key": f"bench:{number}:{recipient}:chat",
            "recipient_id": recipient,
            "channel": ChannelKind.CHAT,
            "key": "claim.paid",
            "params": {"claim": f"C{number:06d}", "amount": "8650.00", "reference": "BANK-1"},
            "buttons": [],
            "created_at": NOW,
            "state": DeliveryState.PENDING,
            "attempts": 0,
        }
        for number in range(count)
    ]
    with b.engine.begin() as conn:
        conn.execute(delete(t.outbox))  # audit rows stay: the trail is append-only
        conn.execute(insert(t.outbox), rows)


def dispatcher_rate(b: Backend, count: int) -> float:
    seed_notices(b, count)
    channel = NoOpChannel()
    router = ChannelRouter(chats={Platform.RECORDING: channel})
    renderer = CatalogRenderer("zh-CN", ZoneInfo("Asia/Shanghai"))
    started = time.perf_counter()
    while channel.count < count:
        report = deliver_due(b.ctx, router, renderer, "bench", limit=100)
        assert report.sent, report
    return count / (time.perf_counter() - started)


def bare_rate(b: Backend, count: int) -> float:
    """The dispatcher's statements for each notice, on one held connection: claim a hundred;
    then per notice, hold + read the notice + read the recipient + look for two siblings,
    commit; hold again + read the notice + mark it sent, commit."""
    seed_notices(b, count)
    o, e, now, lease = t.outbox, t.employees, NOW, Rules().lease
    free = or_(o.c.lease_until.is_(None), o.c.lease_until < now)
    due = and_(
        o.c.state == DeliveryState.PENDING,
        or_(o.c.next_attempt_at.is_(None), o.c.next_attempt_at <= now),
    )
    pick = select(o.c.id).where(due, free).order_by(o.c.id).limit(100)
    if b.engine.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    claim = (
        update(o)
        .where(o.c.id.in_(pick.scalar_subquery()), free)
        .values(lease_owner="bare", lease_until=now + lease)
        .returning(o.c.id)
    )
    sent = 0
    started = time.perf_counter()
    with b.engine.connect() as conn:
        while sent < count:
            with conn.begin():
                ids = sorted(conn.execute(claim).scalars())
            for row_id in ids:
                hold = (
                    update(o)
                    .where(o.c.id == row_id, o.c.lease_owner == "bare", o.c.state == "pending")
                    .values(lease_until=now + lease)
                )
                with conn.begin():
                    conn.execute(hold)
                    notice = conn.execute(select(o).where(o.c.id == row_id)).one()
                    conn.execute(select(e).where(e.c.id == notice.recipient_id)).one()
                    stem = notice.idempotency_key.rsplit(":", 1)[0]
                    for kind in ("email", "sms"):
                        conn.execute(select(o.c.id).where(o.c.idempotency_key == f"{stem}:{kind}"))
                with conn.begin():
                    conn.execute(hold)
                    conn.execute(select(o).where(o.c.id == row_id)).one()
                    conn.execute(
                        update(o)
                        .where(o.c.id == row_id)
                        .values(
                            state=DeliveryState.SENT,
                            sent_at=now,
                            external_id=f"bare-{row_id}",
                            attempts=o.c.attempts + 1,
                            lease_owner=None,
                            lease_until=None,
                        )
                    )
                sent += 1
    return count / (time.perf_counter() - started)


# Main ------------------------------------------------------------------------------------------


def main() -> None:
    began = time.perf_counter()
    print(
        f"Worker benchmark: (a) one sweep of {DUE:,} due steps among {SIZES[0]:,} and "
        f"{SIZES[1]:,} timer rows, median of {RUNS}; (b) notices to a no-op channel, median of "
        f"{DISPATCH_RUNS}"
    )
    sweeps: dict[str, list[tuple[int, float, float, float]]] = {}
    dispatch: dict[str, tuple[float, float, int]] = {}
    print("\n(a) sweep cost")
    print(
        f"  {'database':10} {'rows':>10} {'due':>6} {'setup':>11} {'claim':>12} "
        f"{'sweep':>10} {'per step':>11}"
    )
    for open_backend, notices in backends():
        with open_backend("small") as small, open_backend("large") as large:
            sweeps[small.name] = sweep_rows(small, large)
        with open_backend("dispatch") as b:
            runs = [
                (dispatcher_rate(b, notices), bare_rate(b, notices)) for _ in range(DISPATCH_RUNS)
            ]
            ours = statistics.median(o for o, _ in runs)
            bare = statistics.median(r for _, r in runs)
            dispatch[b.name] = (ours, bare, notices)
    for name, rows in sweeps.items():
        (_, _, claim_small, sweep_small), (_, _, claim_big, sweep_big) = rows
        ratio = sweep_big / sweep_small
        verdict = "met" if ratio <= SWEEP_GOAL else "NOT MET"
        print(
            f"  {name}: sweep 1M/10k = {ratio:.2f} (goal <= {SWEEP_GOAL}: {verdict}); "
            f"claim alone 1M/10k = {claim_big / claim_small:.2f}"
        )
    if "postgresql" in sweeps:
        print(
            "  (PostgreSQL commits once per step: its sweeps are fsync-bound and vary from run to "
            "run; the claim is the part that reads the big table)"
        )

    print("\n(b) dispatcher throughput, one worker, no-op channel")
    print(f"  {'database':10} {'notices':>8} {'dispatcher':>14} {'bare loop':>14} {'ratio':>7}")
    for name, (ours, bare, notices) in dispatch.items():
        noisy = name == "postgresql"
        ratio = "    n/a" if noisy else f"{ours / bare:7.2f}"
        print(f"  {name:10} {notices:>8,} {ours:10,.0f} n/s {bare:10,.0f} n/s {ratio}")
    if "sqlite" in dispatch:
        ours, bare, _ = dispatch["sqlite"]
        verdict = "met" if ours / bare >= DISPATCH_GOAL else "NOT MET"
        print(
            f"  sqlite: dispatcher / bare loop = {ours / bare:.2f} (goal >= {DISPATCH_GOAL}: "
            f"{verdict})"
        )
    if "postgresql" in dispatch:
        print(
            "  postgresql: figures only; its commits are fsync-bound round trips, never a "
            "ratio's base (PERFORMANCE.md)"
        )
    print(f"\n(benchmark took {time.perf_counter() - began:.0f} s)")
    save(sweeps, dispatch)


def save(
    sweeps: dict[str, list[tuple[int, float, float, float]]],
    dispatch: dict[str, tuple[float, float, int]],
) -> None:
    """benchmarks/results/worker.json: per database, the sweep at 1M rows against the sweep
    at 10k (its baseline), the claim alone likewise, and the dispatcher against the bare loop
    (PostgreSQL: figures only, as printed above)."""
    rows = []
    small, large = (f"{size:,}" for size in SIZES)
    for name, (
        (_, _, claim_small, sweep_small),
        (_, setup, claim_big, sweep_big),
    ) in sweeps.items():
        share = ratio(sweep_big, sweep_small)
        rows += [
            Row(
                f"{name}: one sweep of {DUE:,} due steps among {large} rows",
                1000 * sweep_big,
                1000 * sweep_small,
                share,
                f"<= {SWEEP_GOAL} × the same sweep among {small} rows",
                share <= SWEEP_GOAL,
                f"{1000 * sweep_big / DUE:.2f} ms per step; {large} rows seeded in {setup:.0f} s",
            ),
            Row(
                f"{name}: the claim alone among {large} rows",
                1000 * claim_big,
                1000 * claim_small,
                ratio(claim_big, claim_small),
                note=f"baseline: the claim among {small} rows",
            ),
        ]
    for name, (ours, bare, notices) in dispatch.items():
        noisy = name == "postgresql"
        against = None if noisy else ratio(ours, bare)
        rows.append(
            Row(
                f"{name}: dispatcher, {notices:,} notices to a no-op channel",
                ours,
                bare,
                against,
                "" if noisy else f">= {DISPATCH_GOAL} × the bare loop",
                None if against is None else against >= DISPATCH_GOAL,
                "figures only: fsync-bound round trips are never a ratio's base"
                if noisy
                else "baseline: the same statements on one held connection, no ORM",
                unit="n/s",
            )
        )
    write_results(
        "worker",
        f"Durable worker: sweep cost against table size (median of {RUNS}) and dispatcher "
        f"throughput (median of {DISPATCH_RUNS})",
        "ms",
        rows,
    )


if __name__ == "__main__":
    main()
