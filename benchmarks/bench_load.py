"""Load test: employees on Telegram and HR and finance on Slack against a loopback fleet.

The fleet is production's topology on one machine (tests/fleet_support.py): two ``hrbot serve
--no-worker`` web processes and two ``hrbot worker`` processes over one PostgreSQL database of
its own (``hrbot_bench_load``, created on the server of ``HRBOT_BENCH_DATABASE_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``, and dropped afterwards), with fake
Slack and Telegram APIs in this process. The demo organisation gets ``--employees`` more
employees on Telegram (half in Shanghai, whose contributions are late, so their claims are held
and HR alerted; half in Beijing, whose claims go to finance) and ``--staff`` HR and finance
people on Slack answering for both branches (benchmarks/load_org.py).

locust (headless, run here through its ``Environment`` API, no web UI) plays ``--users`` people
for ``--duration`` seconds: the mix is in benchmarks/locustfile.py. Reported per endpoint:
requests, failures, throughput, p50 and p99 of the webhook's answer (the ack), and of the time
until the person's first reply reached the fake API. Afterwards the fleet drains its outbox and
the fleet test's checks run: every notice delivered exactly once, every timer fired once.

Rows: webhook throughput (reported); ack p99 against ``GET /healthz`` p99 under the same load
(the baseline: what the loaded web processes cost before any bot work), goal < 3 s, Slack's
limit before it retries; first-reply p99, goal < 5 s; no failed requests (a request on a
kept-alive connection the server closed just then is resent once, as the platforms redeliver,
and counted apart); the exactly-once checks; no process crashed.
Writes benchmarks/results/load.json. Not part of ``make test``; ``make bench`` runs it.
Run: ``.venv/bin/python benchmarks/bench_load.py [--users 50 --duration 60]``.
"""

from __future__ import annotations

# locust's users run on gevent: the standard library is patched before anything else loads it.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import gevent  # noqa: E402
from locust import User  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.stats import StatsEntry  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from benchmarks import locustfile  # noqa: E402
from benchmarks.load_org import add_people, documents  # noqa: E402
from benchmarks.results_io import Row, ratio, write_results  # noqa: E402
from core.persistence import tables as t  # noqa: E402
from core.persistence.engine import make_engine  # noqa: E402
from tests.fleet_chat import Recorder  # noqa: E402
from tests.fleet_checks import delivered_exactly_once, settled, timers_fired_once  # noqa: E402
from tests.fleet_support import DEFAULT_SERVER, Fleet, fleet  # noqa: E402

DATABASE = "hrbot_bench_load"
ACK_GOAL_MS = 3000.0
ANSWER_GOAL_MS = 5000.0
SETTLE_TIMEOUT = 180.0
FLEET = "2 web + 2 workers, PostgreSQL, loopback"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50, help="people at once (default 50)")
    parser.add_argument("--duration", type=float, default=60, help="seconds (default 60)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started a second")
    parser.add_argument("--employees", type=int, default=400, help="employees added on Telegram")
    parser.add_argument("--staff", type=int, default=10, help="HR and as many finance on Slack")
    parser.add_argument("--worker-interval", type=float, default=1.0, help="seconds a round")
    parser.add_argument(
        "--server",
        default=os.environ.get("HRBOT_BENCH_DATABASE_URL") or DEFAULT_SERVER,
        help="a PostgreSQL URL; the benchmark's own database is created on its server",
    )
    return parser.parse_args()


# The run ---------------------------------------------------------------------------------------


def run_users(context: locustfile.Context, args: argparse.Namespace) -> tuple[Environment, float]:
    """locust, headless: ``--users`` people for ``--duration`` seconds; the environment and the
    seconds it really ran."""
    locustfile.CONTEXT = context
    users: list[type[User]] = [
        locustfile.Employee,
        locustfile.Hr,
        locustfile.Finance,
        locustfile.Probe,
    ]
    env = Environment(user_classes=users, host=context.webs[0], stop_timeout=30)
    runner = env.create_local_runner()
    started, cpu = time.monotonic(), time.process_time()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    gevent.spawn_later(args.duration, runner.quit)
    assert runner.greenlet is not None
    runner.greenlet.join()
    seconds = time.monotonic() - started
    # The users and the fake APIs share this process: a busy one delays what it measures.
    context.generator_cpu = (time.process_time() - cpu) / seconds
    return env, seconds


