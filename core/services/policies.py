"""Escalation policies: which version new alerts start with, and admins' edits to it.

The settings give the policy until an admin writes one (dashboard or ``hrbot policy set``);
from then on the latest written version is the policy new alerts start with. Every version is
kept: an alert escalates to the end on the version it opened under.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.domain.escalation import EscalationPolicy
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork


def current_policy(ctx: Context, uow: UnitOfWork) -> EscalationPolicy:
    """The policy a new alert starts with: the latest edited version, else the settings'."""
    return uow.alerts.edited_policy(ctx.rules.policy.name) or ctx.rules.policy
