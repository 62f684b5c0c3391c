"""A worker in its own OS process, for tests/integration/test_workers_concurrency.py.

``python -m tests.worker_process '<json>'`` builds its own engine, ``Database`` and ``Context``
(real time: separate processes cannot share a ManualClock) and plays one role:

- ``sweep``: waits for the go-file, then sweeps escalation steps until none is pending;
- ``victim``: leases every due step and notice and delivers them; with ``block_at`` it blocks inside
  that send (the message went out, its record is not committed) and says so on stdout, waiting
  to be SIGKILLed; with ``pause`` each send first waits up to that long, to be killed anywhere;
- ``rescuer``: waits for the go-file, then runs ``Worker.tick`` until no step or notice is pending;
  with ``crash_at`` (a point of ``tests/crash_hooks.py``, e.g. ``outbox:after_claim``) it stops
  at that point instead, says ``{"crashed_at": …}`` on stdout and waits to be SIGKILLed.

- ``forkserver``: imports everything once, then forks a fresh process for each role asked of it
  on stdin (tests/integration/test_crash_points.py starts hundreds of workers this way).

Every send is appended to a shared log file (one JSON line, one ``write``), so the parent sees each
message that left a process, even one killed right after. The process prints ``ready`` once it is
connected, and a JSON summary on its last line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from adapters.documents import FilesystemDocumentStore
from bot.bootstrap import Services
from bot.i18n import CatalogRenderer
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import Address, OutgoingMessage, Platform
from core.domain.directory import Employee
from core.domain.escalation import StepState
from core.domain.notifications import Notification
from core.persistence import tables as t
from core.persistence.engine import make_engine
from core.persistence.uow import Database
from core.ports import SystemClock
from core.services.alerts import sweep_escalations
from core.services.context import Context, Rules
from core.services.delivery import deliver_due
from tests import crash_hooks


class TaggingRenderer:
    """The real renderer, plus the outbox id in the message so the log can name it."""

    def __init__(self, inner: CatalogRenderer) -> None:
        self.inner = inner

    def render(self, notification: Notification, recipient: Employee) -> OutgoingMessage:
        message = self.inner.render(notification, recipient)
        return dataclasses.replace(message, params={**message.params, "_nid": notification.id})


class LoggingChannel:
    """A chat channel whose every send is one appended line: ``{"nid", "who", "t"}``."""

    def __init__(
        self,
        path: str,
        who: str,
        block_at: int | None = None,
        pause: float = 0.0,
        after_send: Callable[[], None] | None = None,
    ) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.who = who
        self.block_at = block_at
        self.pause = pause
        self.after_send = after_send
        self.sends: list[float] = []

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        nid = int(str(message.params["_nid"]))
        if self.pause:
            time.sleep(random.uniform(0, self.pause))  # the far side's latency, before it has it
        now = time.time()
        os.write(self.fd, (json.dumps({"nid": nid, "who": self.who, "t": now}) + "\n").encode())
        self.sends.append(time.time())
        if self.block_at is not None and len(self.sends) == self.block_at:
            print(json.dumps({"in_window": nid, "t": now}), flush=True)
            time.sleep(3600)  # sent, not yet recorded: the parent kills us here
        if self.after_send is not None:
            self.after_send()
        return f"{self.who}:{nid}"


def build(args: dict[str, Any]) -> tuple[Database, Context]:
    """This process's own engine (its own pool), database and context, on real time."""
    db = Database(make_engine(args["url"]))
    # Quiet hours off: on real time they would make the outcome depend on the hour of the run.
    rules = Rules(lease=timedelta(seconds=args.get("lease", 120)), quiet_hours=False)
    store = FilesystemDocumentStore(Path(args["documents"]))
    return db, Context(uow=db.uow, clock=SystemClock(), documents=store, rules=rules)


def pending_steps(ctx: Context) -> int:
    with ctx.uow() as uow:
        query = (
            select(func.count())
            .select_from(t.escalation_steps)
            .where(t.escalation_steps.c.state == StepState.PENDING)
        )
        return int(uow.session.scalar(query) or 0)


def outbox_depth(ctx: Context) -> int:
    with ctx.uow() as uow:
        return uow.outbox.depth()


def wait_for(go: str, deadline: float) -> None:
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("no go signal")
        time.sleep(0.005)


