"""A worker SIGKILLed at each point of an escalation step and of an outbox delivery loses nothing.

For each crash point of ``tests/crash_hooks.py`` (before the claim, after the claim, after the
send before its commit, after the commit) a worker process (``tests/worker_process.py``, the real
``Worker.tick``) is stopped exactly there and SIGKILLed; then a worker is started again and runs
until nothing is pending. Workers are new OS processes forked from a warm one (the fork server),
each with its own engine and connections, so that 400 kills take minutes rather than an hour.
Every message that left either process is in a shared send log, so the test counts, per item
(an escalation step or a notice), how often it reached its recipient:

- delivered at least once: every item, after every kill (100 %);
- duplicates: none, except a notice killed after its send and before its record was committed,
  which the next worker sends again: at most one per kill there (README, "Crash points").

The default suite kills once per point on each backend (SQLite, and PostgreSQL when
``HRBOT_TEST_DATABASE_URL`` is set, as the other worker-process tests do); the soak variant
(``make test-soak``) kills 50 times per point on PostgreSQL and prints the table.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from core.domain.escalation import StepState
from core.domain.notifications import ChannelKind, DeliveryState
from core.persistence import tables as t
from core.services.context import Context
from tests.conftest import PG_URL
from tests.crash_hooks import POINTS
from tests.factories import Org, make_org
from tests.integration.test_workers_concurrency import ROOT, database_url, read_log, seed_alerts

LEASE_SECONDS = 1.0
"""The lease a killed worker leaves behind: the next worker waits this long for its rows."""
ITEMS = 3
"""Steps or notices due in each run: the kill falls on the first, the others stay leased."""
SOAK_KILLS = 50
SOAK_AHEAD = 1
"""Runs whose workers are forked ahead of the one being worked (their start-up overlaps it)."""


@dataclass
class Outcome:
    """One kill and the restart after it, counted per item."""

    point: str
    items: int
    delivered: int
    duplicates: int


@dataclass
class Child:
    """A worker forked by the fork server: its pid, and the file its stdout goes to."""

    pid: int
    out: Path
    _read: int = 0

    def read_line(self, timeout: float = 60) -> str:
        """The next line it printed, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.out.read_text() if self.out.exists() else ""
            end = text.find("\n", self._read)
            if end >= 0:
                line, self._read = text[self._read : end], end + 1
                return line
            if time.monotonic() > deadline:
                pytest.fail(f"worker {self.pid} said nothing more:\n{self.errors()}")
            time.sleep(0.002)

    def errors(self) -> str:
        err = Path(f"{self.out}.err")
        return err.read_text() if err.exists() else ""


class ForkServer:
    """``tests/worker_process.py``'s fork server: each worker is a new OS process, forked from
    one that has done the imports (seconds on a busy machine), so a kill costs milliseconds."""

    def __init__(self) -> None:
        role = json.dumps({"role": "forkserver"})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.worker_process", role],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.alive: set[int] = set()
        assert self._ask(None) == "ready"

    def start(self, **args: Any) -> Child:
        pid = int(json.loads(self._ask(args))["pid"])
        self.alive.add(pid)
        return Child(pid, Path(args["out"]))

    def wait(self, child: Child) -> int:
        """The child's exit code (negative: the signal that ended it)."""
        code = int(json.loads(self._ask({"wait": child.pid}))["code"])
        self.alive.discard(child.pid)
        return code

    def close(self) -> None:
        for pid in sorted(self.alive):  # ours, still running: SIGKILL by their own id
            os.kill(pid, signal.SIGKILL)
            self._ask({"wait": pid})
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)

    def _ask(self, request: dict[str, Any] | None) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        if request is not None:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the fork server ended"
        return line.strip()


@pytest.fixture(scope="module")
def forks() -> Iterator[ForkServer]:
    server = ForkServer()
    yield server
    server.close()


@dataclass
class Pair:
    """The worker to be killed at ``point`` and the one started after the kill, both forked
    ahead (each waits for its go-file)."""

    point: str
    victim: Child
    rescuer: Child
    go_victim: Path
    go_rescuer: Path
    log: Path


