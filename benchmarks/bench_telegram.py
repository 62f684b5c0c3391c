"""Benchmark: Telegram webhook intake, and end-to-end latency to the reply.

(a) Updates per second through ``POST /telegram/webhook`` up to the 200 (secret check, inbox
    record, queue), against the same app answering a route that only checks the secret; goal
    >= 0.5 of that baseline. The two are measured back to back in each run and the ratio is the
    median of the runs' ratios, so a neighbour's load during one run does not decide it. Each
    webhook run sends fresh updates (``/help`` from distinct users),
    so the inbox writes and the conversation's work behind them are real; the runs wait for the
    replies to drain before the next one.
(b) End-to-end latency from an update's POST to the fake Bot API receiving its ``sendMessage``,
    at a paced ``PACED_RATE`` per second (median, p99), so it measures handling, not queueing.

Set-up: the app under uvicorn (1 worker, uvloop + httptools) in its own process, on a throw-away
SQLite database with the demo organisation; the load from a second process over keep-alive
connections; the fake Bot API (the tests' one) in this process. Everything stays on 127.0.0.1
and is bounded (``UPDATES`` per run). Figures are reported, never asserted.
Run: ``.venv/bin/python benchmarks/bench_telegram.py`` (``make bench``).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_io import Row, write_results  # noqa: E402

SECRET = "bench-secret_0123456789"  # noqa: S105 (a throw-away secret for loopback load)
UPDATES = 3_000
CONCURRENCY = 32
RUNS = 5
PACED_RATE, PACED_COUNT = 50, 300
GOAL = 0.5
HOOK, BASELINE = "/telegram/webhook", "/bench/secret-only"


# The server process --------------------------------------------------------------------------


def serve(port: int, database_url: str, api_url: str, token: str) -> None:
    """The app under test: Telegram mounted as ``bot/app.py`` will, plus the baseline route."""
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    import uvicorn
    from fastapi import FastAPI, Request, Response

    from adapters.telegram.config import SECRET_HEADER
    from adapters.telegram.webhook import secret_matches
    from bot.bootstrap import build
    from bot.conversation import Conversation
    from bot.platforms.telegram import mount_telegram
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=token,
        telegram_webhook_secret=SECRET,
        telegram_api_url=api_url,
        secret_key="bench",  # noqa: S106 (signs nothing that outlives the run)
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build(settings)
        conversation = Conversation(services.ctx, settings.default_locale)
        telegram = mount_telegram(app, services, conversation)
        await telegram.start()
        try:
            yield
        finally:
            await telegram.stop()
            services.close()

    app = FastAPI(lifespan=lifespan)

    async def secret_only(request: Request) -> Response:
        ok = secret_matches(request.headers.get(SECRET_HEADER), SECRET)
        return Response(status_code=200 if ok else 403)

    # A plain Starlette route, as the webhook is: neither pays for FastAPI's parameter parsing.
    app.add_route(BASELINE, secret_only, methods=["POST"])

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", workers=1)


# The load process ----------------------------------------------------------------------------


def update_body(update_id: int) -> bytes:
    chat = 90_000_000 + update_id
    person = {"id": chat, "is_bot": False, "first_name": "b", "language_code": "en"}
    message = {
        "message_id": update_id,
        "date": 1_760_000_000,
        "chat": {"id": chat, "type": "private", "first_name": "b"},
        "from": person,
        "text": "/help",
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


def request_bytes(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(port: int, requests: list[bytes], stamps: list[float] | None) -> list[int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    statuses = []
    for raw in requests:
        if stamps is not None:
            stamps.append(time.monotonic())
        writer.write(raw)
        statuses.append(int((await reader.readline()).split()[1]))
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
    writer.close()
    return statuses


def burst(port: int, path: str, first_id: int, count: int) -> tuple[float, int]:
    """``count`` POSTs over ``CONCURRENCY`` connections; (seconds, how many got 200)."""
    bodies = [request_bytes(path, update_body(first_id + i)) for i in range(count)]
    shares = [bodies[i::CONCURRENCY] for i in range(CONCURRENCY)]

    async def run() -> list[list[int]]:
        return await asyncio.gather(*(_connection(port, share, None) for share in shares))

    start = time.perf_counter()
    results = asyncio.run(run())
    elapsed = time.perf_counter() - start
    return elapsed, sum(s == 200 for r in results for s in r)


def paced(port: int, first_id: int, count: int, rate: float) -> list[tuple[int, float]]:
    """One update every 1/rate s; returns (chat id, monotonic send time) for each."""

    async def run() -> list[tuple[int, float]]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sent = []
        for i in range(count):
            update_id = first_id + i
            sent.append((90_000_000 + update_id, time.monotonic()))
            writer.write(request_bytes(HOOK, update_body(update_id)))
            await reader.readline()
            while await reader.readline() not in (b"\r\n", b""):
                pass
            await asyncio.sleep(1 / rate)
        writer.close()
        return sent

    return asyncio.run(run())


# Orchestration -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare_database(folder: str) -> str:
    from bot.demo.org import load_demo_org
    from core.persistence.engine import make_engine
    from core.persistence.migrate import upgrade
    from core.persistence.uow import Database
    from core.ports import SystemClock

    url = f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    with Database(engine).uow() as uow:
        now = SystemClock().now()
        load_demo_org(uow, now.date(), now)
        uow.commit()
    engine.dispose()
    return url


def wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server process died during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def replies(fake: Any) -> int:
    return len(fake.calls_to("sendMessage"))


def drain(fake: Any, expected: int, timeout: float = 300) -> float:
    """Wait until the fake has every reply; returns the seconds it took."""
    start = time.monotonic()
    fake.wait_for(lambda: replies(fake) >= expected, timeout)
    return time.monotonic() - start


def measure(port: int, fake: Any, load: ProcessPoolExecutor) -> dict[str, Any]:
    next_id, expected = 1, 0
    for path in (BASELINE, HOOK):  # warm both paths (imports, connections, caches)
        load.submit(burst, port, path, next_id, 200).result()
    next_id, expected = next_id + 200, expected + 200
    drain(fake, expected)
    base, hook, drained = [], [], []
    for _ in range(RUNS):
        seconds, ok = load.submit(burst, port, BASELINE, next_id, UPDATES).result()
        base.append(ok / seconds)
        seconds, ok = load.submit(burst, port, HOOK, next_id, UPDATES).result()
        hook.append(ok / seconds)
        next_id, expected = next_id + UPDATES, expected + UPDATES
        drained.append(UPDATES / (seconds + drain(fake, expected)))
    sent = load.submit(paced, port, next_id, PACED_COUNT, PACED_RATE).result()
    fake.wait_for(lambda: replies(fake) >= expected + PACED_COUNT, 120)
    arrived = {int(c.chat_id): c.at for c in fake.calls_to("sendMessage")}
    latency = sorted((arrived[chat] - at) * 1000 for chat, at in sent)
    return {"base": base, "hook": hook, "drained": drained, "latency": latency}


def report(r: dict[str, Any]) -> None:
    base, hook = statistics.median(r["base"]), statistics.median(r["hook"])
    lat = r["latency"]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    ratios = [h / b for h, b in zip(r["hook"], r["base"], strict=True)]
    ratio = statistics.median(ratios)
    rows = [
        ("secret-check route (baseline)", f"{base:,.0f} req/s", f"runs {_runs(r['base'])}"),
        ("/telegram/webhook to the 200", f"{hook:,.0f} upd/s", f"runs {_runs(r['hook'])}"),
        ("ratio webhook / baseline", f"{ratio:.2f}", f"goal >= {GOAL}: {_verdict(ratio)}"),
        ("  per run", " / ".join(f"{x:.2f}" for x in ratios), ""),
        ("handled end to end (burst)", f"{statistics.median(r['drained']):,.0f} upd/s", "to reply"),
        (
            f"latency at {PACED_RATE}/s, median",
            f"{statistics.median(lat):.1f} ms",
            "to sendMessage",
        ),
        (f"latency at {PACED_RATE}/s, p99", f"{p99:.1f} ms", f"{len(lat)} updates"),
    ]
    print(f"{UPDATES} updates a run, {CONCURRENCY} connections, {RUNS} runs, median:")
    for name, value, note in rows:
        print(f"  {name:<34} {value:>14}   {note}")
    save(r, base, hook, ratio, ratios, p99)


def save(
    r: dict[str, Any], base: float, hook: float, ratio: float, ratios: list[float], p99: float
) -> None:
    """benchmarks/results/telegram.json; the ratio is the median of the runs' ratios."""
    lat = r["latency"]
    rows = [
        Row(
            "/telegram/webhook, to the 200",
            hook,
            base,
            ratio,
            f">= {GOAL} × the secret-check route",
            ratio >= GOAL,
            "ratio: median of the runs' ratios (" + " / ".join(f"{x:.2f}" for x in ratios) + ")",
        ),
        Row(
            "handled end to end (burst), to the reply",
            statistics.median(r["drained"]),
            unit="upd/s",
        ),
        Row(f"latency at {PACED_RATE}/s to sendMessage, median", statistics.median(lat), unit="ms"),
        Row(
            f"latency at {PACED_RATE}/s to sendMessage, p99",
            p99,
            unit="ms",
            note=f"{len(lat)} updates",
        ),
    ]
    write_results(
        "telegram",
        f"Telegram webhook intake ({UPDATES:,} updates a run, {CONCURRENCY} connections, {RUNS} "
        "runs, medians) and end-to-end latency to the reply",
        "upd/s",
        rows,
    )


def _runs(values: list[float]) -> str:
    return " / ".join(f"{v:,.0f}" for v in values)


def _verdict(ratio: float) -> str:
    return "met" if ratio >= GOAL else "NOT met"


def main() -> None:
    from tests.integration.telegram.fake_bot_api import TOKEN, fake_bot_api

    with tempfile.TemporaryDirectory() as folder, fake_bot_api() as fake:
        database_url = prepare_database(folder)
        port = free_port()
        command = [
            sys.executable,
            __file__,
            "--serve",
            str(port),
            database_url,
            fake.api_url,
            TOKEN,
        ]
        server = subprocess.Popen(command, cwd=folder, env=os.environ | {"PYTHONPATH": str(ROOT)})
        try:
            wait_ready(port, server)
            spawn = multiprocessing.get_context("spawn")  # never fork a threaded process
            with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as load:
                report(measure(port, fake, load))
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        main()
