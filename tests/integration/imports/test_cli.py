"""``hrbot import ...`` as an operator meets it: a real process, a real SQLite file.

Until the lead registers ``import_app`` in ``bot/cli.py``, the commands run through it directly.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.documents import FilesystemDocumentStore
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services.context import Context
from tests.integration.imports.helpers import table_counts, write_csv

pytestmark = pytest.mark.slow

HEADER = [
    "工号",
    "所属期",
    "缴费基数",
    "单位缴费",
    "个人缴费",
    "缴费截止日",
    "缴费日期",
    "延迟原因",
]
GOOD = [
    ["E001", "2026-08", "12000", "3120", "1260", "2026-08-15", "2026-08-10", ""],
    ["E001", "2026-09", "12000", "3120", "1260", "2026-09-15", "", "财务审批"],
]
BAD = [*GOOD, ["E404", "2026-09", "12000", "3120", "1260", "2026-09-15", "", ""]]


def hrbot_import(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.import_cli import import_app; import_app()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def stored_contributions(env: dict[str, str]) -> int:
    db = Database(make_engine(env["HRBOT_DATABASE_URL"]))
    clock = ManualClock(datetime(2026, 10, 12, 1, tzinfo=UTC))
    ctx = Context(uow=db.uow, clock=clock, documents=FilesystemDocumentStore(Path("/nonexistent")))
    try:
        return table_counts(ctx)["contributions"]
    finally:
        db.dispose()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'hrbot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO branches (code, name, city, region, due_day) "
            "VALUES ('SH01', '上海分公司', '', '', 15)"
        )
        connection.exec_driver_sql(
            "INSERT INTO employees (employee_no, name, branch_id, role, "
            "hire_date) VALUES ('E001', '张三', 1, 'employee', '2024-03-01')"
        )
    engine.dispose()
    environment = dict(os.environ)
    environment.update(
        HRBOT_DATABASE_URL=url,
        HRBOT_DOCUMENTS_DIR=str(tmp_path / "documents"),
        HRBOT_DEFAULT_LOCALE="zh-CN",
    )
    return environment


def test_an_invalid_file_exits_1_writes_nothing_and_reports_in_chinese(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "bad.csv", HEADER, BAD)
    report = tmp_path / "report.csv"

    done = hrbot_import("contributions", str(path), "--report", str(report), env=env)

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("hrbot: ")
    assert "未写入" in done.stderr
    assert "员工不在数据库中" in done.stdout and "E404" in done.stdout
    with report.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["行", "列", "值", "原因", "代码"]
    assert rows[1][:3] == ["4", "工号", "E404"] and rows[1][4] == "unknown_employee"
    assert stored_contributions(env) == 0


def test_a_valid_file_is_imported_once_and_then_left_unchanged_in_english(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "good.csv", HEADER, GOOD)
    env = env | {"HRBOT_DEFAULT_LOCALE": "en"}

    dry = hrbot_import("contributions", str(path), "--dry-run", env=env)
    first = hrbot_import("contributions", str(path), "--seed", "1", env=env)
    again = hrbot_import("contributions", str(path), "--report", str(tmp_path / "r.csv"), env=env)

    assert dry.returncode == 0 and "would create 2" in dry.stdout
    assert first.returncode == 0, first.stderr
    assert "2 created, 0 updated, 0 unchanged" in first.stdout
    assert "Sample review" in first.stdout and "seed 1" in first.stdout
    assert again.returncode == 0
    assert "0 created, 0 updated, 2 unchanged" in again.stdout
    assert (tmp_path / "r.sample.csv").exists() and (tmp_path / "r.totals.csv").exists()
    assert stored_contributions(env) == 2


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["contributions", "missing.csv"], 2, "does not exist"),
        (["contributions", "{csv}", "--sheet", "x"], 2, "XLSX"),
        (["contributions", "{csv}", "--sample", "-1"], 2, "--sample"),
        (["salaries", "{csv}"], 2, "No such command"),
        (["contributions", "{xls}"], 1, ".xls"),
    ],
)
def test_usage_and_file_errors(
    env: dict[str, str], tmp_path: Path, args: list[str], code: int, says: str
) -> None:
    files = {
        "{csv}": str(write_csv(tmp_path / "a.csv", HEADER, GOOD)),
        "{xls}": str(tmp_path / "a.xls"),
    }
    (tmp_path / "a.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 60)

    done = hrbot_import(
        *[files.get(arg, arg) for arg in args], env=env | {"HRBOT_DEFAULT_LOCALE": "en"}
    )

    assert done.returncode == code
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unmigrated_database_is_named_not_a_traceback(tmp_path: Path) -> None:
    environment = dict(os.environ, HRBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    path = write_csv(tmp_path / "a.csv", HEADER, GOOD)

    done = hrbot_import("contributions", str(path), env=environment)

    assert done.returncode == 1
    assert "hrbot db upgrade" in done.stderr and "Traceback" not in done.stderr
