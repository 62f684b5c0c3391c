"""The file work behind ``hrbot backup`` / ``hrbot restore``: SQLite snapshots through the online
backup API, a look inside a copy, the documents archive, and the "write beside, then rename"
and "keep the old one aside" moves. No Typer here: ``bot.backup_cli`` turns errors into messages.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tarfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"
KEY_TABLES = ("employees", "contributions", "claims", "claim_documents", "alerts", "outbox")
"""Counted after a backup or a restore, so the operator sees at a glance that data came along."""

ARCHIVE_SUFFIX = ".documents.tar.gz"
PARTIAL_UPLOAD = ".upload-"
"""The document store's temporary files (half-written uploads): never archived."""

Advance = Callable[[], None]


class BackupError(Exception):
    """A backup or a restore cannot go on; the message is for the operator, in one line."""


@dataclass(frozen=True)
class Summary:
    revision: str | None
    counts: dict[str, int]


def archive_path(backup: Path) -> Path:
    """Where ``--with-documents`` puts the documents: beside the database copy."""
    return backup.with_name(backup.name + ARCHIVE_SUFFIX)


@contextmanager
def staged(destination: Path) -> Iterator[Path]:
    """A temporary path beside ``destination`` (same file system, so the final rename is atomic);
    whatever is left there when the block ends, by error or interruption, is removed."""
    temporary = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    try:
        yield temporary
    finally:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)


def _read_only(path: Path) -> sqlite3.Connection:
    # A URI with mode=ro: a backup never writes to its source, and a missing file is an error
    # rather than a new empty database.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def copy_database(source: Path, destination: Path) -> None:
    """Copy ``source`` into the new file ``destination`` with SQLite's online backup API."""
    try:
        with closing(_read_only(source)) as reader, closing(sqlite3.connect(destination)) as copy:
            # All pages in one step, i.e. one read transaction: a consistent snapshot however
            # many processes write meanwhile (in WAL mode they are not even held up).
            reader.backup(copy)
            # The copy stands alone: no -wal/-shm files beside it whoever opens it later.
            copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as error:
        raise BackupError(f"cannot copy {source}: {error}") from None


def inspect(path: Path) -> Summary:
    """Integrity check, Alembic revision and key row counts of an SQLite file."""
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not an SQLite database")
    try:
        with closing(_read_only(path)) as db:
            problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{path} fails the integrity check: {problems[0]}")
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            revision = None
            if "alembic_version" in tables:
                row = db.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
            counts = {
                # Names from KEY_TABLES only, never from input.
                table: db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                for table in KEY_TABLES
                if table in tables
            }
    except sqlite3.Error as error:
        raise BackupError(f"{path} is not a usable SQLite database: {error}") from None
    return Summary(revision, counts)


def documents_in(root: Path) -> list[Path]:
    """The stored documents under ``root``, without half-written uploads."""
    if not root.is_dir():
        return []
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith(PARTIAL_UPLOAD)
    )


def archive_documents(root: Path, files: list[Path], into: Path, advance: Advance) -> int:
    """Write ``files`` (paths under ``root``) into the new gzip tar ``into``; returns the bytes
    archived (before compression)."""
    size = 0
    with tarfile.open(into, "w:gz") as tar:
        for file in files:
            tar.add(file, arcname=file.relative_to(root).as_posix(), recursive=False)
            size += file.stat().st_size
            advance()
    with into.open("rb") as handle:
        os.fsync(handle.fileno())
    return size


def archive_members(archive: Path) -> list[tarfile.TarInfo]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            return tar.getmembers()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"{archive} is not a documents archive: {error}") from None


def extract_documents(archive: Path, into: Path, advance: Advance) -> int:
    """Unpack the archive into the new folder ``into``; returns the number of files."""
    into.mkdir(mode=0o700)
    files = 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                # The "data" filter refuses absolute paths, ``..`` and links leading outside.
                tar.extract(member, into, filter="data")
                files += member.isfile()
                advance()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"cannot unpack {archive}: {error}") from None
    return files


def has_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def move_aside(path: Path, stamp: str) -> Path:
    """Rename ``path`` to ``<name>.before-restore-<stamp>`` (numbered if taken); a database keeps
    its -wal/-shm companions, renamed alike, so the kept copy still opens with its last commits."""
    base = path.with_name(f"{path.name}.before-restore-{stamp}")
    kept, number = base, 1
    while kept.exists():
        number += 1
        kept = base.with_name(f"{base.name}-{number}")
    for suffix in ("-wal", "-shm", ""):
        # Also a -wal left without its database: SQLite would replay it onto the restored file.
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.replace(kept.with_name(kept.name + suffix))
    return kept


def database_files(path: Path) -> list[Path]:
    """The database file and its -wal/-shm companions that exist."""
    names = (path.name, path.name + "-wal", path.name + "-shm")
    return [path.with_name(name) for name in names if path.with_name(name).exists()]
