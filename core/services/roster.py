"""Building the month's roster: one batch per branch, from the directory, sent to HR to check.

Rebuilding replaces an unapproved batch (a new version, back to draft, HR checks again); an
approved batch is never changed: a difference is reported and audited instead. Every employed
person-month ends on exactly one branch's batch: a person moved to another branch is taken off
the old branch's unapproved batch in the same transaction, and kept where an approved batch
already holds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.domain.batches import UNAPPROVED, BatchState, ContributionBatch
from core.domain.directory import HR_ROLES, Branch, Employee, Role
from core.domain.errors import IllegalTransition, NotFound
from core.domain.periods import Period
from core.domain.roster import LineChange, Roster, StoredRecord, build_rosters, same_lines
from core.services.absences import behalf_params, delegates
from core.services.cards import close_cards
from core.services.common import audit, notify
from core.services.context import Context
from core.services.review import hr_card_buttons, hr_card_params
from core.services.scope import require_scope

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork


@dataclass(frozen=True)
class RosterOutcome:
    branch_code: str
    action: str
    """``created``, ``replaced``, ``unchanged``, ``kept`` (approved: never changed) or
    ``empty`` (nobody on it and nobody removed: no batch)."""
    batch_id: int | None
    headcount: int
    total: Decimal
    joiners: int = 0
    leavers: int = 0
    transfers_in: int = 0
    transfers_out: int = 0
    differences: int = 0
    """For a kept batch: how many lines the directory would now change."""


def build_roster(
    ctx: Context,
    period: Period,
    branch_codes: Sequence[str] | None = None,
    actor_id: int | None = None,
    channel: str | None = None,
    only_missing: bool = False,
) -> list[RosterOutcome]:
    """Build ``period``'s batches for the named branches (all when None) in one transaction.

    ``only_missing`` builds only branches with no batch yet (the scheduled monthly run).
    """
    with ctx.uow() as uow:
        actor = uow.directory.employee(actor_id) if actor_id is not None else None
        branches = _branches(uow, branch_codes)
        if actor is not None:
            for branch in branches:
                require_scope(uow, actor, branch.id, *HR_ROLES)
        existing = uow.batches.of_period(period)
        if only_missing:
            branches = [b for b in branches if b.id not in existing]
        rosters = build_rosters(period, uow.rosters.placements(period), ctx.rules.rates)
        month = _Month(
            period, rosters, existing, uow.rosters.holders(period), uow.rosters.records(period)
        )
        wanted = month.with_old_branches({b.id for b in branches})
        everyone = {b.id: b for b in uow.directory.branches()}
        decided = [
            _decide(ctx, uow, everyone[branch_id], month, actor)
            for branch_id in sorted(wanted, key=lambda b: everyone[b].code)
        ]
        written = _write(ctx, uow, month, [d for d in decided if isinstance(d, _Write)], actor)
        outcomes = [written[d.branch.code] if isinstance(d, _Write) else d for d in decided]
        audit(
            uow,
            ctx.now(),
            "roster.build",
            ("roster", period.year * 100 + period.month),
            actor,
            channel=channel,
            period=str(period),
            outcomes={o.branch_code: o.action for o in outcomes},
        )
        uow.commit()
        return outcomes


def _branches(uow: UnitOfWork, codes: Sequence[str] | None) -> list[Branch]:
    if codes is None:
        return list(uow.directory.branches())
    found = []
    for code in codes:
        branch = uow.directory.branch_by_code(code.strip())
        if branch is None:
            raise NotFound(f"no branch with code {code!r}", kind="branch", code=code)
        found.append(branch)
    return found


@dataclass
class _Month:
    """What one build knows of the month, read once and kept current as batches are written."""

    period: Period
    rosters: dict[int, Roster]
    existing: dict[int, ContributionBatch]
    holders: dict[int, int]
    """Employee id → the batch of the month whose lines hold them."""
    records: dict[int, StoredRecord]

    def with_old_branches(self, wanted: set[int]) -> set[int]:
        """``wanted`` plus the branches whose unapproved batch still holds someone who has
        moved onto a wanted branch: rebuilt in the same transaction, so nobody is ever on two
        rosters of one month."""
        by_id = {batch.id: batch for batch in self.existing.values()}
        found = set(wanted)
        for roster in [self.rosters[b] for b in wanted if b in self.rosters]:
            for line in roster.lines:
                held = by_id.get(self.holders.get(line.employee_id, -1))
                if held and held.branch_id != roster.branch_id and held.state in UNAPPROVED:
                    found.add(held.branch_id)
        return found


@dataclass(frozen=True)
class _Write:
    """A branch whose batch gets new lines: created, or replaced by a new version."""

    branch: Branch
    batch: ContributionBatch | None
    roster: Roster
    due_date: date


def _decide(
    ctx: Context, uow: UnitOfWork, branch: Branch, month: _Month, actor: Employee | None
) -> RosterOutcome | _Write:
    """What happens to one branch's batch; only the ones needing new lines are left to write."""
    period, existing, holders = month.period, month.existing, month.holders
    roster = month.rosters.get(branch.id) or Roster(branch.id, period, ())
    batch = existing.get(branch.id)
    if batch is not None and batch.state not in UNAPPROVED:
        return _kept(ctx, uow, branch, batch, roster)
    approved_elsewhere = {
        b.id for b in existing.values() if b.branch_id != branch.id and b.state not in UNAPPROVED
    }
    lines = tuple(x for x in roster.lines if holders.get(x.employee_id) not in approved_elsewhere)
    roster = replace(roster, lines=lines)
    if batch is None and not lines and not (roster.leavers or roster.transfers_out):
        return RosterOutcome(branch.code, "empty", None, 0, Decimal("0"))
    due_date = period.day(branch.due_day)
    if batch is None or not _unchanged(uow, batch, roster, due_date):
        return _Write(branch, batch, roster, due_date)
    _set_figures(batch, roster, due_date)  # counts of a batch built elsewhere, refreshed
    if batch.state is BatchState.RETURNED:
        # Rebuilt after a return: what was fixed may not show in the lines (an ID number, a
        # department), so the same lines go back to HR to check again.
        _restart(ctx, uow, batch, actor)
        _send_to_hr(ctx, uow, batch)
    elif actor is not None and batch.state is BatchState.DRAFT:
        _send_to_hr(ctx, uow, batch, asked_by=actor)  # asked for it: the card again
    return _outcome(branch, "unchanged", batch)


