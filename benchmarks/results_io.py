"""Where each benchmark leaves its figures, for ``benchmarks/report.py`` to put in BENCHMARKS.md.

Every ``benchmarks/bench_<name>.py`` ends its run with :func:`write_results`, which writes
``benchmarks/results/<name>.json`` in the schema the benchmarks share::

    {"benchmark": "<name>", "title": "<one line>", "unit": "ms",
     "rows": [{"case": str, "figure": float, "baseline": float | null, "ratio": float | null,
               "goal": str, "met": bool | null, "note": str, "unit": str (optional)}],
     "extra": {free-form, e.g. the load test's per-endpoint rows}}

``unit`` names what ``figure`` and ``baseline`` are counted in; a row may carry its own ``unit``
when it differs from the benchmark's (a throughput benchmark reporting a p99 in ms, say). The
ratio is the benchmark's own (usually figure / baseline, sometimes a median of per-run ratios),
so the report never recomputes it. ``HRBOT_BENCH_RESULTS`` names another folder (tests use it).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
FOLDER_VARIABLE = "HRBOT_BENCH_RESULTS"


@dataclass(frozen=True)
class Row:
    """One line of a benchmark's table: what was measured against what, and whether it is enough.

    ``met`` is None when the row has no goal (a figure reported for information)."""

    case: str
    figure: float
    baseline: float | None = None
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""
    unit: str | None = None

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "case": self.case,
            "figure": _number(self.figure),
            "baseline": _number(self.baseline),
            "ratio": _number(self.ratio),
            "goal": self.goal,
            "met": self.met,
            "note": self.note,
        }
        if self.unit is not None:
            row["unit"] = self.unit
        return row


def ratio(figure: float, baseline: float) -> float:
    """``figure / baseline``; a zero baseline (nothing measured) gives infinity, which the writer
    refuses, so a broken measurement fails loudly instead of printing a wrong table."""
    return figure / baseline if baseline else math.inf


def results_folder() -> Path:
    return Path(os.environ.get(FOLDER_VARIABLE) or RESULTS)


def write_results(
    name: str,
    title: str,
    unit: str,
    rows: list[Row],
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``<results>/<name>.json`` (the folder is created) and say where, on the console."""
    folder = results_folder()
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "title": title,
        "unit": unit,
        "rows": [row.as_json() for row in rows],
        "extra": extra or {},
    }
    # allow_nan=False: NaN and infinity are not JSON, and would mean a measurement went wrong.
    text = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False)
    path = folder / f"{name}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(path)  # a report never reads a half-written file
    print(f"(results written to {_shown(path)})")
    return path


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