def sweep(args: dict[str, Any]) -> dict[str, Any]:
    _, ctx = build(args)
    print("ready", flush=True)
    deadline = time.monotonic() + args.get("timeout", 60)
    wait_for(args["go"], deadline)
    fired = skipped = rounds = idle = 0
    while time.monotonic() < deadline:
        result = sweep_escalations(ctx, args["owner"], limit=args.get("limit", 20))
        rounds += 1
        fired, skipped = fired + result.fired, skipped + result.skipped
        if result.fired or result.skipped:
            continue
        if pending_steps(ctx) == 0:
            break
        idle += 1  # an earlier level is being fired elsewhere, or leased: look again soon
        time.sleep(0.002)
    return {"fired": fired, "skipped": skipped, "rounds": rounds, "idle": idle}


def victim(args: dict[str, Any]) -> dict[str, Any]:
    _, ctx = build(args)
    print("ready", flush=True)
    owner = args["owner"]
    with ctx.uow() as uow:
        steps = uow.alerts.claim_due_steps(ctx.now(), owner, ctx.rules.lease, limit=10_000)
        uow.commit()
    print(json.dumps({"steps_leased": len(steps)}), flush=True)
    channel = LoggingChannel(
        args["log"], owner, block_at=args.get("block_at"), pause=args.get("pause", 0.0)
    )
    router = ChannelRouter(chats={Platform.RECORDING: channel})
    renderer = TaggingRenderer(CatalogRenderer("zh-CN", ZoneInfo("Asia/Shanghai")))
    deliver_due(ctx, router, renderer, owner, limit=10_000)
    return {"error": "the victim was not killed"}


def halt(point: str, detail: dict[str, Any]) -> None:
    """A crash point reached: say so, then wait for the parent's SIGKILL."""
    print(json.dumps({"crashed_at": point, "t": time.time(), **detail}), flush=True)
    time.sleep(3600)


def rescuer(args: dict[str, Any]) -> dict[str, Any]:
    db, ctx = build(args)
    commits: list[float] = []
    event.listen(Session, "after_commit", lambda _session: commits.append(time.time()))
    after_send = crash_hooks.install(args["crash_at"], halt) if args.get("crash_at") else None
    channel = LoggingChannel(args["log"], args["owner"], after_send=after_send)
    router = ChannelRouter(chats={Platform.RECORDING: channel})
    services = Services(Settings(), db, ctx)
    worker = Worker(services, router, interval=0.05, owner=args["owner"], plan_rosters=False)
    worker.renderer = TaggingRenderer(worker.renderer)  # type: ignore[assignment]
    print("ready", flush=True)
    deadline = time.monotonic() + args.get("timeout", 60)
    wait_for(args["go"], deadline)
    started, ticks = time.time(), 0
    while time.monotonic() < deadline:
        worker.tick()
        ticks += 1
        if pending_steps(ctx) == 0 and outbox_depth(ctx) == 0:
            break
        time.sleep(0.05)
    # The duplicate window of each message: from the send returning to its record committed.
    windows = [min(c for c in commits if c >= sent) - sent for sent in channel.sends]
    return {
        "started": started,
        "ticks": ticks,
        "sent": len(channel.sends),
        "window_median_ms": 1000 * statistics.median(windows) if windows else None,
        "window_max_ms": 1000 * max(windows) if windows else None,
    }


def forkserver(args: dict[str, Any]) -> dict[str, Any]:
    """Start workers fast, for hundreds of kills: each stdin line is a role's arguments, run in
    a new process forked from this one (imports done, no engine or connection yet), with its
    stdout in ``args["out"]`` and its stderr beside it; the child's pid is the answer.
    ``{"wait": pid}`` answers with that child's exit code once it has ended."""
    print("ready", flush=True)
    forked = 0
    for line in sys.stdin:
        request = json.loads(line)
        if "wait" in request:
            _, status = os.waitpid(request["wait"], 0)
            code = os.waitstatus_to_exitcode(status)
            print(json.dumps({"pid": request["wait"], "code": code}), flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            run_forked(request)
        forked += 1
        print(json.dumps({"pid": pid}), flush=True)
    return {"forked": forked}


def run_forked(args: dict[str, Any]) -> None:
    """In the child: its own output files, no stdin, the role, then exit (never return)."""
    code = 1
    try:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(os.open(args["out"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 1)
        os.dup2(os.open(args["out"] + ".err", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 2)
        random.seed()  # not the parent's sequence
        print(json.dumps(ROLES[args["role"]](args)), flush=True)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


ROLES = {"sweep": sweep, "victim": victim, "rescuer": rescuer, "forkserver": forkserver}


def main() -> None:
    args = json.loads(sys.argv[1])
    print(json.dumps(ROLES[args["role"]](args)), flush=True)


if __name__ == "__main__":
    main()
