"""``hrbot purge --dry-run|--apply``: remove personal information past its retention (PIPL).

Retention per kind comes from the settings (``HRBOT_RETAIN_DOCUMENTS_DAYS``,
``HRBOT_RETAIN_WEB_MESSAGES_DAYS``, ``HRBOT_RETAIN_LEAVERS_DAYS``); what each kind covers, and
what always stays (claims, contributions, the audit trail, receipts and vouchers), is written in
core/domain/retention.py and the README. ``--dry-run`` prints how many of each kind would go and
changes nothing; ``--apply`` removes them, writes one audit row per deletion and logs each one
(ids and kinds only) on stderr. Both print counts, never contents.

Run it from cron or a systemd timer; it is idempotent and two runs at once do no harm.
Exit codes: 0 done, 1 some files could not be deleted (logged; the next run retries), 2 bad usage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from core.domain.retention import PurgeCounts, Retention


def register(app: typer.Typer) -> None:
    """Add ``purge`` to the top-level ``hrbot`` app."""
    app.command("purge")(purge)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be removed; change nothing.")
    ] = False,
    apply: Annotated[
        bool, typer.Option("--apply", help="Remove it, with an audit row for each deletion.")
    ] = False,
) -> None:
    """Remove claim documents, web chat messages and leavers' ID/mobile numbers past retention."""
    if dry_run == apply:
        _fail("say --dry-run (count only) or --apply (remove)", code=2)
    from bot import logs
    from bot.bootstrap import build
    from core.services.purge import apply_purge, plan_purge

    try:
        settings = logs.setup()
        services = build(settings)
    except ValueError as error:  # a bad HRBOT_ setting, in one line
        _fail(str(error), code=2)
    try:
        retention = services.ctx.rules.retention
        if dry_run:
            _print("would remove (dry run, nothing changed):", plan_purge(services.ctx), retention)
            return
        result = apply_purge(services.ctx)
    finally:
        services.close()
    _print("removed:", result.removed, retention)
    if result.failed:
        _fail(f"{result.failed} documents kept: their files could not be deleted (see log)", 1)


def _print(title: str, counts: PurgeCounts, retention: Retention) -> None:
    from core.domain.retention import PurgeKind

    rows = (
        (
            PurgeKind.CLAIM_DOCUMENT,
            "claim documents",
            f"claims closed more than {retention.documents_days} days ago",
        ),
        (
            PurgeKind.WEB_MESSAGES,
            "web chat messages",
            f"older than {retention.web_messages_days} days",
        ),
        (
            PurgeKind.LEAVER_DATA,
            "leavers' ID/mobile",
            f"people who left more than {retention.leaver_days} days ago",
        ),
    )
    typer.echo(title)
    for kind, label, why in rows:
        typer.echo(f"  {label:<18} {counts.counts.get(kind, 0):>7}  ({why})")
    typer.echo(f"  {'document files':<18} {counts.files:>7}")
