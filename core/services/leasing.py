"""One round over a leased queue: claim the due rows, work each, hand back the rest when told
to stop.

Countdown reminders, approval waits and settlement jobs are worked the same way as outbox rows
and escalation steps: a row is leased to one worker for ``rules.lease`` (claimed in one short
transaction), then worked in its own transaction that first checks the lease is still held
(another worker may have taken it over after expiry). A worker told to stop (shutdown) releases
what it claimed but did not reach, so the others need not wait for those leases to run out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

Row = TypeVar("Row")
Row_co = TypeVar("Row_co", covariant=True)

SKIPPED = "skipped"
"""The outcome of a row whose lease was lost before it was worked."""


class LeasedQueue(Protocol[Row_co]):
    def claim_due(self, now: datetime, owner: str, lease: timedelta, limit: int) -> list[int]: ...

    def hold(self, row_id: int, owner: str, now: datetime, lease: timedelta) -> bool: ...

    def release(self, row_ids: list[int], owner: str) -> None: ...

    def get(self, row_id: int) -> Row_co: ...


def work_round(
    ctx: Context,
    queue: Callable[[UnitOfWork], LeasedQueue[object]],
    owner: str,
    limit: int,
    stop: Callable[[], bool] | None,
    work: Callable[[int], str],
) -> Counter[str]:
    """Claim up to ``limit`` due rows of ``queue`` and ``work`` each; the outcomes, counted."""
    with ctx.uow() as uow:
        claimed = queue(uow).claim_due(ctx.now(), owner, ctx.rules.lease, limit)
        uow.commit()
    outcomes: Counter[str] = Counter()
    for index, row_id in enumerate(claimed):
        if stop is not None and stop():
            with ctx.uow() as uow:  # hand back what was not worked on, so others need not wait
                queue(uow).release(claimed[index:], owner)
                uow.commit()
            break
        outcomes[work(row_id)] += 1
    return outcomes


def fire_held(
    ctx: Context,
    queue: Callable[[UnitOfWork], LeasedQueue[Row]],
    owner: str,
    row_id: int,
    fire: Callable[[UnitOfWork, Row], str],
) -> str:
    """``fire`` one row in one transaction, if its lease is still ours (else ``SKIPPED``)."""
    with ctx.uow() as uow:
        rows = queue(uow)
        if not rows.hold(row_id, owner, ctx.now(), ctx.rules.lease):
            return SKIPPED
        outcome = fire(uow, rows.get(row_id))
        uow.commit()
    return outcome


def fire_round(
    ctx: Context,
    queue: Callable[[UnitOfWork], LeasedQueue[Row]],
    owner: str,
    limit: int,
    stop: Callable[[], bool] | None,
    fire: Callable[[UnitOfWork, Row], str],
) -> Counter[str]:
    """``work_round`` where each row is fired in one transaction (``fire_held``)."""
    return work_round(
        ctx, queue, owner, limit, stop, lambda row_id: fire_held(ctx, queue, owner, row_id, fire)
    )
