"""``hrbot backup PATH`` and ``hrbot restore PATH``: copies of the SQLite database (and, with
``--with-documents``, of the documents folder as ``PATH.documents.tar.gz``) that can be taken
while the web app and the workers run.

The database is copied with SQLite's online backup API in one read transaction, so the copy is
consistent; every file is written beside its destination and renamed at the end, so a path never
holds half a backup. The database is copied before the documents: documents are written before
the rows that name them, so the archive holds every document the copy refers to.

``restore`` checks the file first (SQLite, hrbot's schema, integrity), keeps what it replaces as
``<name>.before-restore-<timestamp>``, and migrates an older backup to head. Stop the app and the
workers before restoring: they hold the old file open.

PostgreSQL is refused with exit 2: ``pg_dump -Fc`` / ``pg_restore --clean`` (README, "Backups").
Errors: one line on stderr; exit 2 for bad usage, 1 for bad data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from bot import backup_files as files
from bot.backup_files import Advance, BackupError, Summary

if TYPE_CHECKING:
    from bot.settings import Settings

PG_RECIPE = 'for PostgreSQL use pg_dump -Fc and pg_restore --clean (README, "Backups")'

Force = Annotated[bool, typer.Option("--force", help="Replace what is already there.")]
WithDocuments = Annotated[
    bool,
    typer.Option("--with-documents", help="Also the documents folder, as PATH.documents.tar.gz."),
]


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the top-level ``hrbot`` app."""
    app.command("backup")(backup)
    app.command("restore")(restore)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


def backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write.", dir_okay=False)],
    force: Force = False,
    with_documents: WithDocuments = False,
) -> None:
    """Copy the SQLite database (consistently, even while hrbot runs) to PATH."""
    settings, database = _sqlite_database("backup")
    if not database.is_file():
        _fail(f"no database at {database}")
    if path.resolve() == database.resolve():
        _fail("PATH is the database itself", code=2)
    archive = files.archive_path(path) if with_documents else None
    for target in (path, archive):
        if target is not None and target.exists() and not force:
            _fail(f"{target} exists: pass --force to overwrite it", code=2)
    if not path.parent.is_dir():
        _fail(f"no such folder: {path.parent}", code=2)
    try:
        with files.staged(path) as temporary:
            files.copy_database(database, temporary)
            summary = files.inspect(temporary)
            temporary.replace(path)
        typer.echo(f"database backup written: {path} ({_size(path.stat().st_size)})")
        _echo_summary(summary)
        if archive is not None:
            _backup_documents(settings.documents_dir, archive)
    except BackupError as error:
        _fail(str(error))


def restore(
    path: Annotated[Path, typer.Argument(help="A file written by `hrbot backup`.", dir_okay=False)],
    force: Force = False,
    with_documents: WithDocuments = False,
) -> None:
    """Replace the SQLite database with the backup at PATH, then migrate it to head."""
    settings, database = _sqlite_database("restore")
    if not path.is_file():
        _fail(f"no backup at {path}")
    if path.resolve() == database.resolve():
        _fail("PATH is the database itself", code=2)
    documents = settings.documents_dir.resolve()
    archive = files.archive_path(path) if with_documents else None
    try:
        summary = _checked(path, archive)
        if files.database_files(database) and not force:
            _fail(f"{database} exists: pass --force to replace it (it is kept aside)", code=2)
        if archive is not None and files.has_files(documents) and not force:
            _fail(f"{documents} is not empty: pass --force to replace it (it is kept aside)", 2)
        restored = _put_in_place(path, database, archive, documents)
    except BackupError as error:
        _fail(str(error))
    typer.echo(f"database restored from {path}")
    _echo_summary(summary)
    if archive is not None:
        typer.echo(f"documents restored: {restored} files into {documents}")
    _migrate(settings.database_url, summary.revision)


