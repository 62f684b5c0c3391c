"""The ``hrbot`` command line as an operator meets it: a real process, a real database file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli_support import hrbot


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    environment = dict(os.environ)
    environment.update(
        HRBOT_DATABASE_URL=f"sqlite:///{root / 'hrbot.db'}",
        HRBOT_DOCUMENTS_DIR=str(root / "documents"),
    )
    assert hrbot("db", "upgrade", env=environment).returncode == 0
    seeded = hrbot("db", "seed-demo", env=environment)
    assert seeded.returncode == 0 and "14 employees" in seeded.stdout
    return environment


def test_status_json_follows_the_contract(env: dict[str, str]) -> None:
    done = hrbot("status", "E1001", "--months", "3", "--json", env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"employee_no", "status", "months"}
    assert data["employee_no"] == "E1001"
    assert data["status"] in {"normal", "delayed", "lapsed"}
    assert len(data["months"]) == 3
    for month in data["months"]:
        assert set(month) == {"period", "state", "due_date", "paid_date"}
    # In the demo organisation Zhang San's branch has its last two due months unpaid.
    assert data["status"] == "delayed"


def test_status_table_lists_six_months_by_default(env: dict[str, str]) -> None:
    done = hrbot("status", "E1003", env=env)
    assert done.returncode == 0
    assert len([line for line in done.stdout.splitlines() if line.startswith("  ")]) == 6


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("status", "E9999"), 1, "no employee"),
        (("status", "E1 001"), 1, "not an employee number"),
        (("status", "E1001", "--months", "abc"), 2, "--months"),
        (("status",), 2, "Missing argument"),
        (("escalate",), 2, "--now"),
        (("frobnicate",), 2, "No such command"),
    ],
)
def test_bad_input_gets_one_line_and_an_exit_code(
    env: dict[str, str], args: tuple[str, ...], code: int, says: str
) -> None:
    done = hrbot(*args, env=env)
    assert done.returncode == code
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_seed_demo_twice_loads_nothing_the_second_time(env: dict[str, str]) -> None:
    done = hrbot("db", "seed-demo", env=env)
    assert done.returncode == 0
    assert "not loaded" in done.stdout


def test_escalate_now_runs_one_sweep(env: dict[str, str]) -> None:
    done = hrbot("escalate", "--now", env=env)
    assert done.returncode == 0
    assert "0 fired" in done.stdout


def test_db_upgrade_reports_the_revision(env: dict[str, str], tmp_path: Path) -> None:
    done = hrbot("db", "upgrade", env=env)
    assert done.returncode == 0
    assert "database at revision" in done.stdout
