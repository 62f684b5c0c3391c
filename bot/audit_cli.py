"""``hrbot audit verify [--json]``: checks the audit trail's hash chain from its first row to its
last and names the first row that was changed, removed or re-linked.

Exit 0 with "N rows, chain intact"; exit 1 with the first break (the row id and what is wrong:
content changed, rows missing, chain re-linked), or when the database cannot be read. On a
terminal, long trails show a progress bar on stderr. The core loads only once the command runs,
so ``--help`` is fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from core.services.audit_trail import Verdict

PROGRESS_FROM = 20_000
"""Trails shorter than this are checked in about a second: no bar."""

audit_app = typer.Typer(
    help="The audit trail: check that no row was changed, removed or re-linked.",
    no_args_is_help=True,
)


@audit_app.command("verify")
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Walk the audit trail's hash chain in id order; exit 1 at the first broken row."""
    from bot.bootstrap import build
    from core.persistence.migrate import is_up_to_date
    from core.services import audit_trail

    try:
        services = build()
    except ValueError as error:  # settlement gateways configured by half
        _fail(str(error), code=2)
    try:
        if not is_up_to_date(services.db.engine):
            _fail("the database is not at the latest schema: run `hrbot db upgrade` first")
        with _progress(lambda: audit_trail.trail_length(services.ctx)) as advance:
            verdict = audit_trail.verify_trail(services.ctx, advance)
    finally:
        services.close()
    typer.echo(json.dumps(as_dict(verdict), ensure_ascii=False) if as_json else as_text(verdict))
    if not verdict.intact:
        raise typer.Exit(1)


def as_text(verdict: Verdict) -> str:
    if verdict.broken is None:
        return f"{verdict.rows} rows, chain intact"
    return f"chain broken after {verdict.rows} intact rows: {verdict.broken.message}"


def as_dict(verdict: Verdict) -> dict[str, Any]:
    broken = verdict.broken
    return {
        "rows": verdict.rows,
        "intact": verdict.intact,
        "break": None
        if broken is None
        else {
            "kind": str(broken.kind),
            "row_id": broken.row_id,
            "seq": broken.seq,
            "message": broken.message,
        },
    }


@contextmanager
def _progress(length: Callable[[], int]) -> Iterator[Callable[[int], None] | None]:
    """A bar on stderr when a person watches a long walk; nothing otherwise (no count query)."""
    if not sys.stderr.isatty():
        yield None
        return
    total = length()
    if total < PROGRESS_FROM:
        yield None
        return
    with typer.progressbar(length=total, label="verifying", file=sys.stderr) as bar:
        yield bar.update


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)
