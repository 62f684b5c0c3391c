"""Benchmark: signed Slack ``message.im`` events per second through ``POST /slack/events``.

The app runs under uvicorn (1 worker, uvloop + httptools) in its own process, with a fake Slack
Web API on a loopback port (in this process) and a SQLite database in a temporary directory.
The load comes from a third process: ``CONCURRENCY`` connections send ``EVENTS`` signed events,
each from a different user and with a new ``event_id``, and time each request up to the ack.

Two routes of the same app, alternated, ``RUNS`` times each, medians reported:
- ``/slack/events``: bolt verifies the signature, the inbox records the event id (a database
  insert through the bridge), the ack goes out; the conversation answers each "/help" after it
  (that work shares the server's CPU during the run, as it would in production);
- ``/bench/verify``: a route that only verifies the signature (the baseline).
Goals: events/s >= 0.5 of the baseline; p99 time-to-ack < 300 ms. The background work of one
run is drained before the next starts. Bounded: nothing runs longer than its timeouts and every
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EVENTS = 2_000
CONCURRENCY = 32
RUNS = 3
RATIO_GOAL = 0.5
P99_GOAL_MS = 300.0
SECRET = "bench-signing-secret"
DRAIN_TIMEOUT = 180.0


# The server process ------------------------------------------------------------------------


def serve(port: int) -> None:
    """The app: ``mount_slack`` on a bare FastAPI app, plus the verify-only baseline route."""
    import uvicorn
    from fastapi import FastAPI, Request, Response
    from slack_sdk.signature import SignatureVerifier

    from bot.bootstrap import build
    from bot.conversation import Conversation
    from bot.platforms.slack import mount_slack

    services = build()
    app = FastAPI()
    conversation = Conversation(services.ctx, services.settings.default_locale)
    if os.environ.get("BENCH_STUB") == "work":
        conversation.on_message = lambda message, employee_id=None: []  # type: ignore[method-assign]
    mount_slack(app, services, conversation)
    if os.environ.get("BENCH_STUB") == "inbox":
        async def always(_: str) -> bool:
            return True
        import dataclasses
        bot = app.state.slack
        bot.work.handlers = dataclasses.replace(bot.work.handlers, first_delivery=always)
        for mw in bot.bolt._async_middleware_list:
            if hasattr(mw, "handlers"):
                mw.handlers = bot.work.handlers
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


def main() -> None:
    from core.persistence.engine import make_engine
    from core.persistence.migrate import upgrade
    from tests.fakes_slack import TOKEN, fake_slack_server

    with tempfile.TemporaryDirectory() as folder, fake_slack_server() as fake:
        database = f"sqlite:///{Path(folder) / 'bench.db'}"
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
        port = _free_port()
        server = _spawn(["--serve", str(port)], env)
        try:
            _wait_for(port)
            results = _measure(port, fake)
        finally:
            server.terminate()
            server.wait(timeout=30)
    _report(results)


def _measure(port: int, fake: Any) -> dict[str, list[dict[str, Any]]]:
    results: dict[str, list[dict[str, Any]]] = {"/bench/verify": [], "/slack/events": []}
    sent = 0
    for run in range(RUNS + 1):  # run 0 warms up (imports, auth.test, first connections)
        for path in ("/bench/verify", "/slack/events"):
            url = f"http://127.0.0.1:{port}{path}"
            outcome = _run_load(url, run)
            if path == "/slack/events":
                sent += EVENTS
                if os.environ.get("BENCH_STUB") != "work":
                    _drain(fake, sent)
            if run:
                results[path].append(outcome)
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
    rows = {path: _medians(runs) for path, runs in results.items()}
    print(f"{EVENTS:,} signed events x {RUNS} runs, {CONCURRENCY} connections, 1 uvicorn worker")
    print(f"{'route':20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-200':>8}")
    for path, row in rows.items():
        print(
            f"{path:20} {row['rate']:9,.0f} {row['p50']:8.1f} {row['p99']:8.1f} "
            f"{int(row['failures']):8d}"
        )
    ratio = rows["/slack/events"]["rate"] / rows["/bench/verify"]["rate"]
    p99 = rows["/slack/events"]["p99"]
    print(f"events / verify-only = {ratio:.2f} (goal >= {RATIO_GOAL}: {_verdict(ratio >= RATIO_GOAL)})")
    print(f"p99 time-to-ack = {p99:.0f} ms (goal < {P99_GOAL_MS:.0f}: {_verdict(p99 < P99_GOAL_MS)})")


def _medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def _verdict(ok: bool) -> str:
    return "ok" if ok else "BELOW GOAL"


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, *args], env=env, cwd=ROOT)


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
        serve(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--load":
        load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