def start_pair(forks: ForkServer, url: str, folder: Path, index: int, point: str) -> Pair:
    log = folder / f"sent-{index}.jsonl"
    go_victim, go_rescuer = folder / f"go-victim-{index}", folder / f"go-rescuer-{index}"
    common: dict[str, Any] = {
        "role": "rescuer",
        "url": url,
        "log": str(log),
        "lease": LEASE_SECONDS,
        "documents": str(folder / "documents"),
        "timeout": 120,
    }
    victim = forks.start(
        owner=f"victim-{index}",
        go=str(go_victim),
        crash_at=point,
        out=str(folder / f"victim-{index}.out"),
        **common,
    )
    rescuer = forks.start(
        owner=f"restarted-{index}",
        go=str(go_rescuer),
        out=str(folder / f"restarted-{index}.out"),
        **common,
    )
    return Pair(point, victim, rescuer, go_victim, go_rescuer, log)


def crash_and_restart(
    forks: ForkServer, engine: Engine, ctx: Context, org: Org, pair: Pair, run: int
) -> Outcome:
    """Seed the items, let the victim run into its crash point, SIGKILL it, restart, count."""
    assert pair.victim.read_line() == "ready", pair.victim.errors()
    assert pair.rescuer.read_line() == "ready", pair.rescuer.errors()
    subject = pair.point.split(":")[0]
    if subject == "outbox":
        items = {nid: [nid] for nid in seed_notices(engine, org, run)}
    else:
        items = {alert_id: [] for alert_id in seed_alerts(ctx, engine, org, ITEMS, levels=1)}
    pair.go_victim.touch()
    crashed = pair.victim.read_line()
    assert crashed.startswith('{"crashed_at": "' + pair.point), pair.victim.errors()
    os.kill(pair.victim.pid, signal.SIGKILL)
    assert forks.wait(pair.victim) == -signal.SIGKILL
    pair.go_rescuer.touch()
    summary = pair.rescuer.read_line(timeout=120)
    assert forks.wait(pair.rescuer) == 0, pair.rescuer.errors()
    assert "database is locked" not in pair.rescuer.errors()
    assert json.loads(summary)["ticks"] >= 1
    sends = Counter(send["nid"] for send in read_log(pair.log))
    if subject == "outbox":
        return count(pair.point, items, sends)
    items, fired_again = step_notices(engine, items)
    return count(pair.point, items, sends, fired_again)


def seed_notices(engine: Engine, org: Org, run: int) -> list[int]:
    """``ITEMS`` notices due now for 张三 (by the recording chat channel), keys unique per run."""
    now = datetime.now(UTC)
    rows = [
        {
            "idempotency_key": f"crash:{run}:{number}:{org.employee.id}:chat",
            "recipient_id": org.employee.id,
            "channel": ChannelKind.CHAT,
            "key": "claim.paid",
            "params": {"claim": f"C{number:06d}", "amount": "100.00", "reference": "R"},
            "buttons": [],
            "created_at": now,
            "state": DeliveryState.PENDING,
            "attempts": 0,
        }
        for number in range(ITEMS)
    ]
    with engine.begin() as conn:
        statement = insert(t.outbox).returning(t.outbox.c.id, sort_by_parameter_order=True)
        return list(conn.execute(statement, rows).scalars())


