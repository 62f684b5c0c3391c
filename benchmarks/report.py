"""Write BENCHMARKS.md from ``benchmarks/results/*.json`` (the last step of ``make bench``).

The page says when and at which commit it was written, how to reproduce it, what machine ran the
benchmarks, then one table per benchmark: case | figure | baseline | ratio | goal | met, with the
notes under it. A benchmark without results gets a line saying so and why, when ``_runs.json``
(written by ``run_all.py``) knows: its exit status and the last lines of its output. The load
test's per-endpoint rows (``extra.endpoints``) get a table of their own.

Run: ``.venv/bin/python benchmarks/report.py [--results DIR] [--output PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNS_FILE = "_runs.json"
LOAD = "load"  # the load test: its endpoints table, and "not run" when it did not
LIBRARIES = ("fastapi", "uvicorn", "sqlalchemy", "psycopg", "rapidfuzz", "locust")
TAIL_SHOWN = 8  # lines of a failed benchmark's output shown on the page


@dataclass
class Report:
    """Everything the page shows; gathered by :func:`gather`, turned into Markdown by
    :func:`render` (which reads nothing itself, so tests can hand it any situation)."""

    results: dict[str, dict[str, Any]]
    expected: list[str]
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    machine: list[tuple[str, str]] = field(default_factory=list)
    written_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    commit: str | None = None
    results_written: dict[str, datetime] = field(default_factory=dict)
    """When each results file was written: figures from an earlier run show their age."""


# Reading -----------------------------------------------------------------------------------


def read_results(folder: Path) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The results files by benchmark name, and the names whose file could not be used."""
    results: dict[str, dict[str, Any]] = {}
    problems: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("_"):
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("rows", []), list):
                raise ValueError("not the results schema (an object with a list of rows)")
        except (OSError, ValueError) as error:
            problems[path.stem] = f"its results file is unreadable ({error})"
            continue
        results[str(data.get("benchmark") or path.stem)] = data
    return results, problems


def results_written(folder: Path) -> dict[str, datetime]:
    return {
        path.stem: datetime.fromtimestamp(path.stat().st_mtime, UTC)
        for path in folder.glob("*.json")
        if not path.name.startswith("_")
    }