def _write(
    ctx: Context, uow: UnitOfWork, month: _Month, writes: list[_Write], actor: Employee | None
) -> dict[str, RosterOutcome]:
    """Records, then every batch's lines in one go, then figures, audit and HR's cards."""
    if not writes:
        return {}
    _ensure_records(uow, month, writes)
    batches = {w.branch.code: _open_batch(ctx, uow, month.period, w, actor) for w in writes}
    ids = [batch.id for batch in batches.values()]
    before = uow.rosters.people_on(ids)
    lines = {batches[w.branch.code].id: w.roster.lines for w in writes}
    uow.rosters.replace_lines(lines, {e: r.id for e, r in month.records.items()})
    now_on = {line.employee_id for w in writes for line in w.roster.lines}
    _drop_orphans(uow, month, set().union(*before.values()) - now_on)
    outcomes = {}
    for write in writes:
        batch = batches[write.branch.code]
        action = "created" if write.batch is None else "replaced"
        _set_figures(batch, write.roster, write.due_date)
        audit(
            uow,
            ctx.now(),
            f"batch.{action}",
            ("batch", batch.id),
            actor,
            (None, batch.state) if action == "created" else None,
            version=batch.version,
            headcount=batch.headcount,
            total=str(batch.total),
        )
        outcomes[write.branch.code] = _outcome(write.branch, action, batch)
    uow.flush()
    for batch in batches.values():
        _send_to_hr(ctx, uow, batch)
    return outcomes


def _open_batch(
    ctx: Context, uow: UnitOfWork, period: Period, write: _Write, actor: Employee | None
) -> ContributionBatch:
    """The batch that takes the new lines: a new draft, or the old one as a new version."""
    if write.batch is not None:
        _restart(ctx, uow, write.batch, actor)
        return write.batch
    created = uow.batches.create(write.branch.id, period, write.due_date, ctx.now())
    if created is None:
        raise IllegalTransition("another build created this batch meanwhile", state="built")
    return uow.batches.get(created)


def _ensure_records(uow: UnitOfWork, month: _Month, writes: list[_Write]) -> None:
    """A contribution record for every line (added, or updated while unpaid), kept current in
    ``month.records``."""
    stored = month.records
    new, changed = [], []
    for write in writes:
        due = write.due_date
        for line in write.roster.lines:
            record = stored.get(line.employee_id)
            wanted = (line.base, line.employer_amount, line.employee_amount, due)
            if record is None:
                new.append((line, due))
            elif not record.paid and (
                (record.base, record.employer_amount, record.employee_amount, record.due_date)
                != wanted
            ):
                changed.append((record.id, line, due))
                stored[line.employee_id] = StoredRecord(record.id, *wanted, paid=False)
    uow.rosters.update_records(changed)
    if not new:
        return
    uow.rosters.add_records(month.period, new)
    ids = uow.rosters.record_ids(month.period)
    for line, due in new:
        stored[line.employee_id] = StoredRecord(
            ids[line.employee_id],
            line.base,
            line.employer_amount,
            line.employee_amount,
            due,
            paid=False,
        )


def _unchanged(uow: UnitOfWork, batch: ContributionBatch, roster: Roster, due_date: date) -> bool:
    stored = uow.rosters.line_keys([batch.id])[batch.id]
    return same_lines(roster, stored) and batch.due_date == due_date


