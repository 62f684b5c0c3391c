"""Daily digests per approver and HR, and the weekly summary per HR director, in chat.

The worker calls ``run_digests`` every round (one query per kind once everyone is checked).
From ``digest_hour`` (local time), on a workday, everyone with a daily role who has not been
checked today is: their digest is built from one snapshot of what waits (core/domain/digests.py
says what counts) and, unless empty, queued.
On ``weekly_digest_day`` the HR directors get the week's summary the same way. Each person is
claimed in ``digest_runs`` (insert-or-ignore) in the transaction that queues their digest, so
several workers and restarts send it once; an empty digest is recorded as checked, not sent.
Digests are not urgent: a staff member's chat push waits for working hours (common.notify).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import TYPE_CHECKING

from core.domain.batches import BatchState
from core.domain.dashboard import Progress, progress_of
from core.domain.digests import (
    CAUSE_WINDOW_DAYS,
    DAILY_ROLES,
    WEEKLY_ROLES,
    DigestKind,
    ItemKind,
    WaitingItem,
    WeeklySummary,
    alert_late,
    batch_late,
    daily_digest,
    daily_key,
    top_causes,
    weekly_key,
)
from core.domain.directory import Employee, Role
from core.domain.errors import NotFound
from core.domain.escalation import Alert, AlertState, EscalationPolicy, SubjectKind
from core.domain.periods import Period
from core.domain.workclock import CalendarNotCovered
from core.services.absences import standing_in_for
from core.services.common import notify
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

BATCH_ASKS = {
    BatchState.DRAFT: Role.HR,
    BatchState.RETURNED: Role.HR,
    BatchState.HR_VERIFIED: Role.HR,
    BatchState.FINANCE_PENDING: Role.FINANCE,
}
"""Whom a batch in each state waits for: HR verifies (and sends on), finance approves."""


def run_digests(ctx: Context) -> int:
    """Queue the digests due now and not yet checked; returns how many were queued."""
    hour = ctx.rules.digest_hour
    local = ctx.now().astimezone(ctx.rules.timezone)
    if hour is None or local.hour < hour:
        return 0
    today = local.date()
    sent = 0
    if _workday(ctx, today):
        sent += _daily_round(ctx, today)
    if today.weekday() == ctx.rules.weekly_digest_day:
        sent += _weekly_round(ctx, today)
    return sent


def _workday(ctx: Context, day: date) -> bool:
    """No daily digest on weekends and holidays (it would wait for Monday beside Monday's)."""
    try:
        return ctx.calendar.is_workday(day)
    except CalendarNotCovered:
        return day.weekday() < 5


def _unchecked(
    ctx: Context, kind: DigestKind, key: str, roles: Collection[Role], today: date
) -> list[int]:
    with ctx.uow() as uow:
        return [p.id for p in uow.digests.unchecked(kind, key, roles) if p.is_active(today)]


def _claim(
    ctx: Context, uow: UnitOfWork, kind: DigestKind, key: str, person_id: int, today: date
) -> Employee | None:
    """The person, if this call is the one to check them and they are not away today."""
    if not uow.digests.claim(person_id, kind, key, ctx.now()):
        return None
    if uow.absences.active_for(person_id, today) is not None:
        return None  # their substitute's digest holds their work
    return uow.directory.employee(person_id)


# Daily ---------------------------------------------------------------------------------------


def _daily_round(ctx: Context, today: date) -> int:
    key = daily_key(today)
    people = _unchecked(ctx, DigestKind.DAILY, key, DAILY_ROLES, today)
    if not people:
        return 0
    items = waiting_items(ctx, today)
    return sum(_send_daily(ctx, person_id, key, today, items) for person_id in people)


def _send_daily(
    ctx: Context, person_id: int, key: str, today: date, items: list[WaitingItem]
) -> int:
    with ctx.uow() as uow:
        person = _claim(ctx, uow, DigestKind.DAILY, key, person_id, today)
        queued = 0
        if person is not None:
            duties = {person.id, *(other.id for other in standing_in_for(uow, person, today))}
            digest = daily_digest(today, items, duties)
            if not digest.empty:
                params = digest.params()
                queued = notify(ctx, uow, person, "digest.daily", params, f"digest:daily:{key}")
        if queued:
            uow.digests.mark_sent(person_id, DigestKind.DAILY, key)
        uow.commit()
        return int(queued > 0)


def waiting_items(ctx: Context, today: date) -> list[WaitingItem]:
    """Everything that waits for someone now, with whom it asks (one snapshot for a round)."""
    with ctx.uow() as uow:
        asked = _Asked(uow)
        names = {branch.id: branch.name for branch in uow.directory.branches()}
        items = []
        for batch in uow.batches.unpaid():
            role = BATCH_ASKS.get(batch.state)
            if role is not None:
                ref = f"{names[batch.branch_id]} {batch.period}"
                late = batch_late(batch.due_date, today)
                order = (batch.due_date, batch.id)
                items.append(
                    WaitingItem(ItemKind.BATCH, ref, late, asked(batch.branch_id, role), order)
                )
        for claim, claimant in uow.digests.claims_under_review():
            reviewers = asked(claimant.branch_id, Role.FINANCE) - {claimant.id}
            ref = f"{claim.reference} {claimant.name}"
            items.append(WaitingItem(ItemKind.CLAIM, ref, False, reviewers, (claim.id,)))
        for alert in uow.alerts.unresolved():
            if alert.state is AlertState.OPEN and alert.level >= 1:
                ref = f"#{alert.id} {names[alert.branch_id]} {_about(uow, alert)}"
                people = asked.reached(ctx, alert)
                items.append(
                    WaitingItem(ItemKind.ALERT, ref, alert_late(alert.level), people, (alert.id,))
                )
        return items


class _Asked:
    """Who the system asks to act for a branch in a role (``responsible``), read once each."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._people: dict[tuple[int, Role], frozenset[int]] = {}
        self._policies: dict[tuple[str, int], EscalationPolicy] = {}

    def __call__(self, branch_id: int, role: Role) -> frozenset[int]:
        if (branch_id, role) not in self._people:
            found = self.uow.directory.responsible(branch_id, role)
            self._people[branch_id, role] = frozenset(person.id for person in found)
        return self._people[branch_id, role]

    def reached(self, ctx: Context, alert: Alert) -> frozenset[int]:
        """Everyone the alert's levels have reached so far (its own policy version's roles)."""
        policy = self._policy(ctx, alert)
        roles = {policy.level(n).role for n in range(1, min(alert.level, policy.top) + 1)}
        return frozenset().union(*(self(alert.branch_id, role) for role in roles))

    def _policy(self, ctx: Context, alert: Alert) -> EscalationPolicy:
        version = (alert.policy_name, alert.policy_version)
        if version not in self._policies:
            try:
                self._policies[version] = self.uow.alerts.policy(*version)
            except NotFound:
                self._policies[version] = ctx.rules.policy
        return self._policies[version]


def _about(uow: UnitOfWork, alert: Alert) -> str:
    if alert.subject_kind in (SubjectKind.HELD_CLAIM, SubjectKind.CLAIM_APPROVAL):
        return uow.claims.get(alert.subject_id).reference
    if alert.subject_kind in (SubjectKind.CONTRIBUTION_BATCH, SubjectKind.BATCH_APPROVAL):
        return str(uow.batches.get(alert.subject_id).period)
    return uow.directory.employee(alert.subject_id).name


# Weekly --------------------------------------------------------------------------------------


def _weekly_round(ctx: Context, today: date) -> int:
    key = weekly_key(today)
    people = _unchecked(ctx, DigestKind.WEEKLY, key, WEEKLY_ROLES, today)
    if not people:
        return 0
    summary = weekly_summary(ctx, today)
    return sum(_send_weekly(ctx, person_id, key, today, summary) for person_id in people)


def _send_weekly(
    ctx: Context, person_id: int, key: str, today: date, summary: WeeklySummary
) -> int:
    with ctx.uow() as uow:
        person = _claim(ctx, uow, DigestKind.WEEKLY, key, person_id, today)
        queued = 0
        if person is not None and not summary.empty:
            params = summary.params()
            queued = notify(ctx, uow, person, "digest.weekly", params, f"digest:weekly:{key}")
        if queued:
            uow.digests.mark_sent(person_id, DigestKind.WEEKLY, key)
        uow.commit()
        return int(queued > 0)


def weekly_summary(ctx: Context, today: date) -> WeeklySummary:
    """The group's week: branches overdue this month or last (the dashboard's "late"), every
    unresolved alert's level, the alerts flagged for management (their policy ran out), and
    the top three causes of the alerts opened in the last four weeks."""
    current = Period.of(today)
    with ctx.uow() as uow:
        branches = uow.dashboard.branches(None)
        late: dict[int, list[Period]] = {}
        for month in (current.shift(-1), current):
            latest = uow.dashboard.latest_batches(month, None)
            for branch in branches:
                batch = latest.get(branch.id)
                due = batch.due_date if batch else month.day(branch.due_day)
                if progress_of(batch, due, today) is Progress.LATE:
                    late.setdefault(branch.id, []).append(month)
        overdue = tuple(
            f"{b.name} {'/'.join(str(m) for m in late[b.id])}" for b in branches if b.id in late
        )
        unresolved = uow.alerts.unresolved()
        levels = tuple(alert.level for alert in unresolved)
        names = {b.id: b.name for b in branches}
        flagged = tuple(
            f"#{a.id} {names.get(a.branch_id, '?')} L{a.level}"
            for a in unresolved
            if a.flagged_at is not None
        )
        since = ctx.now() - timedelta(days=CAUSE_WINDOW_DAYS)
        causes = top_causes(uow.digests.alert_causes(since))
    return WeeklySummary(weekly_key(today), overdue, levels, causes, flagged)
