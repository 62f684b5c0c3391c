"""Many workers, dead workers, stopped workers: every step fires once, every notice goes out once.

The process tests run real OS processes (``tests/worker_process.py``), each with its own engine,
``Database`` and ``Context`` on real time, against one database: SQLite (a file) always, and
PostgreSQL when ``HRBOT_TEST_DATABASE_URL`` is set. The clock-driven scenario runs in-process with
a ``ManualClock`` and ``Worker.tick``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from adapters.recording import RecordingChannel
from bot.bootstrap import Services
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import Platform
from core.domain.contributions import DelayReason
from core.domain.escalation import AlertState, StepKind, StepState, SubjectKind
from core.domain.notifications import ChannelKind, DeliveryState
from core.persistence import tables as t
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services.alerts import acknowledge_alert
from core.services.claims import submit_claim
from core.services.context import Context
from tests.conftest import PG_URL
from tests.factories import Org, add_records, make_org, open_complete_claim

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2.0


# Running worker processes ---------------------------------------------------------------------


def database_url(engine: Engine) -> str:
    if engine.dialect.name == "postgresql":
        assert PG_URL is not None
        return PG_URL
    return engine.url.render_as_string(hide_password=False)


def spawn(role: str, **args: Any) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.worker_process", json.dumps({"role": role, **args})]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def read_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        assert process.stderr is not None
        pytest.fail(f"worker process ended early:\n{process.stderr.read()}")
    return line.strip()


def finish(process: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    """Wait for a worker: exit code 0, no lock errors, its JSON summary."""
    out, err = process.communicate(timeout=timeout)
    assert "database is locked" not in err
    assert process.returncode == 0, err
    summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return summary


@pytest.fixture
def killer() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test started; any still running at the end are killed (by their own id)."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


# Seeding many rows at once (Core executemany) --------------------------------------------------


def seed_alerts(ctx: Context, engine: Engine, org: Org, count: int, levels: int = 2) -> list[int]:
    """``count`` open alerts, each with ``levels`` escalation steps already due (real time).

    Within an alert the levels are a second apart, and alert after alert, so a claim of a few
    rows often splits an alert's levels between two workers: the later one must wait its turn.
    """
    with ctx.uow() as uow:
        version = uow.alerts.policy_version(ctx.rules.policy)
        uow.commit()
    start = datetime.now(UTC) - timedelta(hours=1, seconds=levels * count)
    alert_rows = [
        {
            "subject_kind": SubjectKind.EMPLOYEE_STATUS,
            "subject_id": 10_000 + number,
            "branch_id": org.branch.id,
            "state": AlertState.OPEN,
            "level": 0,
            "policy_name": ctx.rules.policy.name,
            "policy_version": version,
            "opened_at": start,
        }
        for number in range(count)
    ]
    with engine.begin() as conn:
        statement = insert(t.alerts).returning(t.alerts.c.id, sort_by_parameter_order=True)
        alert_ids = list(conn.execute(statement, alert_rows).scalars())
        conn.execute(
            insert(t.escalation_steps),
            [
                {
                    "alert_id": alert_id,
                    "level": level,
                    "kind": StepKind.ESCALATE,
                    "state": StepState.PENDING,
                    "due_at": start + timedelta(seconds=levels * number + level - 1),
                }
                for number, alert_id in enumerate(alert_ids)
                for level in range(1, levels + 1)
            ],
        )
    return alert_ids


def seed_notices(engine: Engine, org: Org, count: int) -> list[int]:
    now = datetime.now(UTC)
    rows = [
        {
            "idempotency_key": f"seed:{number}:{org.employee.id}:chat",
            "recipient_id": org.employee.id,
            "channel": ChannelKind.CHAT,
            "key": "claim.paid",
            "params": {"claim": f"C{number:06d}", "amount": "100.00", "reference": "R"},
            "buttons": [],
            "created_at": now,
            "state": DeliveryState.PENDING,
            "attempts": 0,
        }
        for number in range(count)
    ]
    with engine.begin() as conn:
        statement = insert(t.outbox).returning(t.outbox.c.id, sort_by_parameter_order=True)
        return list(conn.execute(statement, rows).scalars())


# What happened, read back ---------------------------------------------------------------------


def escalations_by_alert(engine: Engine) -> dict[int, list[tuple[str | None, str | None]]]:
    query = (
        select(t.audit_log.c.subject_id, t.audit_log.c.from_state, t.audit_log.c.to_state)
        .where(t.audit_log.c.action == "alert.escalate")
        .order_by(t.audit_log.c.id)
    )
    found: dict[int, list[tuple[str | None, str | None]]] = defaultdict(list)
    with engine.connect() as conn:
        for alert_id, before, after in conn.execute(query):
            found[alert_id].append((before, after))
    return found


def step_states(engine: Engine) -> Counter[str]:
    query = select(t.escalation_steps.c.state, func.count()).group_by(t.escalation_steps.c.state)
    with engine.connect() as conn:
        return Counter({str(state): int(n) for state, n in conn.execute(query)})


def steps_notified(engine: Engine) -> Counter[int]:
    """Outbox rows per escalation step (from the idempotency key ``alert:A:step:S:…``)."""
    with engine.connect() as conn:
        keys = conn.execute(
            select(t.outbox.c.idempotency_key).where(t.outbox.c.key.like("alert.%"))
        ).scalars()
        return Counter(int(key.split(":")[3]) for key in keys)


def report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(f"\n{text}")


# 1. Exactly once with many processes ----------------------------------------------------------


@pytest.mark.slow
def test_every_step_fires_exactly_once_with_several_worker_processes(
    engine: Engine,
    ctx: Context,
    tmp_path: Path,
    killer: list[subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    on_postgres = engine.dialect.name == "postgresql"
    processes, steps = (4, 1_000) if on_postgres else (2, 200)
    org = make_org(ctx)
    alert_ids = seed_alerts(ctx, engine, org, steps // 2)
    go = tmp_path / "go"
    url = database_url(engine)
    for number in range(processes):
        killer.append(
            spawn(
                "sweep",
                url=url,
                owner=f"sweeper-{number}",
                go=str(go),
                limit=20,
                documents=str(tmp_path / "docs"),
            )
        )
    for process in killer:
        assert read_line(process) == "ready"
    began = time.monotonic()
    go.touch()
    summaries = [finish(process, timeout=90) for process in killer]
    took = time.monotonic() - began

    fired = [s["fired"] for s in summaries]
    assert sum(fired) == steps, fired
    assert sum(s["skipped"] for s in summaries) == 0
    if on_postgres:  # SKIP LOCKED: nobody waits; SQLite's one writer may starve the other
        assert sum(1 for n in fired if n) >= 2, f"the work was not shared: {fired}"
    assert step_states(engine) == Counter({"fired": steps})
    # Each alert escalated twice, level 1 before level 2, whoever fired which.
    by_alert = escalations_by_alert(engine)
    assert set(by_alert) == set(alert_ids)
    assert {tuple(moves) for moves in by_alert.values()} == {(("0", "1"), ("1", "2"))}
    # One notice per step (one recipient each: the HR, then the HR manager).
    notified = steps_notified(engine)
    assert len(notified) == steps and set(notified.values()) == {1}
    with engine.connect() as conn:
        leased = conn.scalar(
            select(func.count())
            .select_from(t.escalation_steps)
            .where(t.escalation_steps.c.lease_owner.is_not(None))
        )
    assert leased == 0
    report(
        capsys,
        f"[{engine.dialect.name}] {processes} processes, {steps} steps due at once: "
        f"fired {fired} in {took:.2f} s, "
        f"{sum(s['idle'] for s in summaries)} idle rounds waiting for an earlier level",
    )


# 2. A worker killed while it holds leases -----------------------------------------------------


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def leases_of(engine: Engine, table: Any, owner: str) -> dict[int, datetime]:
    query = select(table.c.id, table.c.lease_until).where(table.c.lease_owner == owner)
    with engine.connect() as conn:
        return {row_id: until.replace(tzinfo=UTC) for row_id, until in conn.execute(query)}


@pytest.mark.slow
def test_a_killed_workers_leases_are_taken_over_and_each_notice_goes_out_once(
    engine: Engine,
    ctx: Context,
    tmp_path: Path,
    killer: list[subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = make_org(ctx)
    alert_ids = seed_alerts(ctx, engine, org, 10)
    seeded = seed_notices(engine, org, 30)
    log, go, url = tmp_path / "sent.jsonl", tmp_path / "go", database_url(engine)
    common = {"url": url, "log": str(log), "lease": LEASE_SECONDS, "documents": str(tmp_path)}

    rescuer = spawn("rescuer", owner="rescuer", go=str(go), **common)
    killer.append(rescuer)
    assert read_line(rescuer) == "ready"
    victim = spawn("victim", owner="victim", block_at=6, **common)
    killer.append(victim)
    assert read_line(victim) == "ready"
    assert json.loads(read_line(victim)) == {"steps_leased": 20}
    in_window = json.loads(read_line(victim))  # sent its 6th notice; the record is not committed
    os.kill(victim.pid, signal.SIGKILL)
    killed_at = time.time()
    assert victim.wait(timeout=10) == -signal.SIGKILL

    held_notices = leases_of(engine, t.outbox, "victim")
    held_steps = leases_of(engine, t.escalation_steps, "victim")
    assert len(held_notices) == 30 - 5 and len(held_steps) == 20
    assert in_window["in_window"] in held_notices
    go.touch()
    summary = finish(rescuer)

    sends = read_log(log)
    by_victim = [s["nid"] for s in sends if s["who"] == "victim"]
    assert by_victim == seeded[:6]
    counts = Counter(s["nid"] for s in sends)
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.outbox.c.id, t.outbox.c.state, t.outbox.c.attempts, t.outbox.c.external_id)
        ).all()
    assert len(rows) == 30 + 20  # the seeded notices, and one per escalation step fired
    assert {(state, attempts) for _, state, attempts, _ in rows} == {(DeliveryState.SENT, 1)}
    assert set(counts) == {row_id for row_id, *_ in rows}
    # The only duplicate: the notice sent right before the kill and not yet recorded.
    duplicates = {nid for nid, n in counts.items() if n > 1}
    assert duplicates == {in_window["in_window"]} and counts[in_window["in_window"]] == 2
    external = {row_id: external_id for row_id, _, _, external_id in rows}
    assert [external[nid] for nid in seeded[:5]] == [f"victim:{nid}" for nid in seeded[:5]]
    assert external[in_window["in_window"]] == f"rescuer:{in_window['in_window']}"

    # Nothing the victim held was touched before its lease ran out.
    first_send = {}
    for s in sends:
        if s["who"] == "rescuer":
            first_send.setdefault(s["nid"], s["t"])
    for nid, until in held_notices.items():
        assert first_send[nid] >= until.timestamp(), nid
    with engine.connect() as conn:
        fired_at = dict(
            conn.execute(select(t.escalation_steps.c.id, t.escalation_steps.c.fired_at)).all()
        )
    for step_id, until in held_steps.items():
        assert fired_at[step_id].replace(tzinfo=UTC) >= until
    assert step_states(engine) == Counter({"fired": 20})
    assert {tuple(m) for m in escalations_by_alert(engine).values()} == {(("0", "1"), ("1", "2"))}
    assert set(escalations_by_alert(engine)) == set(alert_ids)

    takeover = min(first_send[nid] for nid in held_notices) - killed_at
    lease_left = max(held_notices.values()).timestamp() - killed_at
    report(
        capsys,
        f"[{engine.dialect.name}] SIGKILL with {len(held_notices)} notices and {len(held_steps)} "
        f"steps leased (lease {LEASE_SECONDS:.1f} s): taken over {takeover:.2f} s after the kill "
        f"(lease had {lease_left:.2f} s left); 1 duplicate (notice {in_window['in_window']}, "
        f"sent {1000 * (killed_at - in_window['t']):.0f} ms before the kill, uncommitted). "
        f"Duplicate window (send returned -> record committed), {summary['sent']} sends: "
        f"median {summary['window_median_ms']:.2f} ms, max {summary['window_max_ms']:.2f} ms",
    )


@pytest.mark.slow
def test_a_worker_killed_at_any_moment_sends_at_most_its_message_in_flight_twice(
    engine: Engine,
    ctx: Context,
    tmp_path: Path,
    killer: list[subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = make_org(ctx)
    seeded = seed_notices(engine, org, 150)
    log, go = tmp_path / "sent.jsonl", tmp_path / "go"
    common = {
        "url": database_url(engine),
        "log": str(log),
        "lease": LEASE_SECONDS,
        "documents": str(tmp_path),
    }
    rescuer = spawn("rescuer", owner="rescuer", go=str(go), **common)
    killer.append(rescuer)
    assert read_line(rescuer) == "ready"
    victim = spawn("victim", owner="victim", pause=0.004, **common)
    killer.append(victim)
    assert read_line(victim) == "ready"
    assert json.loads(read_line(victim)) == {"steps_leased": 0}
    deadline = time.monotonic() + 30
    while not log.exists() or log.read_bytes().count(b"\n") < 5:
        assert time.monotonic() < deadline and victim.poll() is None
        time.sleep(0.001)
    time.sleep(random.uniform(0, 0.15))  # then at a moment unrelated to any send
    assert victim.poll() is None, "the victim finished before the kill"
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait(timeout=10) == -signal.SIGKILL
    go.touch()
    finish(rescuer)

    sends = read_log(log)
    by_victim = [s["nid"] for s in sends if s["who"] == "victim"]
    last = by_victim[-1]
    counts = Counter(s["nid"] for s in sends)
    assert set(counts) == set(seeded)
    duplicates = {nid for nid, n in counts.items() if n > 1}
    assert duplicates <= {last}, "only the message in flight at the kill may go out twice"
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.outbox.c.id, t.outbox.c.state, t.outbox.c.attempts, t.outbox.c.external_id)
        ).all()
    assert {(state, attempts) for _, state, attempts, _ in rows} == {(DeliveryState.SENT, 1)}
    external = {row_id: external_id for row_id, _, _, external_id in rows}
    assert [external[nid] for nid in by_victim[:-1]] == [f"victim:{n}" for n in by_victim[:-1]]
    assert (last in duplicates) == (external[last] == f"rescuer:{last}")
    outcome = (
        "sent but not recorded: sent twice"
        if duplicates
        else "already recorded (or not yet sent): no duplicate"
    )
    report(
        capsys,
        f"[{engine.dialect.name}] SIGKILL after {len(by_victim)} sends: "
        f"the message in flight was {outcome}",
    )


# 3. The clock-driven scenario of the issue ----------------------------------------------------

HALF_HOUR = timedelta(minutes=30)


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


def hold_claim(ctx: Context, org: Org) -> int:
    """张三's claim is held at the clock's now (August and September unpaid); its alert id."""
    add_records(
        ctx,
        org.employee,
        ["2026-08", "2026-09"],
        unpaid=["2026-08", "2026-09"],
        delay_reason=DelayReason.FINANCE_APPROVAL,
    )
    claim_id = open_complete_claim(ctx, org.employee)
    submit_claim(ctx, claim_id, org.employee.id)
    with ctx.uow() as uow:
        (alert,) = uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, claim_id)
        return alert.id


def alerts_sent(ctx: Context) -> list[tuple[str, str, datetime | None]]:
    """(message key, recipient number, when it was sent) of every alert notice, in order."""
    with ctx.uow() as uow:
        return [
            (n.key, uow.directory.employee(n.recipient_id).employee_no, n.sent_at)
            for n in uow.outbox.all()
            if n.key.startswith("alert.level")
        ]


class Fleet:
    """One worker at a time, ticking every half hour of the manual clock while it runs."""

    def __init__(self, ctx: Context, db: Database, clock: ManualClock) -> None:
        self.ctx, self.db, self.clock = ctx, db, clock
        self.chat = RecordingChannel()
        self.router = ChannelRouter(chats={Platform.RECORDING: self.chat})
        self.worker: Worker | None = None

    def start(self) -> None:
        self.worker = Worker(Services(Settings(), self.db, self.ctx), self.router)

    def stop(self) -> None:
        self.worker = None

    def run_until(self, instant: datetime) -> None:
        assert self.worker is not None
        while self.clock.now() < instant:
            self.clock.advance(HALF_HOUR)
            self.worker.tick()

    def idle_until(self, instant: datetime) -> None:
        self.clock.set(instant)


@pytest.mark.parametrize("downtime", [False, True], ids=["always-up", "down-23h-to-30h"])
def test_hr_at_t_manager_at_24h_director_at_48h_and_downtime_catches_up_once(
    ctx: Context, db: Database, clock: ManualClock, org: Org, downtime: bool
) -> None:
    assert org.hr_manager is not None and org.hr_director is not None
    hr, manager, director = (
        org.hr.employee_no,
        org.hr_manager.employee_no,
        org.hr_director.employee_no,
    )
    T = clock.now()
    hold_claim(ctx, org)
    fleet = Fleet(ctx, db, clock)
    fleet.start()
    fleet.worker.tick()  # type: ignore[union-attr]
    assert alerts_sent(ctx) == [("alert.level1", hr, T)]

    if downtime:
        fleet.run_until(T + timedelta(hours=23))
        fleet.stop()
        fleet.idle_until(T + timedelta(hours=30))
        fleet.start()  # a new worker, a new owner
        fleet.worker.tick()  # type: ignore[union-attr]
        manager_at = T + timedelta(hours=30)
    else:
        fleet.run_until(T + timedelta(hours=24) - HALF_HOUR)
        assert [key for key, *_ in alerts_sent(ctx)] == ["alert.level1"]
        fleet.run_until(T + timedelta(hours=24))
        manager_at = T + timedelta(hours=24)
    assert alerts_sent(ctx) == [("alert.level1", hr, T), ("alert.level2", manager, manager_at)]

    fleet.run_until(T + timedelta(hours=48) - HALF_HOUR)
    assert len(alerts_sent(ctx)) == 2, "exactly one level-2 alert, however long the downtime"
    fleet.run_until(T + timedelta(hours=72))
    assert alerts_sent(ctx) == [
        ("alert.level1", hr, T),
        ("alert.level2", manager, manager_at),
        ("alert.level3", director, T + timedelta(hours=48)),
    ]
    assert [m.key for m in fleet.chat.to(manager)] == ["alert.level2"]
    assert [m.key for m in fleet.chat.to(director)] == ["alert.level3"]


def test_acknowledging_at_47h_means_no_level_three(
    ctx: Context, db: Database, clock: ManualClock, org: Org
) -> None:
    assert org.hr_director is not None
    T = clock.now()
    alert_id = hold_claim(ctx, org)
    fleet = Fleet(ctx, db, clock)
    fleet.start()
    fleet.run_until(T + timedelta(hours=47))
    assert [key for key, *_ in alerts_sent(ctx)] == ["alert.level1", "alert.level2"]

    fix_date = date(2026, 10, 16)  # HR expects the fix in two days
    acknowledge_alert(ctx, alert_id, org.hr.id, DelayReason.FINANCE_APPROVAL, fix_date)
    fleet.run_until(T + timedelta(hours=100))  # past the 48 h mark, before the fix date ends
    assert [key for key, *_ in alerts_sent(ctx)] == ["alert.level1", "alert.level2"]
    assert fleet.chat.to(org.hr_director.employee_no) == []
    with ctx.uow() as uow:
        alert = uow.alerts.get(alert_id)
        assert (alert.state, alert.level) == (AlertState.ACKNOWLEDGED, 2)
        assert [s.state for s in uow.alerts.steps(alert_id) if s.level == 3] == [
            StepState.CANCELLED,
            StepState.PENDING,  # the re-opening if the fix date passes: 2026-10-16 ends
        ]
