"""Escalation policies: which version new alerts start with, and admins' edits to it.

The settings give the policy until an admin writes one (dashboard or ``hrbot policy set``);
from then on the latest written version is the policy new alerts start with. Every version is
kept: an alert escalates to the end on the version it opened under.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from core.domain.audit import AuditEntry
from core.domain.errors import InvalidValue
from core.domain.escalation import EscalationPolicy, PolicyVersion
from core.domain.policy_text import (
    build_policy,
    format_levels,
    parse_levels,
    parse_repeat_every,
    same_behaviour,
)
from core.domain.workclock import Delay
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

MAX_BY = 255
MAX_NOTE = 500

Source = Literal["settings", "edited"]


@dataclass(frozen=True)
class PolicyOverview:
    """The policy new alerts start with, where it comes from, and every stored version."""

    policy: EscalationPolicy
    source: Source
    version: int | None
    """Its stored version; None while a settings policy has opened no alert (nothing stored)."""
    edited_version: int
    """The latest version an admin wrote, 0 for none: an edit form sends it back so an edit
    made meanwhile by someone else is not silently overwritten."""
    history: list[PolicyVersion]

    @property
    def text(self) -> str:
        return format_levels(self.policy.levels)


def current_policy(ctx: Context, uow: UnitOfWork) -> EscalationPolicy:
    """The policy a new alert starts with: the latest edited version, else the settings'."""
    return uow.alerts.edited_policy(ctx.rules.policy.name) or ctx.rules.policy


def current_version(ctx: Context, uow: UnitOfWork) -> tuple[EscalationPolicy, int]:
    """The policy a new alert starts with and the version it records: an edited version is
    recorded as itself (an older version with the same levels is another version), the
    settings' policy under the stored version with its levels (stored now if new)."""
    edited = uow.alerts.edited_policy(ctx.rules.policy.name)
    if edited is not None:
        return edited, edited.version
    return ctx.rules.policy, uow.alerts.policy_version(ctx.rules.policy)


def show_policy(ctx: Context) -> PolicyOverview:
    name = ctx.rules.policy.name
    with ctx.uow() as uow:
        edited = uow.alerts.edited_policy(name)
        history = uow.alerts.policy_history(name)
    if edited is not None:
        return PolicyOverview(edited, "edited", edited.version, edited.version, history)
    policy = ctx.rules.policy
    # With no edit yet, alerts use the first stored version with the settings' levels.
    stored = next((v.policy.version for v in history if _stored_alike(v.policy, policy)), None)
    return PolicyOverview(policy, "settings", stored, 0, history)


def edit_policy(
    ctx: Context,
    levels: str,
    repeat: int | None,
    repeat_every: str | None,
    by: str,
    note: str | None = None,
    channel: str = "cli",
    based_on: int | None = None,
) -> EscalationPolicy:
    """Store a new version written by ``by`` and return it; new alerts start with it.

    ``repeat`` None keeps the current number of repeats; ``repeat_every`` None keeps the current
    gap (when it still counts in the levels' unit), blank or ``auto`` means the gap between the
    last two levels. ``based_on`` is the edited version the editor saw (0: the settings'). An
    edit that changes nothing is refused, and a refused edit stores nothing."""
    by, note = _who(by), _note(note)
    parsed = parse_levels(levels)
    every = parse_repeat_every(repeat_every) if repeat_every is not None else None
    name = ctx.rules.policy.name
    with ctx.uow() as uow:
        edited = uow.alerts.edited_policy(name)
        current = edited or ctx.rules.policy
        if based_on is not None and based_on != (edited.version if edited else 0):
            raise InvalidValue(
                "the policy was edited meanwhile by someone else: reload and try again",
                reason="stale",
            )
        if repeat_every is None:
            every = _kept_gap(current, parsed[0].delay)
        wanted = build_policy(name, parsed, current.repeat if repeat is None else repeat, every)
        if same_behaviour(wanted, current):
            raise InvalidValue("nothing changed: that is the current policy", reason="unchanged")
        # A settings policy no alert used yet is stored first, so the history shows what the
        # edit replaced.
        before = edited.version if edited else uow.alerts.policy_version(current)
        saved = uow.alerts.save_edited_policy(wanted, ctx.now(), by, note)
        uow.audit.add(
            AuditEntry(
                at=ctx.now(),
                action="policy.edit",
                subject_kind="policy",
                subject_id=saved.version,
                actor=by[:64],
                channel=channel,
                from_state=str(before),
                to_state=str(saved.version),
                detail={
                    "name": name,
                    "from_version": before,
                    "to_version": saved.version,
                    "from_levels": format_levels(current.levels),
                    "levels": format_levels(saved.levels),
                    "repeat": saved.repeat,
                    "repeat_every": saved.repeat_text(),
                    "note": note,
                },
            )
        )
        uow.commit()
    return saved


def _kept_gap(current: EscalationPolicy, first: Delay) -> Delay | None:
    """The current gap between repeats, unless the new levels count in another unit."""
    every = current.repeat_every
    return every if every is not None and every.unit is first.unit else None


def _stored_alike(a: EscalationPolicy, b: EscalationPolicy) -> bool:
    return (a.levels_json(), a.repeat, a.repeat_text()) == (
        b.levels_json(),
        b.repeat,
        b.repeat_text(),
    )


def _who(by: str) -> str:
    by = by.strip()
    if not by or len(by) > MAX_BY:
        raise InvalidValue(f"the editor's name must be 1 to {MAX_BY} characters", reason="by")
    return by


def _note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidValue(f"the note must be at most {MAX_NOTE} characters", reason="note")
    return note or None
