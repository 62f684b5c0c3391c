"""The HR dashboard's read side: branch overview, branch page, alerts and claims, scoped.

Each use case runs in one unit of work and returns frozen values (core/domain/dashboard.py).
``scope`` is the set of branch ids the viewer may see (``None``: every branch); anything
outside it is reported as not found, so a viewer cannot learn what exists elsewhere.
An employee's status always comes from ``core.domain.contributions.evaluate``, the rule that
``hrbot status`` and the bot use, over the same window the claim check uses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from core.domain.claims import ClaimState
from core.domain.contributions import ContributionRecord, Status, evaluate
from core.domain.dashboard import (
    STATUS_SEVERITY,
    AlertFigures,
    AlertRow,
    BranchFacts,
    BranchPage,
    BranchRow,
    ClaimDetail,
    ClaimRow,
    EmployeeLine,
    Overview,
    Progress,
    branch_row,
)
from core.domain.directory import STAFF_ROLES, Employee
from core.domain.errors import InvalidValue, NotFound
from core.domain.escalation import AlertState
from core.domain.periods import Period
from core.services.context import Context
from core.services.scope import branches_in_scope

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

Scope = set[int] | None
UNRESOLVED = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
MAX_PER_PAGE = 500


def scope_for(ctx: Context, employee_id: int | None, admin: bool) -> Scope:
    """The branches a dashboard viewer may see: all for an admin, else by role and duty, with
    the branches of anyone away today for whom the viewer stands in."""
    if admin:
        return None
    if employee_id is None:
        return set()
    with ctx.uow() as uow:
        try:
            viewer = uow.directory.employee(employee_id)
        except NotFound:
            return set()
        gone = viewer.leave_date is not None and viewer.leave_date < ctx.today()
        if gone or viewer.role not in STAFF_ROLES:
            return set()  # plain employees and people who have left see no branch
        return branches_in_scope(uow, viewer, ctx.today())


def overview(
    ctx: Context, scope: Scope, region: str | None = None, progress: str | None = None
) -> Overview:
    """Every branch in scope with this month's batch progress, people and alerts."""
    wanted = _choice(progress, [str(p) for p in Progress], "progress")
    today = ctx.today()
    with ctx.uow() as uow:
        branches = uow.dashboard.branches(scope)
        shown = [b for b in branches if region is None or b.region == region]
        # Every branch: no id list at all, so the grouped queries filter on nothing.
        every = scope is None and region is None
        rows = _rows(ctx, uow, shown, today, None if every else {b.id for b in shown})
    regions = tuple(sorted({b.region for b in branches if b.region}))
    rows = [row for row in rows if wanted is None or row.progress == wanted]
    return Overview(today, Period.of(today), regions, tuple(sorted(rows, key=BranchRow.sort_key)))


def branch_page(
    ctx: Context,
    scope: Scope,
    branch_id: int,
    status: str | None = None,
    page: int = 1,
    per_page: int = 100,
) -> BranchPage:
    """One branch: its overview row, its people's status (worst first, paged), the batch lines."""
    wanted = _choice(status, [str(s) for s in Status], "status")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidValue("page must be 1 or more, per_page 1 to 500", field="page")
    today = ctx.today()
    current = Period.of(today)
    since = current.shift(-(ctx.rules.claim_check_months - 1))
    with ctx.uow() as uow:
        branch = _visible_branch(uow, scope, branch_id)
        (row,) = _rows(ctx, uow, [branch], today, {branch.id})
        lines = uow.dashboard.batch_lines(row.batch_id) if row.batch_id is not None else ()
        records = uow.dashboard.records(branch_id, since, current)
        people = [
            _employee_line(ctx, person, department, records.get(person.id, ()), today)
            for person, department in uow.dashboard.people(branch_id, since, current)
        ]
    counts = {str(s): 0 for s in Status}
    for person in people:
        counts[person.status] += 1
    chosen = sorted(
        (p for p in people if wanted is None or p.status == wanted),
        key=lambda p: (STATUS_SEVERITY[Status(p.status)], p.employee_no),
    )
    start = (page - 1) * per_page
    shown = tuple(chosen[start : start + per_page])
    return BranchPage(row, counts, shown, len(chosen), page, per_page, lines)


