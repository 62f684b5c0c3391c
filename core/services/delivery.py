"""Delivering the outbox: each due notice, rendered for its recipient, sent on its channel.

Due notices are leased to one worker (many can run); sending happens outside any transaction
and is recorded afterwards only if the lease is still ours. A crash between the send and that
record is the one window in which a notice can go out twice. Failures retry with exponential
backoff and jitter, honouring ``Retry-After``; after the last attempt a notice goes dead-letter
and the recipient's HR is told, so nothing fails silently. A channel that cannot reach the person
at all (not linked, refused) falls back to the next one: chat → e-mail → SMS.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from core.chat import Address, OutgoingMessage
from core.domain.directory import Employee, Role
from core.domain.notifications import ChannelKind, DeliveryState, Notification
from core.ports import Channel, DeliveryFailed, Renderer
from core.services.absences import behalf_params, delegates
from core.services.common import audit, notify
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

FALLBACK = (ChannelKind.CHAT, ChannelKind.EMAIL, ChannelKind.SMS)
DEAD_LETTER_KEY = "delivery.dead_letter"
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


class Router(Protocol):
    def route(self, recipient: Employee, channel: ChannelKind) -> tuple[Channel, Address] | None:
        """The channel and address that reach ``recipient`` there, or None if none does."""
        ...


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Outcome:
    external_id: str | None = None
    used: ChannelKind | None = None
    error: DeliveryFailed | None = None
    tried: tuple[ChannelKind, ...] = ()


def backoff(attempt: int, retry_after: float | None, jitter: float) -> timedelta:
    """Exponential (30 s, 1 min, 2 min … capped at 1 h) with ±50 % jitter; never sooner than
    the far side asked."""
    base = BACKOFF_BASE.total_seconds() * 2 ** max(attempt - 1, 0)
    seconds = min(base, BACKOFF_CAP.total_seconds()) * (0.5 + jitter)
    if retry_after is not None:
        seconds = max(seconds, retry_after)
    return timedelta(seconds=seconds)


CARD_FIRST_DELAY = timedelta(seconds=2)
"""How long an update waits behind the card it edits when that card has not gone out yet."""


def deliver_due(
    ctx: Context,
    router: Router,
    renderer: Renderer,
    owner: str | None = None,
    limit: int = 100,
    stop: Callable[[], bool] | None = None,
) -> DeliveryReport:
    owner = owner or f"deliver-{uuid.uuid4().hex[:12]}"
    with ctx.uow() as uow:
        claimed = uow.outbox.claim_due(ctx.now(), owner, ctx.rules.lease, limit)
        uow.commit()
    counts = {"sent": 0, "retried": 0, "dead": 0}
    for index, notification_id in enumerate(claimed):
        if stop is not None and stop():
            with ctx.uow() as uow:
                uow.outbox.release(claimed[index:], owner)
                uow.commit()
            break
        result = _deliver_one(ctx, router, renderer, owner, notification_id)
        if result:
            counts[result] += 1
    return DeliveryReport(**counts)


def _deliver_one(
    ctx: Context, router: Router, renderer: Renderer, owner: str, notification_id: int
) -> str | None:
    with ctx.uow() as uow:
        if not uow.outbox.hold(notification_id, owner, ctx.now(), ctx.rules.lease):
            return None
        notification = uow.outbox.get(notification_id)
        original = uow.outbox.get(notification.replaces_id) if notification.replaces_id else None
        if original is not None and original.state is DeliveryState.PENDING:
            # The card this update edits has not gone out yet (another worker holds it, or it
            # waits for quiet hours): sent now, the update would arrive as a second message
            # before the card it closes. Try again after the card; no attempt is counted.
            now = ctx.now()
            after = max(original.next_attempt_at or now, now) + CARD_FIRST_DELAY
            notification.next_attempt_at = after
            notification.lease_owner = notification.lease_until = None
            uow.commit()
            return None
        recipient = uow.directory.employee(notification.recipient_id)
        skip = _covered_by_siblings(uow, notification)
        replaced = original.external_id if original is not None else None
        uow.commit()
    outcome = _send(router, renderer, notification, recipient, skip, replaced)
    with ctx.uow() as uow:
        if not uow.outbox.hold(notification_id, owner, ctx.now(), ctx.rules.lease):
            return None  # lease lost while sending: the other worker records it
        notification = uow.outbox.get(notification_id)
        notification.lease_owner = notification.lease_until = None
        notification.attempts += 1
        result = _record(ctx, uow, notification, outcome)
        uow.commit()
        return result


def _covered_by_siblings(uow: UnitOfWork, notification: Notification) -> set[ChannelKind]:
    """Channels already carrying the same notice (an alert goes by chat and e-mail at once)."""
    stem = notification.idempotency_key.rsplit(":", 1)[0]
    others = {f"{stem}:{kind}": kind for kind in FALLBACK if kind is not notification.channel}
    return {others[key] for key in uow.outbox.existing_keys(list(others))}


def _send(
    router: Router,
    renderer: Renderer,
    notification: Notification,
    recipient: Employee,
    skip: set[ChannelKind],
    replaced: str | None = None,
) -> _Outcome:
    start = FALLBACK.index(notification.channel)
    tried: list[ChannelKind] = []
    last_error: DeliveryFailed | None = None
    for kind in FALLBACK[start:]:
        if kind is not notification.channel and (kind in skip or not _may_fall_back(notification)):
            continue
        route = router.route(recipient, kind)
        if route is None:
            continue
        tried.append(kind)
        channel, address = route
        try:
            message: OutgoingMessage = renderer.render(notification, recipient)
            update = getattr(channel, "update", None) if kind is ChannelKind.CHAT else None
            if replaced and callable(update):  # edit the card in place where the platform can
                return _Outcome(update(address, replaced, message), kind, None, tuple(tried))
            return _Outcome(channel.send(address, message), kind, None, tuple(tried))
        except DeliveryFailed as error:
            last_error = error
        except Exception as error:  # an adapter bug must not lose the notice: retry it
            last_error = DeliveryFailed(f"{type(error).__name__}: {error}")
        if not last_error.permanent:
            break  # a temporary failure is retried on the same channel, not switched
    if last_error is None:
        last_error = DeliveryFailed(
            f"no way to reach the recipient by {notification.channel}", permanent=True
        )
    return _Outcome(None, None, last_error, tuple(tried))


def _may_fall_back(notification: Notification) -> bool:
    return notification.key != DEAD_LETTER_KEY


def _record(ctx: Context, uow: UnitOfWork, notification: Notification, outcome: _Outcome) -> str:
    now = ctx.now()
    if outcome.error is None:
        notification.state, notification.sent_at = DeliveryState.SENT, now
        notification.external_id, notification.last_error = outcome.external_id, None
        if outcome.used is not notification.channel:
            audit(
                uow,
                now,
                "notification.fallback",
                ("notification", notification.id),
                preferred=str(notification.channel),
                used=str(outcome.used),
            )
        return "sent"
    error = outcome.error
    notification.last_error = str(error)[:500]
    if not error.permanent and notification.attempts < ctx.rules.delivery_attempts:
        delay = backoff(notification.attempts, error.retry_after, random.random())
        notification.next_attempt_at = now + delay
        return "retried"
    notification.state = DeliveryState.DEAD
    audit(
        uow,
        now,
        "notification.dead",
        ("notification", notification.id),
        key=notification.key,
        channel=str(notification.channel),
        attempts=notification.attempts,
        error=notification.last_error,
    )
    _tell_hr(ctx, uow, notification)
    return "dead"


def _tell_hr(ctx: Context, uow: UnitOfWork, notification: Notification) -> None:
    if notification.key == DEAD_LETTER_KEY:
        return  # never a notice about a notice about a notice
    if _answered_by_sibling(uow, notification):
        return
    recipient = uow.directory.employee(notification.recipient_id)
    hr = uow.directory.responsible(recipient.branch_id, Role.HR)
    for person, absent in delegates(ctx, uow, hr):  # a stand-in for HR away
        notify(
            ctx,
            uow,
            person,
            DEAD_LETTER_KEY,
            {
                "recipient": recipient.name,
                "employee_no": recipient.employee_no,
                "message_key": notification.key,
                "channel": str(notification.channel),
                "error": notification.last_error,
            }
            | behalf_params(person, absent),
            f"dead:{notification.id}",
            channels=(ChannelKind.CHAT, ChannelKind.EMAIL),
        )


def _answered_by_sibling(uow: UnitOfWork, notification: Notification) -> bool:
    """Whether another copy of this notice (e-mail beside chat) reached the person, or will tell
    HR itself: only the copy on the last channel tells, so HR hears once if every copy dies, and
    two copies dying at the same time on two workers cannot each leave it to the other."""
    stem = notification.idempotency_key.rsplit(":", 1)[0]
    mine = FALLBACK.index(notification.channel)
    for kind in FALLBACK:
        if kind is notification.channel:
            continue
        state = uow.outbox.state_of(f"{stem}:{kind}")
        if state is DeliveryState.SENT or (state is not None and FALLBACK.index(kind) > mine):
            return True
    return False
