"""Benchmark: ``hrbot import contributions`` of 200k rows, CSV and XLSX, on SQLite.

The baseline, measured in the same run, is SQLAlchemy Core ``insert()`` executemany of the same
rows already parsed (PERFORMANCE.md: figures drift, ratios hold). Goal: the import reaches at least
0.3 of the baseline's rows per second, all three levels of validation included.

Each case runs in its own process, so its peak resident memory (``ru_maxrss``) is its own: the
import streams, so its peak stays near that of a 20k-row file, while the baseline must hold all
rows in memory at once. Run: ``.venv/bin/python benchmarks/bench_import.py`` (``make bench``).
"""

from __future__ import annotations

import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results_io import Row, write_results  # noqa: E402

ROWS = 200_000
XLSX_ROWS = 200_000
SMALL_ROWS = 20_000
MONTHS = 10
GOAL = 0.3
HEADER = [
    "employee_no",
    "period",
    "base",
    "employer_amount",
    "employee_amount",
    "due_date",
    "paid_date",
    "delay_reason",
]


def text_rows(count: int) -> list[list[str]]:
    """``count`` contribution rows: count / MONTHS employees, MONTHS months each, as text."""
    rows = []
    for index in range(count):
        person, month = divmod(index, MONTHS)
        base = 5000 + person % 20000
        late = person % 17 == 0
        rows.append(
            [
                f"E{person:06d}",
                f"2025-{month + 1:02d}",
                f"{base}.00",
                f"{base * 0.26:.2f}",
                f"{base * 0.105:.2f}",
                f"2025-{month + 1:02d}-15",
                f"2025-{month + 1:02d}-{25 if late else 10}",
                "finance_approval" if late else "",
            ]
        )
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("缴费")
    sheet.append(
        ["工号", "所属期", "缴费基数", "单位缴费", "个人缴费", "缴费截止日", "缴费日期", "延迟原因"]
    )
    for row in rows:
        # As a person's workbook holds them: numbers as numbers, dates as dates.
        sheet.append(
            [
                row[0],
                row[1],
                float(row[2]),
                float(row[3]),
                float(row[4]),
                date.fromisoformat(row[5]),
                date.fromisoformat(row[6]),
                row[7] or None,
            ]
        )
    book.save(path)


def make_database(path: Path, employees: int) -> None:
    """A migrated SQLite database with one branch and ``employees`` people."""
    from core.persistence import tables as t
    from core.persistence.engine import make_engine
    from core.persistence.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(t.branches.insert(), [{"code": "SH01", "name": "上海分公司"}])
        people = [
            {
                "employee_no": f"E{n:06d}",
                "name": f"员工{n}",
                "branch_id": 1,
                "role": "employee",
                "hire_date": date(2020, 1, 1),
            }
            for n in range(employees)
        ]
        connection.execute(t.employees.insert(), people)
    engine.dispose()


# One case per process -----------------------------------------------------------------------


def case_baseline(database: Path, source: Path) -> dict[str, Any]:
    """Core executemany of the rows, parsed beforehand (parsing is not timed)."""
    from core.domain.periods import Period
    from core.persistence import tables as t
    from core.persistence.engine import make_engine

    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        ids = dict(
            connection.execute(
                t.employees.select().with_only_columns(t.employees.c.employee_no, t.employees.c.id)
            ).all()
        )
    with source.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        next(reader)
        rows = [
            {
                "employee_id": ids[r[0]],
                "period": Period.parse(r[1]),
                "base": Decimal(r[2]),
                "employer_amount": Decimal(r[3]),
                "employee_amount": Decimal(r[4]),
                "due_date": date.fromisoformat(r[5]),
                "paid_date": date.fromisoformat(r[6]) if r[6] else None,
                "delay_reason": r[7] or None,
            }
            for r in reader
        ]
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(t.contributions.insert(), rows)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"rows": len(rows), "seconds": seconds}


def case_import(database: Path, source: Path) -> dict[str, Any]:
    from adapters.documents import FilesystemDocumentStore
    from core.imports.base import ImportOptions
    from core.imports.run import run_import
    from core.persistence.engine import make_engine
    from core.persistence.uow import Database
    from core.ports import ManualClock
    from core.services.context import Context

    db = Database(make_engine(f"sqlite:///{database}"))
    clock = ManualClock(datetime(2026, 1, 10, tzinfo=UTC))
    ctx = Context(uow=db.uow, clock=clock, documents=FilesystemDocumentStore(database.parent))
    started = time.perf_counter()
    result = run_import(ctx, "contributions", source, ImportOptions(seed=1))
    seconds = time.perf_counter() - started
    db.dispose()
    assert result.ok and result.written, result.issues[:5]
    return {"rows": result.counts.created, "seconds": seconds}


