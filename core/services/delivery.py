"""Delivering the outbox: render each due notice for its recipient and send it on its channel.

One notice per transaction, so a crash loses nothing and repeats at most the notice in hand.
Leases, backoff with ``Retry-After`` and many concurrent workers are the worker's concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from core.chat import Address
from core.domain.directory import Employee
from core.domain.notifications import ChannelKind, DeliveryState
from core.ports import Channel, Renderer
from core.services.context import Context


class Router(Protocol):
    def route(self, recipient: Employee, channel: ChannelKind) -> tuple[Channel, Address] | None:
        """The channel and address that reach ``recipient`` there, or None if none does."""
        ...


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def deliver_due(
    ctx: Context, router: Router, renderer: Renderer, limit: int = 100
) -> DeliveryReport:
    sent = retried = dead = 0
    with ctx.uow() as uow:
        due = [n.id for n in uow.outbox.due(ctx.now(), limit)]
    for notification_id in due:
        with ctx.uow() as uow:
            notification = uow.outbox.get(notification_id)
            if notification.state is not DeliveryState.PENDING:
                continue
            recipient = uow.directory.employee(notification.recipient_id)
            route = router.route(recipient, notification.channel)
            notification.attempts += 1
            if route is None:
                notification.state = DeliveryState.DEAD
                notification.last_error = f"no {notification.channel} address"
                dead += 1
            else:
                channel, address = route
                try:
                    message = renderer.render(notification, recipient)
                    notification.external_id = channel.send(address, message)
                    notification.state, notification.sent_at = DeliveryState.SENT, ctx.now()
                    sent += 1
                except Exception as error:  # any channel failure is retried, never lost
                    notification.last_error = f"{type(error).__name__}: {error}"[:500]
                    if notification.attempts >= ctx.rules.delivery_attempts:
                        notification.state = DeliveryState.DEAD
                        dead += 1
                    else:
                        backoff = timedelta(seconds=30 * 2 ** (notification.attempts - 1))
                        notification.next_attempt_at = ctx.now() + backoff
                        retried += 1
            uow.commit()
    return DeliveryReport(sent, retried, dead)
