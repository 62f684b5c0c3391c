"""``hrbot keys rotate [--dry-run]``: seal stored personal information under the current key.

Rotating the encryption key: put the new key first in ``HRBOT_ENCRYPTION_KEY`` with the old one
after it (comma-separated; everything still opens), run ``hrbot keys rotate``, and once it
reports nothing left under an older key, remove the old key from the setting. Prints counts,
never values. A progress bar on stderr when a person watches. Exit codes: 0 done, 2 bad setting.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer

keys_app = typer.Typer(
    help="Encryption keys: re-seal data under the current one.", no_args_is_help=True
)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


@keys_app.command("rotate")
def rotate(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be sealed again; change nothing.")
    ] = False,
) -> None:
    """Seal ID/mobile numbers and documents again with HRBOT_ENCRYPTION_KEY's first key."""
    from bot import logs
    from bot.bootstrap import build
    from core.encryption import EncryptionKeyError
    from core.services import keys

    try:
        settings = logs.setup()
        services = build(settings)
    except (ValueError, EncryptionKeyError) as error:
        _fail(str(error), code=2)
    try:
        with _bar() as advance:
            result = keys.rotate(services.ctx, dry_run=dry_run, progress=advance)
    except EncryptionKeyError as error:  # a value sealed with a key no longer in the setting
        _fail(str(error), code=2)
    finally:
        services.close()
    verb = "would seal again (dry run, nothing changed)" if dry_run else "sealed again"
    typer.echo(f"current key: {result.key}")
    typer.echo(f"{verb}: {result.people} people (ID/mobile numbers), {result.documents} documents")
    if not dry_run:
        typer.echo(f"already under the current key: {result.current}")
    if result.missing:
        typer.echo(f"documents whose file is missing: {result.missing}")
    if not dry_run:
        typer.echo(
            "nothing is left under an older key: it can be removed from HRBOT_ENCRYPTION_KEY"
        )


@contextmanager
def _bar() -> Iterator[Callable[[int, int], None] | None]:
    if not sys.stderr.isatty():
        yield None
        return
    with typer.progressbar(length=1, label="documents", file=sys.stderr) as bar:

        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(1)

        yield advance