def case_read_xlsx(_database: Path, source: Path) -> dict[str, Any]:
    """The workbook reader alone (``core.imports.xlsx``), no checks, no writes: the ceiling of
    any XLSX import."""
    from core.imports.sources import open_source

    started = time.perf_counter()
    with open_source(source) as opened:
        rows = sum(1 for _ in opened.rows)
    return {"rows": rows, "seconds": time.perf_counter() - started}


CASES = {"baseline": case_baseline, "import": case_import, "read": case_read_xlsx}


def peak_mib() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: on Linux a child inherits
    its parent's ru_maxrss across fork and exec, VmHWM starts afresh with the new program."""
    try:
        with Path("/proc/self/status").open() as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(name: str, database: Path, source: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, name, str(database), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"case {name} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def child(name: str, database: Path, source: Path) -> None:
    figures = CASES[name](database, source)
    figures["peak_mib"] = peak_mib()
    print(json.dumps(figures))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="hrbot-bench-import-"))
    try:
        files = prepare(work)
        base = run_case("baseline", fresh(work), files["csv"])
        base_rate = base["rows"] / base["seconds"]
        print(f"{'case':<34}{'rows':>8}{'s':>8}{'rows/s':>10}{'peak MiB':>10}{'ratio':>8}")
        _line("baseline: Core insert executemany", base, base_rate)
        ratios, measured = {}, {}
        for label, case, key in (
            ("import CSV", "import", "csv"),
            (f"import CSV, {SMALL_ROWS} rows", "import", "small csv"),
            ("import XLSX", "import", "xlsx"),
            ("(XLSX read alone, no checks)", "read", "xlsx"),
        ):
            measured[label] = run_case(case, fresh(work), files[key])
            ratios[label] = _line(label, measured[label], base_rate)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for label in ("import CSV", "import XLSX"):
        verdict = "met" if ratios[label] >= GOAL else "NOT met"
        print(f"goal {label}: >= {GOAL} of the baseline: {verdict} ({ratios[label]:.2f})")
    ceiling = ratios["(XLSX read alone, no checks)"]
    print(f"(reading the workbook alone reaches {ceiling:.2f} of the baseline)")
    save(base, measured)


def save(base: dict[str, Any], measured: dict[str, dict[str, Any]]) -> None:
    """benchmarks/results/import.json: rows per second of each case against the baseline's."""
    base_rate = base["rows"] / base["seconds"]
    rows = []
    for label, figures in measured.items():
        rate = figures["rows"] / figures["seconds"]
        goal = label in ("import CSV", "import XLSX")
        rows.append(
            Row(
                label,
                rate,
                base_rate,
                rate / base_rate,
                f">= {GOAL} × Core insert executemany" if goal else "",
                rate / base_rate >= GOAL if goal else None,
                f"{figures['rows']:,} rows in {figures['seconds']:.2f} s; peak "
                f"{figures['peak_mib']:.0f} MiB (baseline {base['peak_mib']:.0f} MiB)",
            )
        )
    write_results(
        "import",
        f"`hrbot import contributions`, {ROWS:,} rows on SQLite, against Core insert "
        "executemany of the rows already parsed",
        "rows/s",
        rows,
    )


def prepare(work: Path) -> dict[str, Path]:
    """The template database and the files: CSV of ROWS and SMALL_ROWS rows, XLSX of XLSX_ROWS."""
    make_database(work / "template.db", ROWS // MONTHS)
    rows = text_rows(ROWS)
    files = {"csv": work / "contributions.csv", "small csv": work / "small.csv"}
    write_csv(files["csv"], rows)
    write_csv(files["small csv"], rows[:SMALL_ROWS])
    started = time.perf_counter()
    files["xlsx"] = work / "contributions.xlsx"
    write_xlsx(files["xlsx"], rows[:XLSX_ROWS])
    print(f"(generated {XLSX_ROWS} XLSX rows in {time.perf_counter() - started:.1f} s)")
    return files


def fresh(work: Path) -> Path:
    """A copy of the template database for one case."""
    path = work / "run.db"
    for leftover in work.glob("run.db*"):
        leftover.unlink()
    shutil.copy(work / "template.db", path)
    return path


def _line(label: str, figures: dict[str, Any], base_rate: float) -> float:
    rate = figures["rows"] / figures["seconds"]
    print(
        f"{label:<34}{figures['rows']:>8}{figures['seconds']:>8.2f}{rate:>10.0f}"
        f"{figures['peak_mib']:>10.1f}{rate / base_rate:>8.2f}"
    )
    return rate / base_rate


if __name__ == "__main__":
    if len(sys.argv) == 4:
        child(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