def read_runs(folder: Path) -> dict[str, dict[str, Any]]:
    try:
        runs = json.loads((folder / RUNS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return runs if isinstance(runs, dict) else {}


def expected_benchmarks(folder: Path = HERE) -> list[str]:
    """Every ``bench_*.py`` on disk, and the load test even before its script exists."""
    names = {p.stem.removeprefix("bench_") for p in folder.glob("bench_*.py")}
    return sorted(names | {LOAD})


def git_commit(root: Path = ROOT) -> str | None:
    """The checked-out commit, read from ``.git`` (no git process); None outside a checkout."""
    git = root / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = (root / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head[:12]
        ref = head.split(":", 1)[1].strip()
        branch = ref.removeprefix("refs/heads/")
        loose = git / ref
        if loose.exists():
            return f"{loose.read_text().strip()[:12]} ({branch})"
        packed = (git / "packed-refs").read_text() if (git / "packed-refs").exists() else ""
        for line in packed.splitlines():
            if line.endswith(f" {ref}"):
                return f"{line.split()[0][:12]} ({branch})"
        return f"(no commit yet on {branch})"
    except (OSError, IndexError):
        return None


def machine() -> list[tuple[str, str]]:
    """What the figures depend on: CPU, memory, OS, Python, the databases, key libraries."""
    rows = [
        ("CPU", _cpu()),
        ("memory", _memory()),
        ("OS", _os()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", _postgres()),
    ]
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    rows.append(("libraries", ", ".join(versions)))
    return rows


def _cpu() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    count = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else count
    extra = f", {usable} usable by this process" if usable != count else ""
    return f"{model}, {count} logical CPUs{extra}"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def _os() -> str:
    name = platform.system()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return f"{name}, kernel {platform.release()} ({platform.machine()})"


def _postgres() -> str:
    url = os.environ.get("HRBOT_BENCH_DATABASE_URL")
    if not url:
        return "not used (HRBOT_BENCH_DATABASE_URL not set)"
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        database = make_url(url).database
        return f"server {row[0] if row else '?'} (database {database})"
    except Exception as error:  # the page still gets written; it says what went wrong
        return f"unreachable: {str(error).splitlines()[0] if str(error) else type(error).__name__}"


def gather(results_dir: Path) -> Report:
    results, problems = read_results(results_dir)
    return Report(
        results=results,
        expected=sorted(set(expected_benchmarks()) | set(results)),
        runs=read_runs(results_dir),
        problems=problems,
        machine=machine(),
        commit=git_commit(),
        results_written=results_written(results_dir),
    )


# Rendering ---------------------------------------------------------------------------------


def number(value: Any) -> str:
    """Figures to read, not to parse: thousands separated, about three significant digits."""
    if value is None:
        return "—"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and value >= 100):
        return f"{int(value):,}"  # counts: requests, failures
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def with_unit(value: Any, unit: str) -> str:
    shown = number(value)
    return shown if value is None or not unit else f"{shown} {unit}"


def verdict(met: Any) -> str:
    if met is None:
        return ""
    return "yes" if met else "**NO**"


def cell(text: Any) -> str:
    """Table-safe text: a pipe would end the cell, a newline the row."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def missed_goals(report: Report) -> list[str]:
    return [
        f"{name}: {row.get('case', '?')} ({row.get('goal', '')})"
        for name, data in sorted(report.results.items())
        for row in data.get("rows", [])
        if row.get("met") is False
    ]


def why_missing(report: Report, name: str) -> tuple[str, list[str]]:
    """Why ``name`` has no table ("not run: …" or "failed: …"), and the last lines of its
    output when they may tell more."""
    if name in report.problems:
        return f"failed: {report.problems[name]}", []
    run = report.runs.get(name)
    if run is None:
        if name == LOAD and not (HERE / "bench_load.py").exists():
            return "not run: there is no benchmarks/bench_load.py yet", []
        return "not run: no results file, and `make bench` did not run it", []
    tail = [str(line) for line in run.get("tail", [])][-TAIL_SHOWN:]
    if run.get("reason"):
        return f"failed: {run['reason']}", tail
    return "failed: it exited without error but wrote no results file", tail


def summary(report: Report) -> list[str]:
    lines = [
        "| benchmark | outcome | goals met | took | load average at start | results written |",
        "|---|---|---|---|---|---|",
    ]
    for name in report.expected:
        run = report.runs.get(name, {})
        took = f"{run['seconds']:.0f} s" if "seconds" in run else ""
        load = f"{run['load_average']:.2f}" if "load_average" in run else ""
        written = report.results_written.get(name)
        when = written.strftime("%Y-%m-%d %H:%M UTC") if written else ""
        data = report.results.get(name)
        if data is None:
            outcome, goals = why_missing(report, name)[0], ""
        else:
            outcome = "ran"
            if not run:
                outcome = "results of a separate run"
            elif run.get("reason"):
                outcome = f"results, but {run['reason']}"
            judged = [row.get("met") for row in data.get("rows", []) if row.get("met") is not None]
            goals = f"{sum(bool(m) for m in judged)} of {len(judged)}" if judged else "no goal"
        lines.append(
            f"| [{name}](#{name}) | {cell(outcome)} | {goals} | {took} | {load} | {when} |"
        )
    return lines


def table(data: dict[str, Any]) -> list[str]:
    unit = str(data.get("unit", ""))
    lines = ["| case | figure | baseline | ratio | goal | met |", "|---|---:|---:|---:|---|---|"]
    notes = []
    for row in data.get("rows", []):
        row_unit = str(row.get("unit") or unit)
        ratio = row.get("ratio")
        lines.append(
            f"| {cell(row.get('case', '?'))} | {with_unit(row.get('figure'), row_unit)} "
            f"| {with_unit(row.get('baseline'), row_unit)} "
            f"| {'—' if ratio is None else f'{float(ratio):.2f}×'} "
            f"| {cell(row.get('goal', ''))} | {verdict(row.get('met'))} |"
        )
        if row.get("note"):
            notes.append(f"- {row.get('case', '?')}: {row['note']}")
    return lines + (["", *notes] if notes else [])


def endpoints(extra: dict[str, Any]) -> list[str]:
    """The load test's rows: throughput and latency per endpoint, and how it was driven."""
    rows = extra.get("endpoints") or []
    if not rows:
        return ["The load test wrote no per-endpoint rows."]
    setting = ", ".join(
        part
        for part in (
            str(extra["fleet"]) if extra.get("fleet") else "",
            f"{extra['users']} users" if extra.get("users") is not None else "",
            f"{number(extra['duration_s'])} s" if extra.get("duration_s") is not None else "",
        )
        if part
    )
    lines = [f"Per endpoint ({setting}):" if setting else "Per endpoint:", ""]
    lines += [
        "| endpoint | requests | failures | throughput | p50 | p99 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {cell(row.get('endpoint', '?'))} | {number(row.get('requests'))} "
            f"| {number(row.get('failures'))} | {with_unit(row.get('rps'), 'req/s')} "
            f"| {with_unit(row.get('p50_ms'), 'ms')} | {with_unit(row.get('p99_ms'), 'ms')} |"
        )
    return lines


def section(report: Report, name: str) -> list[str]:
    data = report.results.get(name)
    if data is None:
        reason, tail = why_missing(report, name)
        lines = [f'<a id="{name}"></a>', f"## {name}", "", f"No results — {reason}."]
        if tail:
            lines += ["", "Last lines of its output:", "", "```", *tail, "```"]
        return [*lines, ""]
    title = f" — {data['title']}" if data.get("title") else ""
    lines = [f'<a id="{name}"></a>', f"## {name}{title}", ""]
    run = report.runs.get(name)
    if run and run.get("reason"):
        lines += [f"**Warning: the run did not finish cleanly ({run['reason']}).**", ""]
    if data.get("rows") or name != LOAD:
        lines += [*table(data), ""]
    if name == LOAD or "endpoints" in data.get("extra", {}):
        lines += [*endpoints(data.get("extra", {})), ""]
    return lines


def render(report: Report) -> str:
    when = report.written_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    at = f", at commit {report.commit}" if report.commit else ""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {when}{at}. Reproduce with `make bench` (every benchmark, "
        'then this page; `make bench BENCH="faq import"` runs some); set '
        "`HRBOT_BENCH_DATABASE_URL` to a database of its own to add PostgreSQL. CI does not run "
        "them. Absolute figures drift from run to run and machine to machine: each benchmark "
        "measures its baseline in the same run, and the ratio is what to compare.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {cell(label)} | {cell(value)} |" for label, value in report.machine),
        "",
        "## Summary",
        "",
        *summary(report),
        "",
    ]
    missed = missed_goals(report)
    if missed:
        lines += ["Goals not met:", "", *(f"- {cell(item)}" for item in missed), ""]
    for name in report.expected:
        lines += section(report, name)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--results", type=Path, default=None, help="default benchmarks/results")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks.results_io import results_folder

    report = gather(args.results or results_folder())
    args.output.write_text(render(report), encoding="utf-8")
    missing = [name for name in report.expected if name not in report.results]
    print(
        f"wrote {args.output}: {len(report.results)} benchmark(s)"
        + (f", missing: {', '.join(missing)}" if missing else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
