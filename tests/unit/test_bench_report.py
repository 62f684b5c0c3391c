"""BENCHMARKS.md as ``make bench`` writes it: one table per benchmark from its results file, goals
not met flagged, missing benchmarks explained, the load test's endpoints tabled."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report
from benchmarks.results_io import FOLDER_VARIABLE, Row, ratio, write_results

WHEN = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)


def results(folder: Path, name: str, rows: list[dict[str, Any]], **extra: Any) -> None:
    document: dict[str, Any] = {"benchmark": name, "title": f"the {name} benchmark"}
    document |= {"unit": "q/s", "rows": rows, "extra": extra}
    (folder / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")


def row(
    case: str, figure: float, baseline: float | None, goal: str, met: bool | None
) -> dict[str, Any]:
    share = None if baseline is None else figure / baseline
    return {"case": case, "figure": figure, "baseline": baseline, "ratio": share, "goal": goal,
            "met": met, "note": ""}  # fmt: skip


def page(folder: Path, expected: list[str]) -> str:
    found, problems = report.read_results(folder)
    return report.render(
        report.Report(
            results=found,
            expected=expected,
            runs=report.read_runs(folder),
            problems=problems,
            machine=[("CPU", "Test CPU, 2 logical CPUs"), ("SQLite", "3.40.1")],
            written_at=WHEN,
            commit="24cca7098836 (main)",
        )
    )


def table_line(text: str, case: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"| {case} |"))


def test_a_benchmark_becomes_a_table_with_figure_baseline_ratio_goal(tmp_path: Path) -> None:
    results(tmp_path, "faq", [row("engine, real knowledge base", 6034.4, 177.1, ">= 0.3 ×", True)])

    text = page(tmp_path, ["faq"])

    assert "| case | figure | baseline | ratio | goal | met |" in text
    assert table_line(text, "engine, real knowledge base") == (
        "| engine, real knowledge base | 6,034 q/s | 177 q/s | 34.07× | >= 0.3 × | yes |"
    )
    assert "2026-12-06 08:30 UTC" in text
    assert "24cca7098836" in text
    assert "`make bench`" in text
    assert "| CPU | Test CPU, 2 logical CPUs |" in text
    assert "Goals not met" not in text


def test_a_goal_not_met_is_flagged_in_its_row_and_the_summary(tmp_path: Path) -> None:
    results(
        tmp_path,
        "slack",
        [
            row("/slack/events, to the ack", 414.0, 1734.0, ">= 0.5 × verify only", False),
            row("/slack/events p99 time-to-ack", 289.0, None, "< 300 ms", True),
        ],
    )

    text = page(tmp_path, ["slack"])

    assert table_line(text, "/slack/events, to the ack").endswith("| **NO** |")
    assert table_line(text, "/slack/events p99 time-to-ack").endswith("| — | < 300 ms | yes |")
    summary = text.split("## Summary", 1)[1].split("<a id=", 1)[0]
    assert "| 1 of 2 |" in summary
    assert "- slack: /slack/events, to the ack (>= 0.5 × verify only)" in summary


def test_a_benchmark_that_failed_or_never_ran_says_so_and_why(tmp_path: Path) -> None:
    results(tmp_path, "faq", [row("engine", 10.0, 5.0, "", None)])
    runs = {
        "faq": {"status": 0, "seconds": 68.2, "load_average": 1.5, "reason": "", "tail": []},
        "worker": {
            "status": 1,
            "seconds": 12.0,
            "load_average": 2.0,
            "reason": "exit status 1",
            "tail": ["Traceback (most recent call last):", "AssertionError: 999"],
        },
    }
    (tmp_path / "_runs.json").write_text(json.dumps(runs), encoding="utf-8")
    (tmp_path / "roster.json").write_text("{ half written", encoding="utf-8")

    text = page(tmp_path, ["dashboard", "faq", "roster", "worker"])

    worker = text.split('<a id="worker">', 1)[1]
    assert "No results — failed: exit status 1." in worker
    assert "AssertionError: 999" in worker
    assert "failed: its results file is unreadable" in text.split('<a id="roster">', 1)[1]
    assert "No results — not run" in text.split('<a id="dashboard">', 1)[1]
    assert "| [faq](#faq) | ran | no goal | 68 s | 1.50 |" in text


def test_the_load_test_gets_throughput_and_p99_per_endpoint(tmp_path: Path) -> None:
    endpoints = [
        {"endpoint": "POST /slack/events", "requests": 12000, "failures": 3, "rps": 40.04,
         "p50_ms": 12.0, "p99_ms": 85.5},
        {"endpoint": "GET /dashboard", "requests": 900, "failures": 0, "rps": 3.0,
         "p50_ms": 30.0, "p99_ms": 240.0},
    ]  # fmt: skip
    extra = {"fleet": "2 web + 2 workers, PostgreSQL, loopback", "duration_s": 120.0, "users": 50}
    results(tmp_path, "load", [], endpoints=endpoints, **extra)

    text = page(tmp_path, ["load"])

    assert "| [load](#load) | results of a separate run | no goal |" in text  # no _runs.json
    load = text.split('<a id="load">', 1)[1]
    assert "2 web + 2 workers, PostgreSQL, loopback, 50 users, 120 s" in load
    assert "| endpoint | requests | failures | throughput | p50 | p99 |" in load
    assert table_line(load, "POST /slack/events") == (
        "| POST /slack/events | 12,000 | 3 | 40.0 req/s | 12.0 ms | 85.5 ms |"
    )
    assert table_line(load, "GET /dashboard").endswith("| 240 ms |")


def test_a_missing_load_test_says_not_run(tmp_path: Path) -> None:
    text = page(tmp_path, ["load"])

    assert "No results — not run" in text.split('<a id="load">', 1)[1]


def test_what_a_benchmark_writes_the_report_reads_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path / "results"))
    monkeypatch.delenv("HRBOT_BENCH_DATABASE_URL", raising=False)
    write_results(
        "roster",
        "Monthly roster build",
        "s",
        [Row("sqlite: build_roster", 7.5, 2.0, ratio(7.5, 2.0), "<= 3 ×", False, "peak 80 MiB")],
    )
    output = tmp_path / "BENCHMARKS.md"

    assert report.main(["--results", str(tmp_path / "results"), "--output", str(output)]) == 0

    text = output.read_text(encoding="utf-8")
    assert table_line(text, "sqlite: build_roster") == (
        "| sqlite: build_roster | 7.5 s | 2 s | 3.75× | <= 3 × | **NO** |"
    )
    assert "- sqlite: build_roster: peak 80 MiB" in text
    assert "| PostgreSQL | not used (HRBOT_BENCH_DATABASE_URL not set) |" in text
    assert "| SQLite |" in text
    assert "missing:" in capsys.readouterr().out  # the other benchmarks did not run here


def test_a_broken_measurement_is_refused_rather_than_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path))

    with pytest.raises(ValueError):
        write_results("faq", "t", "q/s", [Row("engine", 10.0, 0.0, ratio(10.0, 0.0))])

    assert math.isinf(ratio(1.0, 0.0))
    assert not (tmp_path / "faq.json").exists()