def _put_in_place(backup: Path, database: Path, archive: Path | None, documents: Path) -> int:
    """Unpack beside the live files, then swap them in, keeping the old ones aside; returns
    the number of documents restored."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    database.parent.mkdir(parents=True, exist_ok=True)
    documents.parent.mkdir(parents=True, exist_ok=True)
    restored = 0
    with files.staged(database) as staged_db, files.staged(documents) as staged_docs:
        # Everything is unpacked first, so a bad archive changes nothing in place.
        files.copy_database(backup, staged_db)
        if archive is not None:
            with _progress(len(files.archive_members(archive)), "documents") as advance:
                restored = files.extract_documents(archive, staged_docs, advance)
        if files.database_files(database):
            typer.echo(f"previous database kept as {files.move_aside(database, stamp)}")
        staged_db.replace(database)
        if archive is not None:
            if files.has_files(documents):
                typer.echo(f"previous documents kept as {files.move_aside(documents, stamp)}")
            elif documents.is_dir():
                documents.rmdir()
            staged_docs.replace(documents)
    return restored


def _sqlite_database(command: str) -> tuple[Settings, Path]:
    """The settings and the database file; refuses anything but an SQLite file (exit 2)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from bot.settings import Settings

    settings = Settings()
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        _fail("HRBOT_DATABASE_URL is not a database URL", code=2)
    backend = url.get_backend_name()
    if backend != "sqlite":
        _fail(f"hrbot {command} works on SQLite only, this database is {backend}: {PG_RECIPE}", 2)
    name = url.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        _fail(f"HRBOT_DATABASE_URL names no SQLite file to {command}", code=2)
    return settings, Path(name).resolve()


def _checked(path: Path, archive: Path | None) -> Summary:
    """What is inside a backup, once it is known to be an hrbot database this hrbot can read."""
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    from core.persistence.migrate import alembic_config, head_revision

    summary = files.inspect(path)
    if summary.revision is None:
        raise BackupError(f"{path} is not an hrbot backup (no alembic_version)")
    try:
        ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(summary.revision)
    except CommandError:
        raise BackupError(
            f"{path} is at revision {summary.revision}, unknown to this hrbot "
            f"(head {head_revision()}): restore it with a newer hrbot"
        ) from None
    if archive is not None and not archive.is_file():
        raise BackupError(f"no documents archive at {archive}")
    return summary


def _migrate(url: str, revision: str | None) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from core.persistence.engine import make_engine
    from core.persistence.migrate import current_revision, head_revision, upgrade

    if revision == head_revision():
        return
    engine = make_engine(url)
    try:
        upgrade(engine)
        typer.echo(f"migrated from revision {revision} to {current_revision(engine)}")
    except SQLAlchemyError as error:
        _fail(f"restored, but migrating it failed: {' '.join(str(error).split())[:300]}")
    finally:
        engine.dispose()


def _backup_documents(root: Path, archive: Path) -> None:
    found = files.documents_in(root)
    with files.staged(archive) as temporary, _progress(len(found), "documents") as advance:
        size = files.archive_documents(root, found, temporary, advance)
        temporary.replace(archive)
    archived = archive.stat().st_size
    typer.echo(
        f"documents archive written: {archive} ({len(found)} files, "
        f"{_size(size)}, {_size(archived)} compressed)"
    )


def _echo_summary(summary: Summary) -> None:
    counts = ", ".join(f"{table} {count}" for table, count in summary.counts.items())
    typer.echo(f"  revision {summary.revision or '-'}; rows: {counts}")


@contextmanager
def _progress(total: int, label: str) -> Iterator[Advance]:
    """A bar on stderr when it is a terminal; piped or logged, the summary line is enough."""
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal or total == 0:
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


def _size(count: float) -> str:
    if count < 1024:
        return f"{count:.0f} B"
    for unit in ("KB", "MB"):
        count /= 1024
        if count < 1024:
            return f"{count:.1f} {unit}"
    return f"{count / 1024:.1f} GB"
