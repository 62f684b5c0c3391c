"""``hrbot audit verify`` as an operator runs it, on a migrated SQLite file holding the demo
organisation: exit 0 and the row count while the trail is whole; exit 1 naming the first row
that was changed or removed behind the application's back."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli_support import demo_env, hrbot


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("audit-cli")
    demo_env(root)
    return root / "hrbot.db"


def env_for(tmp_path: Path, seeded: Path) -> dict[str, str]:
    """A copy of the seeded database of this test's own, to tamper with."""
    copy = tmp_path / "hrbot.db"
    shutil.copy(seeded, copy)
    return {k: v for k, v in os.environ.items() if not k.startswith("HRBOT_")} | {
        "HRBOT_DATABASE_URL": f"sqlite:///{copy}",
        "HRBOT_DOCUMENTS_DIR": str(tmp_path / "documents"),
    }


def rows(database: Path) -> list[int]:
    with closing(sqlite3.connect(database)) as db:
        return [row[0] for row in db.execute("SELECT id FROM audit_log ORDER BY id")]


def tamper(database: Path, statement: str, *params: object) -> None:
    """What someone with the file and the sqlite3 shell could do: lift the guard, change the
    trail, put the guard back."""
    with closing(sqlite3.connect(database)) as db:
        kept = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in kept:
            db.execute(f"DROP TRIGGER {name}")
        db.execute(statement, params)
        for _, sql in kept:
            db.execute(sql)
        db.commit()


def test_a_whole_trail_verifies_with_its_row_count(tmp_path: Path, seeded: Path) -> None:
    env = env_for(tmp_path, seeded)
    count = len(rows(tmp_path / "hrbot.db"))
    assert count > 5  # the demo organisation's history is audited
    done = hrbot("audit", "verify", env=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{count} rows, chain intact\n", "")
    done = hrbot("audit", "verify", "--json", env=env)
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"rows": count, "intact": True, "break": None}


def test_a_changed_row_is_named_and_exits_1(tmp_path: Path, seeded: Path) -> None:
    env = env_for(tmp_path, seeded)
    database = tmp_path / "hrbot.db"
    target = rows(database)[3]
    tamper(database, "UPDATE audit_log SET actor = 'E9999' WHERE id = ?", target)
    done = hrbot("audit", "verify", env=env)
    assert done.returncode == 1
    assert done.stdout == (
        f"chain broken after 3 intact rows: row {target}: content changed "
        "(its hash does not match what it holds)\n"
    )


def test_a_removed_row_is_found_at_the_gap(tmp_path: Path, seeded: Path) -> None:
    env = env_for(tmp_path, seeded)
    database = tmp_path / "hrbot.db"
    ids = rows(database)
    tamper(database, "DELETE FROM audit_log WHERE id = ?", ids[1])
    done = hrbot("audit", "verify", "--json", env=env)
    assert done.returncode == 1
    found = json.loads(done.stdout)
    assert (found["rows"], found["intact"]) == (1, False)
    assert (found["break"]["kind"], found["break"]["row_id"]) == ("row_missing", ids[2])


def test_the_trail_cannot_be_changed_through_sql(tmp_path: Path, seeded: Path) -> None:
    env_for(tmp_path, seeded)
    with closing(sqlite3.connect(tmp_path / "hrbot.db")) as db:
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(statement)


def test_an_old_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRBOT_")}
    env["HRBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    done = hrbot("audit", "verify", env=env)
    assert done.returncode == 1
    assert done.stderr.startswith("hrbot: the database is not at the latest schema")
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""