def alert_list(ctx: Context, scope: Scope, state: str | None = None) -> tuple[AlertRow, ...]:
    """Alerts in scope, unresolved unless ``state`` says otherwise (``all`` for every one)."""
    if state is None:
        states: Sequence[AlertState] | None = UNRESOLVED
    elif state == "all":
        states = None
    else:
        _choice(state, [str(s) for s in AlertState], "state")
        states = [AlertState(state)]
    with ctx.uow() as uow:
        return tuple(uow.dashboard.alerts(scope, states))


def alert_detail(ctx: Context, scope: Scope, alert_id: int) -> AlertRow:
    with ctx.uow() as uow:
        found = uow.dashboard.alerts(scope, None, alert_id)
    if not found:
        raise NotFound(f"no alert {alert_id}", kind="alert")
    return found[0]


def claim_list(
    ctx: Context, scope: Scope, state: str | None = None, limit: int = 200
) -> tuple[ClaimRow, ...]:
    """Claims of people in scope, newest first."""
    chosen = _choice(state, [str(s) for s in ClaimState], "state")
    if not 1 <= limit <= 1000:
        raise InvalidValue("limit must be 1 to 1000", field="limit")
    with ctx.uow() as uow:
        rows = uow.dashboard.claims(scope, ClaimState(chosen) if chosen else None, limit)
    return tuple(rows)


def claim_detail(ctx: Context, scope: Scope, claim_id: int) -> ClaimDetail:
    """One claim with its documents and its audit trail, oldest first."""
    with ctx.uow() as uow:
        found = uow.dashboard.claims(scope, claim_id=claim_id, limit=1)
        if not found:
            raise NotFound(f"no claim {claim_id}", kind="claim")
        documents = uow.dashboard.documents(claim_id)
        timeline = uow.dashboard.timeline("claim", claim_id)
    return ClaimDetail(found[0], documents, timeline)


def _rows(
    ctx: Context,
    uow: UnitOfWork,
    branches: Sequence[BranchFacts],
    today: date,
    ids: set[int] | None,
) -> list[BranchRow]:
    """Overview rows for ``branches`` (whose ids are ``ids``, None when they are all there
    are): five grouped queries, whatever their number."""
    if not branches:
        return []
    period = Period.of(today)
    since = period.shift(-(ctx.rules.claim_check_months - 1))
    batches = uow.dashboard.latest_batches(period, ids)
    headcounts = uow.dashboard.headcounts(today, ids)
    affected = uow.dashboard.affected(since, period, today, ids)
    alerts = uow.dashboard.alert_figures(ids)
    return [
        branch_row(
            b,
            batches.get(b.id),
            period,
            today,
            (headcounts.get(b.id, 0), affected.get(b.id, 0)),
            alerts.get(b.id, AlertFigures()),
        )
        for b in branches
    ]


def _visible_branch(uow: UnitOfWork, scope: Scope, branch_id: int) -> BranchFacts:
    """The branch, or NotFound alike whether it does not exist or is not the viewer's."""
    found = uow.dashboard.branches({branch_id}) if scope is None or branch_id in scope else []
    if not found:
        raise NotFound(f"no branch {branch_id}", kind="branch")
    return found[0]


def _employee_line(
    ctx: Context,
    person: Employee,
    department: str | None,
    records: Iterable[ContributionRecord],
    today: date,
) -> EmployeeLine:
    report = evaluate(person, records, today, ctx.rules.claim_check_months, ctx.rules.lapse_after)
    problems = tuple(str(m.period) for m in report.problem_months)
    return EmployeeLine(person.employee_no, person.name, department, str(report.status), problems)


def _choice(value: str | None, allowed: Collection[str], field: str) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidValue(f"{field} must be one of {', '.join(sorted(allowed))}", field=field)
    return value
