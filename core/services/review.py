"""Checking a roster before money moves: HR's card and verification, then finance's card.

HR sees the head count, joiners (增员), leavers (减员) and transfers (转移), the total against
last month, lines whose base is outside the configured bounds and people without an ID number,
and verifies or returns. Verifying sends the batch to the branch's finance approvers with the
amount against the month's budget; above the configured amount, approving needs a second tap.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from core.domain.batches import BatchState, ContributionBatch
from core.domain.directory import HR_ROLES, Employee, Role
from core.domain.escalation import SubjectKind
from core.domain.notifications import Button
from core.services.absences import behalf_params, delegates
from core.services.alerts import close_alerts_for
from core.services.cards import close_cards
from core.services.common import audit, notify
from core.services.context import Context
from core.services.scope import on_behalf_of, require_scope

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

SHOWN_NAMES = 5
"""How many names a card lists before it says "and N more"."""


def batch_params(uow: UnitOfWork, batch: ContributionBatch) -> dict[str, Any]:
    branch = uow.directory.branch(batch.branch_id)
    return {
        "batch_id": batch.id,
        "branch": branch.name,
        "branch_code": branch.code,
        "period": str(batch.period),
        "headcount": batch.headcount,
        "total": str(batch.total),
        "due_date": batch.due_date.isoformat(),
        "state": str(batch.state),
    }


def hr_card_params(ctx: Context, uow: UnitOfWork, batch: ContributionBatch) -> dict[str, Any]:
    previous = uow.batches.latest(batch.branch_id, batch.period.shift(-1))
    rates = ctx.rules.rates
    outside = uow.batches.lines_outside(batch.id, rates.base_min, rates.base_max)
    no_id = uow.batches.without_id_number(batch.id)
    return batch_params(uow, batch) | {
        "version": batch.version,
        "joiners": batch.joiners,
        "leavers": batch.leavers,
        "transfers_in": batch.transfers_in,
        "transfers_out": batch.transfers_out,
        "previous_total": str(previous.total) if previous else None,
        "change": str(batch.total - previous.total) if previous else None,
        "outside_count": len(outside),
        "outside_names": list(outside[:SHOWN_NAMES]),
        "no_id_count": len(no_id),
        "no_id_names": list(no_id[:SHOWN_NAMES]),
    }


def hr_card_buttons(batch: ContributionBatch) -> list[Button]:
    return [
        Button("batch.verify", "button.verify", {"batch_id": batch.id}, "primary"),
        Button("batch.return", "button.return", {"batch_id": batch.id}, "danger"),
    ]


def finance_card_params(ctx: Context, uow: UnitOfWork, batch: ContributionBatch) -> dict[str, Any]:
    budget = uow.batches.budget(batch.branch_id, batch.period)
    threshold = ctx.rules.confirm_above
    return batch_params(uow, batch) | {
        "budget": str(budget) if budget is not None else None,
        "over_budget": str(batch.total - budget) if budget is not None else None,
        "confirm": threshold is not None and batch.total > threshold,
    }


def batch_for(
    uow: UnitOfWork, batch_id: int, actor_id: int, *roles: Role, day: date | None = None
) -> tuple[Employee, ContributionBatch]:
    """The actor and the batch, once the actor is shown to hold one of ``roles`` for its branch
    (or, given ``day``, to stand in that day for someone away who does)."""
    actor = uow.directory.employee(actor_id)
    batch = uow.batches.get(batch_id)
    require_scope(uow, actor, batch.branch_id, *roles, day=day)
    return actor, batch


def verify_batch(
    ctx: Context, batch_id: int, actor_id: int, channel: str | None = None
) -> ContributionBatch:
    """HR has checked the roster: it is verified and goes straight to finance for approval."""
    with ctx.uow() as uow:
        actor, batch = batch_for(uow, batch_id, actor_id, *HR_ROLES, day=ctx.today())
        moved = batch.move("verify", actor.id)
        behalf = on_behalf_of(uow, actor, batch.branch_id, ctx.today(), *HR_ROLES)
        audit(uow, ctx.now(), "batch.verify", ("batch", batch.id), actor, moved, channel, **behalf)
        close_cards(ctx, uow, ("batch", batch.id), "verified", actor)
        close_alerts_for(ctx, uow, (SubjectKind.BATCH_APPROVAL, batch.id), "batch verified")
        ask_finance(ctx, uow, batch, actor, channel)
        uow.commit()
        return batch


def ask_finance(
    ctx: Context,
    uow: UnitOfWork,
    batch: ContributionBatch,
    actor: Employee,
    channel: str | None,
) -> None:
    """Move a verified batch to finance (or remind finance of a pending one) with the card."""
    if batch.state is BatchState.HR_VERIFIED:
        moved = batch.move("request_approval")
        audit(uow, ctx.now(), "batch.request_approval", ("batch", batch.id), actor, moved, channel)
    elif batch.state is not BatchState.FINANCE_PENDING:
        batch.move("request_approval")  # raises the named IllegalTransition
    buttons = [
        Button("batch.approve", "button.approve", {"batch_id": batch.id}, "primary"),
        Button("batch.return", "button.return", {"batch_id": batch.id}, "danger"),
    ]
    params = finance_card_params(ctx, uow, batch) | {"hr": actor.name}
    approvers = uow.directory.responsible(batch.branch_id, Role.FINANCE)
    for approver, absent in delegates(ctx, uow, approvers):
        notify(
            ctx,
            uow,
            approver,
            "batch.approval_requested",
            params | behalf_params(approver, absent),
            f"batch:{batch.id}:ask:{ctx.now().isoformat()}",
            buttons=buttons,
            subject=("batch", batch.id),
        )
