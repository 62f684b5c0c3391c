"""``hrbot backup`` / ``hrbot restore`` as an operator meets them: real processes over a real
SQLite file holding the demo organisation, written to by another connection meanwhile."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from core.persistence.engine import make_engine
from core.persistence.migrate import head_revision, upgrade
from tests.cli_support import demo_env, hrbot

OLDER_REVISION = "0010"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated demo database, copied for each test (seeding it takes seconds)."""
    root = tmp_path_factory.mktemp("backup-seed")
    demo_env(root)
    return root


@pytest.fixture
def env(seeded: Path, tmp_path: Path) -> dict[str, str]:
    root = tmp_path / "live"
    shutil.copytree(seeded, root)  # the database with its -wal/-shm companions
    return {k: v for k, v in os.environ.items() if not k.startswith("HRBOT_")} | {
        "HRBOT_DATABASE_URL": f"sqlite:///{root / 'hrbot.db'}",
        "HRBOT_DOCUMENTS_DIR": str(root / "documents"),
    }


def database(env: dict[str, str]) -> Path:
    return Path(env["HRBOT_DATABASE_URL"].removeprefix("sqlite:///"))


def ok(env: dict[str, str], *args: str) -> str:
    done = hrbot(*args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def refused(env: dict[str, str], code: int, says: str, *args: str) -> None:
    done = hrbot(*args, env=env)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def no_partial_files(folder: Path) -> bool:
    return not [path for path in folder.rglob("*") if ".partial-" in path.name]


def test_backup_during_an_open_write_transaction_restores_the_committed_state(
    env: dict[str, str], tmp_path: Path
) -> None:
    before = ok(env, "status", "E1001")
    assert "delayed" in before.splitlines()[0]
    with closing(sqlite3.connect(database(env), isolation_level=None, timeout=30)) as other:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE contributions SET paid_date = due_date WHERE paid_date IS NULL")
        written = ok(env, "backup", str(tmp_path / "hrbot.backup"))
        other.execute("COMMIT")
    assert "database backup written" in written
    assert "employees 14" in written
    assert ok(env, "status", "E1001") != before  # the arrears are paid in the live database

    database(env).write_bytes(b"this is no longer a database" * 200)
    assert hrbot("status", "E1001", env=env).returncode != 0

    restored = ok(env, "restore", str(tmp_path / "hrbot.backup"), "--force")
    assert "previous database kept as" in restored
    assert list(database(env).parent.glob("hrbot.db.before-restore-*"))
    assert ok(env, "status", "E1001") == before  # the transaction open during the backup: not in it


def test_backup_while_rows_are_written_is_one_snapshot(env: dict[str, str], tmp_path: Path) -> None:
    stop = threading.Event()

    def write_pairs() -> None:
        # Every transaction adds two rows: a copy holding an odd number would be torn.
        with closing(sqlite3.connect(database(env), isolation_level=None, timeout=30)) as db:
            while not stop.is_set():
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO probe (n) VALUES (1), (2)")
                db.execute("COMMIT")

    with closing(sqlite3.connect(database(env), isolation_level=None)) as db:
        db.execute("CREATE TABLE probe (n INTEGER)")
        db.execute("INSERT INTO probe (n) VALUES (1), (2)")
    writer = threading.Thread(target=write_pairs)
    writer.start()
    try:
        ok(env, "backup", str(tmp_path / "copy.db"))
    finally:
        stop.set()
        writer.join()
    with closing(sqlite3.connect(tmp_path / "copy.db")) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (rows,) = copy.execute("SELECT count(*) FROM probe").fetchone()
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert rows >= 2 and rows % 2 == 0
    assert no_partial_files(tmp_path)


def test_documents_round_trip(env: dict[str, str], tmp_path: Path) -> None:
    documents = Path(env["HRBOT_DOCUMENTS_DIR"])
    stored = {
        "claims/7/admission.pdf": b"%PDF-1.4 admission",
        "claims/7/bill.jpg": bytes(range(256)) * 40,
        "records/E1001/voucher.pdf": b"%PDF-1.4 voucher",
    }
    for key, content in stored.items():
        (documents / key).parent.mkdir(parents=True, exist_ok=True)
        (documents / key).write_bytes(content)
    (documents / "claims/7/.upload-half").write_bytes(b"half an upload")
    backup = tmp_path / "hrbot.backup"

    written = ok(env, "backup", str(backup), "--with-documents")
    assert f"hrbot.backup.documents.tar.gz ({len(stored)} files" in written

    shutil.rmtree(documents)
    restored = ok(env, "restore", str(backup), "--with-documents", "--force")
    assert f"documents restored: {len(stored)} files" in restored
    found = {
        path.relative_to(documents).as_posix(): path.read_bytes()
        for path in documents.rglob("*")
        if path.is_file()
    }
    assert found == stored

    (documents / "claims/7/new.pdf").write_bytes(b"after the backup")
    elsewhere = env | {"HRBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.db'}"}
    refused(elsewhere, 2, "is not empty", "restore", str(backup), "--with-documents")
    assert not (tmp_path / "elsewhere.db").exists()
    ok(env, "restore", str(backup), "--with-documents", "--force")
    assert not (documents / "claims/7/new.pdf").exists()
    (kept,) = documents.parent.glob("documents.before-restore-*")
    assert (kept / "claims/7/new.pdf").read_bytes() == b"after the backup"


def test_an_older_backup_is_migrated_to_head(env: dict[str, str], tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{old}")
    upgrade(engine, OLDER_REVISION)
    engine.dispose()
    backup = tmp_path / "old.backup"
    ok(env | {"HRBOT_DATABASE_URL": f"sqlite:///{old}"}, "backup", str(backup))

    fresh = env | {"HRBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'new' / 'hrbot.db'}"}
    restored = ok(fresh, "restore", str(backup))
    assert f"migrated from revision {OLDER_REVISION} to {head_revision()}" in restored
    assert "kept as" not in restored  # nothing was there to keep
    assert f"database at revision {head_revision()}" in ok(fresh, "db", "upgrade")


def test_refusals_change_nothing(env: dict[str, str], tmp_path: Path) -> None:
    backup = tmp_path / "hrbot.backup"
    backup.write_bytes(b"an older backup")
    refused(env, 2, "exists: pass --force", "backup", str(backup))
    assert backup.read_bytes() == b"an older backup"

    ok(env, "backup", str(backup), "--force")
    live = database(env).read_bytes()
    refused(env, 2, "exists: pass --force", "restore", str(backup))

    text = tmp_path / "notes.txt"
    text.write_text("employee_no,name\nE1001,张三\n")
    refused(env, 1, "not an SQLite database", "restore", str(text), "--force")
    stranger = tmp_path / "other.db"
    with closing(sqlite3.connect(stranger)) as db:
        db.execute("CREATE TABLE t (x)")
    refused(env, 1, "not an hrbot backup", "restore", str(stranger), "--force")
    refused(env, 1, "no documents archive", "restore", str(backup), "--with-documents", "--force")
    assert database(env).read_bytes() == live
    assert not list(database(env).parent.glob("*.before-restore-*"))
    assert no_partial_files(tmp_path) and no_partial_files(database(env).parent)


def test_a_corrupt_database_writes_no_backup(env: dict[str, str], tmp_path: Path) -> None:
    database(env).write_bytes(b"garbage" * 1000)
    refused(env, 1, "cannot copy", "backup", str(tmp_path / "hrbot.backup"))
    assert not (tmp_path / "hrbot.backup").exists()
    assert no_partial_files(tmp_path)


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgresql_is_pointed_to_pg_dump(
    env: dict[str, str], tmp_path: Path, command: str
) -> None:
    postgres = env | {"HRBOT_DATABASE_URL": "postgresql+psycopg://hrbot@127.0.0.1:1/hrbot"}
    (tmp_path / "x.backup").write_bytes(b"")
    refused(postgres, 2, "pg_dump -Fc", command, str(tmp_path / "x.backup"))