def step_notices(engine: Engine, items: dict[int, list[int]]) -> tuple[dict[int, list[int]], int]:
    """Each alert's step notices (from their idempotency keys ``alert:A:step:S:…``), and how
    many times beyond once each alert escalated (a step fired twice would show here)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.outbox.c.id, t.outbox.c.idempotency_key).where(
                t.outbox.c.idempotency_key.like("alert:%:step:%")
            )
        ).all()
        fired = Counter(
            conn.execute(
                select(t.audit_log.c.subject_id).where(
                    t.audit_log.c.action == "alert.escalate",
                    t.audit_log.c.subject_id.in_(list(items)),
                )
            ).scalars()
        )
        steps = Counter(
            conn.execute(
                select(t.escalation_steps.c.alert_id).where(
                    t.escalation_steps.c.alert_id.in_(list(items)),
                    t.escalation_steps.c.state == StepState.FIRED,
                )
            ).scalars()
        )
    for nid, key in rows:
        alert_id = int(key.split(":")[1])
        if alert_id in items:
            items[alert_id].append(nid)
    for alert_id in items:
        if steps[alert_id] != 1:
            items[alert_id] = []  # not fired (or fired twice): not delivered as it should be
    return items, sum(n - 1 for n in fired.values() if n > 1)


def count(
    point: str, items: dict[int, list[int]], sends: Counter[int], fired_again: int = 0
) -> Outcome:
    """Delivered: every notice of the item went out; duplicates: sends beyond one per notice,
    and escalations beyond one per step."""
    delivered = sum(1 for nids in items.values() if nids and all(sends[n] for n in nids))
    duplicates = sum(max(sends[n] - 1, 0) for nids in items.values() for n in nids)
    return Outcome(point, len(items), delivered, duplicates + fired_again)


def assert_nothing_left(engine: Engine) -> None:
    """Every notice sent and released; every step fired or skipped: nothing waits on a lease."""
    with engine.connect() as conn:
        outbox = conn.execute(
            select(t.outbox.c.state, t.outbox.c.lease_owner, func.count()).group_by(
                t.outbox.c.state, t.outbox.c.lease_owner
            )
        ).all()
        pending_steps = conn.scalar(
            select(func.count())
            .select_from(t.escalation_steps)
            .where(t.escalation_steps.c.state == StepState.PENDING)
        )
    assert {(state, owner) for state, owner, _ in outbox} <= {(DeliveryState.SENT, None)}
    assert pending_steps == 0


def allowed_duplicates(point: str) -> int:
    """Only a notice sent and not yet recorded can go out again; a step's notices are queued in
    its own transaction, so a step killed there is fired again from scratch."""
    return 1 if point == "outbox:after_send_before_commit" else 0


# The default suite: each point once per backend ------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
def test_a_worker_killed_at_the_point_loses_nothing_and_duplicates_at_most_the_send_window(
    engine: Engine,
    ctx: Context,
    tmp_path: Path,
    forks: ForkServer,
    point: str,
) -> None:
    org = make_org(ctx)
    pair = start_pair(forks, database_url(engine), tmp_path, 0, point)
    outcome = crash_and_restart(forks, engine, ctx, org, pair, run=0)
    assert outcome.delivered == outcome.items == ITEMS, outcome
    assert outcome.duplicates == allowed_duplicates(point), outcome
    assert_nothing_left(engine)


# The soak variant: 50 kills per point on PostgreSQL --------------------------------------------


@pytest.mark.soak
@pytest.mark.skipif(
    not PG_URL, reason="the crash soak runs on PostgreSQL (HRBOT_TEST_DATABASE_URL)"
)
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_fifty_kills_per_point_on_postgresql(
    engine: Engine,
    ctx: Context,
    tmp_path: Path,
    forks: ForkServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = make_org(ctx)
    url = database_url(engine)
    plan = [point for point in POINTS for _ in range(SOAK_KILLS)]
    outcomes: list[Outcome] = []
    began = time.monotonic()
    upcoming: list[Pair] = []
    for index in range(len(plan)):
        while len(upcoming) <= SOAK_AHEAD and index + len(upcoming) < len(plan):
            ahead = index + len(upcoming)
            upcoming.append(start_pair(forks, url, tmp_path, ahead, plan[ahead]))
        outcomes.append(crash_and_restart(forks, engine, ctx, org, upcoming.pop(0), index))
    took = time.monotonic() - began
    assert_nothing_left(engine)

    table = soak_table(outcomes)
    with capsys.disabled():
        print(f"\nCrash points on PostgreSQL, {len(outcomes)} kills in {took:.0f} s:\n{table}")
    for point in POINTS:
        mine = [o for o in outcomes if o.point == point]
        assert len(mine) == SOAK_KILLS
        assert all(o.delivered == o.items for o in mine), point
        assert all(o.duplicates <= allowed_duplicates(point) for o in mine), point


def soak_table(outcomes: list[Outcome]) -> str:
    lines = [
        "| point | runs (kills) | items | delivered at least once | duplicates | max per kill |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for point in POINTS:
        mine = [o for o in outcomes if o.point == point]
        items = sum(o.items for o in mine)
        delivered = sum(o.delivered for o in mine)
        duplicates = sum(o.duplicates for o in mine)
        worst = max((o.duplicates for o in mine), default=0)
        share = 100 * delivered / items if items else 0.0
        lines.append(
            f"| {point} | {len(mine)} | {items} | {share:.0f} % | {duplicates} | {worst} |"
        )
    return "\n".join(lines)
