"""``hrbot roster build|show --period YYYY-MM``: the month's contribution batches per branch.

``build`` does what the worker does on ``HRBOT_ROSTER_DAY`` (and HR's ``/roster`` in chat) for
the named branches: a new or changed roster becomes a batch version that HR must check again,
an approved batch is never changed (the difference is reported instead). Running it twice
changes nothing the second time. ``show`` lists the batches and their states.

Errors: one line on stderr; exit 2 for a bad ``--period``, 1 for an unknown branch.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from core.domain.periods import Period
    from core.services.roster import RosterOutcome

roster_app = typer.Typer(
    help="The monthly contribution roster: build a month's batches, or show them.",
    no_args_is_help=True,
)

PeriodOpt = Annotated[str, typer.Option("--period", help="The month, YYYY-MM.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"hrbot: {message}", err=True)
    raise typer.Exit(code)


def _period(text: str) -> Period:
    from core.domain.errors import InvalidValue
    from core.domain.periods import Period

    try:
        return Period.parse(text)
    except InvalidValue:
        _fail(f"--period must be a month like 2026-11, got {text!r}", code=2)


def _services() -> Any:
    from bot.bootstrap import build

    try:
        return build()
    except ValueError as error:  # settlement gateways configured by half
        _fail(str(error), code=2)


@roster_app.command("build")
def build_command(
    period: PeriodOpt,
    branch: Annotated[
        list[str] | None,
        typer.Option("--branch", help="Branch code; repeat for several (default: every branch)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Build the month's roster: one batch per branch, sent to HR to check."""
    from core.services.roster import build_roster, describe

    month = _period(period)
    services = _services()
    try:
        outcomes = build_roster(services.ctx, month, branch or None, channel="cli")
    finally:
        services.close()
    if as_json:
        data = {"period": str(month), "branches": [describe(o) for o in outcomes]}
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    for outcome in outcomes:
        typer.echo(outcome_line(outcome))


def outcome_line(outcome: RosterOutcome) -> str:
    """``SH01  created    4 people  增员 1  减员 0  转移 +0/-0  total 12345.60``."""
    line = (
        f"{outcome.branch_code:<6} {outcome.action:<9} {outcome.headcount:>4} people  "
        f"增员 {outcome.joiners}  减员 {outcome.leavers}  "
        f"转移 +{outcome.transfers_in}/-{outcome.transfers_out}  total {outcome.total}"
    )
    if outcome.action == "kept" and outcome.differences:
        line += f"  — {outcome.differences} lines differ — approved batches are never changed"
    return line


@roster_app.command("show")
def show_command(
    period: PeriodOpt,
    branch: Annotated[str | None, typer.Option("--branch", help="Only this branch.")] = None,
    as_json: AsJson = False,
) -> None:
    """List the month's batches: version, state, head count, total and due date."""
    month = _period(period)
    services = _services()
    try:
        rows = _batch_rows(services.ctx, month, branch)
    finally:
        services.close()
    if as_json:
        typer.echo(json.dumps({"period": str(month), "batches": rows}, ensure_ascii=False))
        return
    if not rows:
        typer.echo(f"no batches for {month}")
    for row in rows:
        typer.echo(
            f"{row['branch']:<6} v{row['version']:<3} {row['state']:<16} "
            f"{row['headcount']:>4} people  total {row['total']}  due {row['due_date']}"
        )


def _batch_rows(ctx: Any, month: Period, branch: str | None) -> list[dict[str, Any]]:
    from core.domain.errors import NotFound

    with ctx.uow() as uow:
        branches = {b.id: b for b in uow.directory.branches()}
        if branch is not None and not any(b.code == branch for b in branches.values()):
            raise NotFound(f"no branch with code {branch!r}", kind="branch", code=branch)
        rows = [
            {
                "branch": branches[branch_id].code,
                "batch_id": batch.id,
                "version": batch.version,
                "state": str(batch.state),
                "headcount": batch.headcount,
                "total": str(batch.total),
                "due_date": batch.due_date.isoformat(),
            }
            for branch_id, batch in uow.batches.of_period(month).items()
            if branch is None or branches[branch_id].code == branch
        ]
    return sorted(rows, key=lambda row: str(row["branch"]))