def _restart(
    ctx: Context, uow: UnitOfWork, batch: ContributionBatch, actor: Employee | None
) -> None:
    """The lines change: a new version that HR must check again (finance's card is void)."""
    batch.version += 1
    before = batch.state
    if before is not BatchState.DRAFT:
        if before is not BatchState.RETURNED:
            batch.move("return")
        batch.move("revise")
        audit(uow, ctx.now(), "batch.revise", ("batch", batch.id), actor, (before, batch.state))
        close_cards(ctx, uow, ("batch", batch.id), "replaced", actor)


def _drop_orphans(uow: UnitOfWork, month: _Month, people: set[int]) -> None:
    """Unpaid records of people no longer employed in the month at all (a corrected hire or
    leave date) go; those who moved branch keep theirs, now on the other batch."""
    if not people:
        return
    on_a_roster = {line.employee_id for r in month.rosters.values() for line in r.lines}
    gone = [p for p in people - on_a_roster if p in month.records]
    uow.rosters.delete_unpaid_records(month.records[p].id for p in gone)
    for person in gone:
        if not month.records[person].paid:
            del month.records[person]


def _set_figures(batch: ContributionBatch, roster: Roster, due_date: date) -> None:
    lines = roster.lines
    batch.due_date = due_date
    batch.headcount = len(lines)
    batch.total_base = sum((line.base for line in lines), Decimal("0"))
    batch.total_employer = sum((line.employer_amount for line in lines), Decimal("0"))
    batch.total_employee = sum((line.employee_amount for line in lines), Decimal("0"))
    batch.joiners = roster.count(LineChange.JOINER)
    batch.transfers_in = roster.count(LineChange.TRANSFER_IN)
    batch.leavers = roster.leavers
    batch.transfers_out = roster.transfers_out


def _kept(
    ctx: Context, uow: UnitOfWork, branch: Branch, batch: ContributionBatch, roster: Roster
) -> RosterOutcome:
    """An approved batch stays as it is; say how far the directory has moved from it."""
    stored = {key[0]: key for key in uow.rosters.line_keys([batch.id])[batch.id]}
    wanted = {
        line.employee_id: (line.employee_id, line.base, line.employer_amount, line.employee_amount)
        for line in roster.lines
    }
    differences = sum(1 for p in stored.keys() | wanted.keys() if stored.get(p) != wanted.get(p))
    if differences:
        audit(
            uow,
            ctx.now(),
            "batch.differs",
            ("batch", batch.id),
            state=str(batch.state),
            differences=differences,
        )
    outcome = _outcome(branch, "kept", batch)
    return replace(outcome, differences=differences)


def _outcome(branch: Branch, action: str, batch: ContributionBatch) -> RosterOutcome:
    return RosterOutcome(
        branch.code,
        action,
        batch.id,
        batch.headcount,
        batch.total,
        batch.joiners,
        batch.leavers,
        batch.transfers_in,
        batch.transfers_out,
    )


def _send_to_hr(
    ctx: Context, uow: UnitOfWork, batch: ContributionBatch, asked_by: Employee | None = None
) -> None:
    """The card to the branch's HR; to the asker alone when they rebuilt an unchanged batch."""
    params = hr_card_params(ctx, uow, batch)
    hr = uow.directory.responsible(batch.branch_id, Role.HR)
    people = [(asked_by, asked_by)] if asked_by else delegates(ctx, uow, hr)
    key = f"batch:{batch.id}:v{batch.version}:check"
    if asked_by is not None:
        key += f":{ctx.now().isoformat()}"
    for person, absent in people:
        notify(
            ctx,
            uow,
            person,
            "batch.check_requested",
            params | behalf_params(person, absent),
            key,
            buttons=hr_card_buttons(batch),
            subject=("batch", batch.id),
        )


def describe(outcome: RosterOutcome) -> dict[str, Any]:
    return {
        "branch": outcome.branch_code,
        "action": outcome.action,
        "batch_id": outcome.batch_id,
        "headcount": outcome.headcount,
        "total": str(outcome.total),
        "joiners": outcome.joiners,
        "leavers": outcome.leavers,
        "transfers_in": outcome.transfers_in,
        "transfers_out": outcome.transfers_out,
        "differences": outcome.differences,
    }


def scheduled_rosters(ctx: Context) -> list[RosterOutcome]:
    """The monthly run: from ``roster_day`` on, build this month's batch for every branch that
    has none yet (the worker calls this every round; it does nothing once all exist)."""
    today = ctx.today()
    if today.day < ctx.rules.roster_day:
        return []
    period = Period.of(today)
    with ctx.uow() as uow:
        have = uow.batches.of_period(period)
        if all(branch.id in have for branch in uow.directory.branches()):
            return []
    try:
        return build_roster(ctx, period, only_missing=True)
    except IllegalTransition:
        return []  # another worker built them at the same moment: its batches stand
