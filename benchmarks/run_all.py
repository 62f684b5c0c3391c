"""Run the benchmarks for ``make bench``, one after another, and record how each run went.

Every ``benchmarks/bench_<name>.py`` (or the names given: ``run_all.py faq import``) runs in its
own process with its documented defaults; its output goes to the console as it comes. Before a
benchmark starts its old ``results/<name>.json`` is removed, so a benchmark that fails is reported
as failed, not with the figures of an earlier run. ``results/_runs.json`` keeps, per benchmark,
its exit status, duration, the load average when it started and the last lines of its output:
``report.py`` uses them to say why a table is missing. A failing benchmark does not stop the
others; the exit status is 1 if any failed.

PostgreSQL: the benchmarks use ``HRBOT_BENCH_DATABASE_URL`` only. ``HRBOT_TEST_DATABASE_URL`` is
removed from their environment (two of them would fall back to it, and the test database is the
test runs'); a URL naming the database ``test`` is refused, and a missing database is created.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.results_io import results_folder  # noqa: E402

BENCH_URL = "HRBOT_BENCH_DATABASE_URL"
TEST_URL = "HRBOT_TEST_DATABASE_URL"
RUNS_FILE = "_runs.json"
TAIL = 20  # lines of output kept for the report when a benchmark fails
TIMEOUT = 3600.0  # seconds; each benchmark is bounded well below this


def available() -> dict[str, Path]:
    """The benchmarks on disk, by name (``bench_faq.py`` → ``faq``)."""
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TEST_URL}
    env["PYTHONUNBUFFERED"] = "1"  # the console shows progress as it happens
    return env


def check_database(url: str) -> str | None:
    """Why the PostgreSQL URL cannot be used (None: it can); creates its database if missing."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from core.persistence.engine import make_engine

    target = make_url(url)
    if target.database in (None, "", "test"):
        return f"{BENCH_URL} must name a database of its own, not {target.database!r}"
    server = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        with server.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).first()
        if found is None:
            with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
            print(f"(created the benchmark database {target.database})")
    except Exception as error:  # unreachable, refused: the benchmarks' figures would be partial
        return f"{BENCH_URL} is not usable: {str(error).splitlines()[0]}"
    finally:
        server.dispose()
    return None


def run_one(name: str, script: Path, env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run one benchmark, echoing its output; its record for ``_runs.json``."""
    (results_folder() / f"{name}.json").unlink(missing_ok=True)
    print(f"== {name}: {script.relative_to(ROOT)}", flush=True)
    load = os.getloadavg()[0]
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=TAIL)
    # A session of its own: on a timeout the whole group goes (servers, load processes).
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    timed_out = threading.Event()

    def stop() -> None:  # a benchmark that hangs silently must not hang `make bench`
        timed_out.set()
        os.killpg(process.pid, signal.SIGTERM)

    timer = threading.Timer(timeout, stop)
    timer.start()
    try:
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            tail.append(line.rstrip("\n"))
        status = process.wait()
    finally:
        timer.cancel()
    seconds = time.monotonic() - started
    reason = ""
    if timed_out.is_set():
        reason = f"stopped after {timeout:.0f} s"
    elif status != 0:
        reason = f"exit status {status}"
    print(f"== {name}: {reason or 'ok'} in {seconds:.0f} s\n", flush=True)
    return {
        "status": status,
        "seconds": round(seconds, 1),
        "load_average": round(load, 2),
        "started_at": started_at,
        "reason": reason,
        "tail": list(tail) if reason else [],
    }


def save_runs(records: dict[str, dict[str, Any]]) -> None:
    """Merge into ``_runs.json``: running some benchmarks keeps the others' records."""
    path = results_folder() / RUNS_FILE
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    known.update(records)
    path.write_text(json.dumps(known, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per benchmark")
    args = parser.parse_args(argv)
    found = available()
    unknown = [n for n in args.names if n not in found]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(found)}")
    url = os.environ.get(BENCH_URL)
    if url and (problem := check_database(url)):
        print(problem, file=sys.stderr)
        return 2
    if not url:
        print(f"(SQLite only: set {BENCH_URL} to include PostgreSQL)")
    results_folder().mkdir(parents=True, exist_ok=True)
    env = environment()
    records: dict[str, dict[str, Any]] = {}
    for name in args.names or list(found):
        records[name] = run_one(name, found[name], env, args.timeout)
        save_runs(records)  # after each: an interrupted run still explains itself
    print(f"{'benchmark':12} {'seconds':>8}  outcome")
    for name, record in records.items():
        print(f"{name:12} {record['seconds']:8.0f}  {record['reason'] or 'ok'}")
    failed = [name for name, record in records.items() if record["reason"]]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