def endpoints(env: Environment, seconds: float) -> list[dict[str, Any]]:
    rows = []
    for (name, method), entry in sorted(env.stats.entries.items(), key=lambda item: item[0]):
        label = f"answer: {name}" if method == "ANSWER" else name
        rows.append(
            {
                "endpoint": label,
                "requests": entry.num_requests,
                "failures": entry.num_failures,
                "rps": round(entry.num_requests / seconds, 2),
                "p50_ms": float(entry.get_response_time_percentile(0.5) or 0),
                "p99_ms": float(entry.get_response_time_percentile(0.99) or 0),
            }
        )
    return rows


def merged(env: Environment, keep: Any) -> StatsEntry:
    """One entry over all the entries ``keep(name, method)`` selects."""
    total = StatsEntry(env.stats, "merged", "", use_response_times_cache=False)
    for (name, method), entry in env.stats.entries.items():
        if keep(name, method):
            total.extend(entry)
    return total


def after_the_run(crew: Fleet, seen: Recorder, first_alert: int) -> dict[str, Any]:
    """Drain the outbox, run the fleet test's checks, stop the fleet cleanly."""
    db = make_engine(crew.database_url)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not settled(db) and time.monotonic() < deadline:
        time.sleep(0.5)
    outcome: dict[str, Any] = {"settled": settled(db), "crashed": crew.crashed()}
    try:
        outcome["notices"] = delivered_exactly_once(db, seen)
    except AssertionError as error:
        outcome["notices_problem"] = str(error)[:300]
    try:
        outcome["timers"] = sum(timers_fired_once(db, first_alert))
    except AssertionError as error:
        outcome["timers_problem"] = str(error)[:300]
    with db.connect() as connection:
        outcome["claims"] = connection.scalar(select(func.count()).select_from(t.claims))
        outcome["overtaken"] = overtaken_cards(connection)
    db.dispose()
    crew.stop()
    outcome["unclean"] = crew.unclean_exits()
    return outcome


def overtaken_cards(connection: Any) -> int:
    """Card updates that went out as messages of their own: the card had not been sent yet."""
    update, card = t.outbox.alias("update"), t.outbox.alias("card")
    query = (
        select(func.count())
        .select_from(update.join(card, card.c.id == update.c.replaces_id))
        .where(update.c.external_id != card.c.external_id)
    )
    return int(connection.scalar(query) or 0)


def errors(env: Environment) -> list[dict[str, Any]]:
    return [
        {"endpoint": e.name, "error": str(e.error)[:200], "occurrences": e.occurrences}
        for e in env.stats.errors.values()
    ]


def table(rows: list[dict[str, Any]]) -> None:
    width = max(len(r["endpoint"]) for r in [{"endpoint": "endpoint"}, *rows])
    heads = f"{'requests':>8} {'fail':>5} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
    print(f"{'endpoint':<{width}} {heads}")
    for r in rows:
        print(
            f"{r['endpoint']:<{width}} {r['requests']:>8} {r['failures']:>5} {r['rps']:>7.2f} "
            f"{r['p50_ms']:>7.0f} {r['p99_ms']:>7.0f}"
        )


