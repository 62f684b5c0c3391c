"""Benchmark: signed Slack ``message.im`` events per second through ``POST /slack/events``.

The app runs under uvicorn (1 worker, uvloop + httptools) in its own process, with a fake Slack
Web API on a loopback port (in this process) and a SQLite database in a temporary directory.
The load comes from a third process: ``CONCURRENCY`` connections send ``EVENTS`` signed events,
each from a different user and with a new ``event_id``, and time each request up to the ack.

Rows, alternated, ``RUNS`` times each (after a warm-up run), medians reported:
- verify only: a route of the same app that only verifies the signature (the baseline);
- ``/slack/events``: bolt verifies the signature, the guard checks the installation, the inbox
  records the event id (a database insert through the bridge), the ack goes out; the
  conversation answers each "/help" after it, sharing the server's CPU as in production;
- ``/slack/events``, bot quiet: the same in a second server whose conversation answers nothing
  at once, so the row shows what the adapter's path to the ack costs by itself.
Goals: events/s >= 0.5 of the baseline; p99 time-to-ack < 300 ms. The answers of one run are
drained before the next starts. Bounded: nothing runs longer than its timeouts and every
request goes to 127.0.0.1. Run: ``.venv/bin/python benchmarks/bench_slack.py`` (``make bench``).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_io import Row, write_results  # noqa: E402

EVENTS = 2_000
CONCURRENCY = 32
RUNS = 3
RATIO_GOAL = 0.5
P99_GOAL_MS = 300.0
SECRET = "bench-signing-secret"  # noqa: S105 (a throw-away secret for a loopback benchmark)
DRAIN_TIMEOUT = 180.0


# The server process ------------------------------------------------------------------------


def serve(port: int, quiet: bool) -> None:
    """The app: ``mount_slack`` on a bare FastAPI app, plus the verify-only baseline route.

    ``quiet``: the conversation answers nothing, instantly, so only the path to the ack (and the
    listener's own bookkeeping) is left: what the adapter costs, without what the bot does.
    """
    import uvicorn
    from fastapi import FastAPI
    from slack_sdk.signature import SignatureVerifier
    from starlette.requests import Request
    from starlette.responses import Response

    from bot.bootstrap import build
    from bot.conversation import Conversation
    from bot.platforms.slack import mount_slack

    services = build()
    app = FastAPI()
    conversation = Conversation(services.ctx, services.settings.default_locale)
    if quiet:
        conversation.on_message = lambda message, employee_id=None: []  # type: ignore[method-assign]
    mount_slack(app, services, conversation)
    verifier = SignatureVerifier(SECRET)

    async def verify_only(request: Request) -> Response:
        body = await request.body()
        stamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature", "")
        ok = stamp.isdigit() and verifier.is_valid(body, stamp, signature)
        return Response(status_code=200 if ok else 401)

    app.add_route("/bench/verify", verify_only, methods=["POST"])
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning")


# The load process ----------------------------------------------------------------------------


def load(url: str, events: int, concurrency: int, run: int) -> None:
    """Send ``events`` signed events with ``concurrency`` connections; print one JSON line."""
    print(json.dumps(asyncio.run(_load(url, events, concurrency, run))))


async def _load(url: str, events: int, concurrency: int, run: int) -> dict[str, Any]:
    import aiohttp
    from slack_sdk.signature import SignatureVerifier

    signer = SignatureVerifier(SECRET)
    queue = iter(range(events))
    latencies: list[float] = []
    failures = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        for n in queue:
            body = json.dumps(_event(run, n)).encode()
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signer.generate_signature(timestamp=stamp, body=body) or "",
            }
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                failures += response.status != 200
            latencies.append(time.perf_counter() - started)

    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rate": events / elapsed,
        "p50": 1000 * latencies[len(latencies) // 2],
        "p99": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "failures": failures,
    }


def _event(run: int, n: int) -> dict[str, Any]:
    from tests.fakes_slack import APP, TEAM

    user = f"UB{run:02d}{n:06d}"
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": APP,
        "type": "event_callback",
        "event_id": f"EvB{run:02d}{n:08d}",
        "event_time": int(time.time()),
        "event": {
            "type": "message",
            "channel": f"D{user}",
            "user": user,
            "text": "/help",
            "ts": f"{time.time():.6f}",
            "channel_type": "im",
        },
    }


# The orchestra -------------------------------------------------------------------------------

VERIFY, EVENTS_PATH = "/bench/verify", "/slack/events"
ROWS = (
    ("verify only (baseline)", False, VERIFY),
    ("/slack/events", False, EVENTS_PATH),
    ("/slack/events, bot quiet", True, EVENTS_PATH),
)


def main() -> None:
    from core.persistence.engine import make_engine
    from core.persistence.migrate import upgrade
    from tests.fakes_slack import TOKEN, fake_slack_server

    results: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in ROWS}
    with tempfile.TemporaryDirectory() as folder, fake_slack_server() as fake:
        for quiet in (False, True):
            database = f"sqlite:///{Path(folder) / f'bench-{quiet}.db'}"
            engine = make_engine(database)
            upgrade(engine)
            engine.dispose()
            env = os.environ | {
                "HRBOT_DATABASE_URL": database,
                "HRBOT_DOCUMENTS_DIR": str(Path(folder) / "documents"),
                "HRBOT_SLACK_BOT_TOKEN": TOKEN,
                "HRBOT_SLACK_SIGNING_SECRET": SECRET,
                "HRBOT_SLACK_API_URL": fake.url,
            }
            rows = [(label, path) for label, q, path in ROWS if q == quiet]
            with _server(env, quiet) as port:
                for label, runs in _measure(port, fake, rows, quiet).items():
                    results[label] = runs
    _report(results)


@contextmanager
def _server(env: dict[str, str], quiet: bool) -> Iterator[int]:
    port = _free_port()
    args = ["--serve", str(port)] + (["quiet"] if quiet else [])
    server = subprocess.Popen([sys.executable, __file__, *args], env=env, cwd=ROOT)
    try:
        _wait_for(port)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _measure(
    port: int, fake: Any, rows: list[tuple[str, str]], quiet: bool
) -> dict[str, list[dict[str, Any]]]:
    """Each row ``RUNS`` times, alternating; run 0 warms up (imports, auth.test, connections)."""
    results: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in rows}
    for run in range(RUNS + 1):
        for label, path in rows:
            before = len(fake.posts())
            outcome = _run_load(f"http://127.0.0.1:{port}{path}", run + 10 * quiet)
            if path == EVENTS_PATH and not quiet:
                _drain(fake, before + EVENTS)  # the next run starts with nothing left to do
            if run:
                results[label].append(outcome)
    return results


def _run_load(url: str, run: int) -> dict[str, Any]:
    args = ["--load", url, str(EVENTS), str(CONCURRENCY), str(run)]
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, timeout=300, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _drain(fake: Any, expected: int) -> None:
    """Wait until every acknowledged event has been answered (one post each)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while len(fake.posts()) < expected and time.monotonic() < deadline:
        time.sleep(0.2)


def _report(results: dict[str, list[dict[str, Any]]]) -> None:
    rows = {label: _medians(runs) for label, runs in results.items()}
    print(f"{EVENTS:,} signed events x {RUNS} runs, {CONCURRENCY} connections, 1 uvicorn worker")
    print(f"{'route':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-200':>8} {'ratio':>7}")
    base = rows[ROWS[0][0]]["rate"]
    for label, row in rows.items():
        print(
            f"{label:28} {row['rate']:9,.0f} {row['p50']:8.1f} {row['p99']:8.1f} "
            f"{int(row['failures']):8d} {row['rate'] / base:7.2f}"
        )
    ratio = rows[ROWS[1][0]]["rate"] / base
    p99 = rows[ROWS[1][0]]["p99"]
    verdict = _verdict(ratio >= RATIO_GOAL)
    print(f"events / verify-only = {ratio:.2f} (goal >= {RATIO_GOAL}: {verdict})")
    verdict = _verdict(p99 < P99_GOAL_MS)
    print(f"p99 time-to-ack = {p99:.0f} ms (goal < {P99_GOAL_MS:.0f}: {verdict})")
    _save(rows)


def _save(rows: dict[str, dict[str, float]]) -> None:
    """benchmarks/results/slack.json: events/s against verify-only, and the p99 time-to-ack."""
    base = rows[ROWS[0][0]]
    events, quiet = rows[ROWS[1][0]], rows[ROWS[2][0]]
    ratio = events["rate"] / base["rate"]

    def note(row: dict[str, float]) -> str:
        return f"p50 {row['p50']:.1f} ms, p99 {row['p99']:.1f} ms, non-200 {int(row['failures'])}"

    results = [
        Row(
            "/slack/events, to the ack",
            events["rate"],
            base["rate"],
            ratio,
            f">= {RATIO_GOAL} × verify only",
            ratio >= RATIO_GOAL,
            note(events) + f"; verify only: {note(base)}",
        ),
        Row(
            "/slack/events p99 time-to-ack",
            events["p99"],
            base["p99"],
            goal=f"< {P99_GOAL_MS:.0f} ms",
            met=events["p99"] < P99_GOAL_MS,
            unit="ms",
            note="baseline: verify only's p99",
        ),
        Row(
            "/slack/events, bot quiet (the adapter alone)",
            quiet["rate"],
            base["rate"],
            quiet["rate"] / base["rate"],
            note=note(quiet),
        ),
    ]
    write_results(
        "slack",
        f"Slack `message.im` events through POST /slack/events: {EVENTS:,} signed events × {RUNS} "
        f"runs, {CONCURRENCY} connections, 1 uvicorn worker (medians)",
        "req/s",
        results,
    )


def _medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _verdict(ok: bool) -> str:
    return "ok" if ok else "BELOW GOAL"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the server did not start on port {port}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), quiet=sys.argv[3:] == ["quiet"])
    elif len(sys.argv) > 1 and sys.argv[1] == "--load":
        load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