def summary(env: Environment, seconds: float, users: int, out: dict[str, Any]) -> list[Row]:
    """The benchmark's table: throughput, the latencies against their goals, the checks."""
    hooks = merged(env, lambda name, method: method == "POST" and name != locustfile.RESENT)
    answers = merged(env, lambda name, method: method == "ANSWER")
    probe = merged(env, lambda name, method: name.startswith("GET /healthz"))
    ack = float(hooks.get_response_time_percentile(0.99) or 0)
    base = float(probe.get_response_time_percentile(0.99) or 0)
    answer = float(answers.get_response_time_percentile(0.99) or 0)
    resent = merged(env, lambda name, method: name == locustfile.RESENT).num_requests
    failures = env.stats.total.num_failures - resent
    broken = [*out["crashed"], *out["unclean"]]
    drained = "outbox drained" if out["settled"] else "outbox not drained"
    return [
        Row(
            "webhook requests per second",
            hooks.num_requests / seconds,
            goal="reported",
            unit="req/s",
            note=f"{users} users, {seconds:.0f} s, {out['claims']} claims opened",
        ),
        Row(
            "webhook ack p99 (all webhooks)",
            ack,
            base,
            ratio(ack, base),
            goal=f"< {ACK_GOAL_MS:.0f} ms",
            met=ack < ACK_GOAL_MS,
            note="baseline: GET /healthz p99 under the same load",
        ),
        Row(
            "first reply p99 (time the person waits)",
            answer,
            goal=f"< {ANSWER_GOAL_MS:.0f} ms",
            met=answer < ANSWER_GOAL_MS,
            note=f"p50 {float(answers.get_response_time_percentile(0.5) or 0):.0f} ms",
        ),
        Row(
            "failed requests and unanswered turns",
            failures,
            goal="0",
            met=failures == 0,
            unit="requests",
            note=f"besides {resent} resent on a new connection (see {locustfile.RESENT!r})",
        ),
        Row(
            "notices delivered exactly once (after the run)",
            out.get("notices", 0),
            goal="each notice once",
            met="notices" in out and out["settled"],
            unit="notices",
            note=out.get("notices_problem", drained),
        ),
        Row(
            "escalation steps and reminders fired once",
            out.get("timers", 0),
            goal="one audit row each",
            met="timers" in out,
            unit="timers",
            note=out.get("timers_problem", ""),
        ),
        Row(
            "processes crashed or not stopped cleanly",
            len(broken),
            goal="0",
            met=not broken,
            unit="processes",
            note=", ".join(broken),
        ),
    ]


def report(env: Environment, seconds: float, users: int, out: dict[str, Any]) -> None:
    per_endpoint = endpoints(env, seconds)
    table(per_endpoint)
    for error in errors(env):
        print(f"  error ×{error['occurrences']} on {error['endpoint']}: {error['error']}")
    rows = summary(env, seconds, users, out)
    extra = {
        "endpoints": per_endpoint,
        "errors": errors(env),
        "card_updates_sent_as_new_messages": out["overtaken"],
        "fleet": FLEET,
        "duration_s": round(seconds, 1),
        "users": users,
        "load_generator_cpu_share": round(locustfile.context().generator_cpu, 2),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
    }
    title = "Load: Telegram employees, Slack HR and finance, 2 web + 2 workers"
    write_results("load", title, "ms", rows, extra)
    print(
        f"(the load generator, users and fake APIs, used {extra['load_generator_cpu_share']:.0%}"
        " of a CPU)"
    )
    for row in rows:
        verdict = {True: "met", False: "NOT MET", None: ""}[row.met]
        print(f"{row.case:<50} {row.figure:>10.1f}  {row.goal:<20} {verdict}  {row.note}")


def main() -> None:
    args = options()
    with tempfile.TemporaryDirectory(prefix="hrbot-load-") as folder:
        made: dict[str, Any] = {}

        def prepare(crew: Fleet) -> None:
            made.update(add_people(crew, args.employees, args.staff))
            made["seen"] = Recorder(crew.slack, crew.telegram)  # before any process sends

        print(f"starting the fleet ({FLEET}) on database {DATABASE} …", flush=True)
        try:
            with fleet(
                args.server,
                Path(folder),
                database=DATABASE,
                worker_interval=args.worker_interval,
                prepare=prepare,
            ) as crew:
                files = documents()
                for file_id, (_, content) in files.items():
                    crew.telegram.add_file(file_id, content)
                context = locustfile.Context(
                    crew.webs, made["seen"], made["employees"], made["hr"], made["finance"], files
                )
                print(f"{args.users} users for {args.duration:.0f} s …", flush=True)
                env, seconds = run_users(context, args)
                outcome = after_the_run(crew, made["seen"], made["first_alert"])
        except OperationalError as error:  # no server there: say so in one line
            sys.exit(f"bench_load: PostgreSQL not reachable ({str(error).splitlines()[0]})")
    report(env, seconds, args.users, outcome)


if __name__ == "__main__":
    main()
