"""The outbox dispatcher: backoff, dead letters, fallback between channels, and lost leases.

Real channels where it matters (the SMS channel against a local HTTP gateway, the e-mail channel
against a local aiosmtpd); time only moves when the test moves the ``ManualClock``.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.email import SmtpChannel, SmtpConfig
from adapters.recording import RecordingChannel
from adapters.sms import SmsChannel
from bot.i18n import CatalogRenderer
from bot.routing import ChannelRouter
from core.chat import Address, OutgoingMessage, Platform
from core.domain.directory import Employee
from core.domain.notifications import ChannelKind, DeliveryState, Notification
from core.ports import DeliveryFailed, ManualClock
from core.services import delivery
from core.services.common import notify
from core.services.context import Context, Rules
from core.services.delivery import DeliveryReport, deliver_due
from tests.factories import Org, audit_trail, make_org, notices
from tests.fakes import SmtpInbox, http_server, json_reply, smtp_server

PHONE = "13800001001"
PAID = {"claim": "C000001", "amount": "8650.00", "reference": "BANK-0001"}
RENDERER = CatalogRenderer("zh-CN", ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def rules() -> Rules:
    return Rules(channels=frozenset(ChannelKind))


@pytest.fixture
def org(ctx: Context) -> Org:
    org = make_org(ctx)
    with ctx.uow() as uow:
        uow.directory.employee(org.employee.id).phone = PHONE
        uow.commit()
    return org


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def fixed_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jitter at its midpoint: each delay is exactly the exponential base."""
    fixed = random.Random()
    monkeypatch.setattr(fixed, "random", lambda: 0.5)
    monkeypatch.setattr(delivery, "random", fixed)


class RefusingChat(RecordingChannel):
    """A chat platform that says the user blocked the bot (or a temporary outage)."""

    def __init__(self, permanent: bool) -> None:
        super().__init__()
        self.permanent = permanent
        self.refused: list[Address] = []

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        self.refused.append(address)
        raise DeliveryFailed("bot was blocked by the user", permanent=self.permanent)


class HookedChat(RecordingChannel):
    """Runs ``hook`` in the middle of the first send: after the call went out, before it returns."""

    def __init__(self, hook: Callable[[], None]) -> None:
        super().__init__()
        self.hook: Callable[[], None] | None = hook

    def send(self, address: Address, message: OutgoingMessage) -> str | None:
        sent = super().send(address, message)
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        return sent


def queue(
    ctx: Context,
    person: Employee,
    channels: Sequence[ChannelKind] = (ChannelKind.CHAT,),
    key: str = "claim.paid",
    stem: str = "claim:1:paid",
) -> list[int]:
    """Queue one notice for ``person`` on ``channels``; returns the outbox ids."""
    with ctx.uow() as uow:
        notify(ctx, uow, uow.directory.employee(person.id), key, PAID, stem, channels=channels)
        uow.commit()
    return [n.id for n in notices(ctx, key, to=person)]


def row(ctx: Context, notification_id: int) -> Notification:
    with ctx.uow() as uow:
        return uow.outbox.get(notification_id)


def deliver(ctx: Context, router: ChannelRouter, owner: str | None = None) -> DeliveryReport:
    return deliver_due(ctx, router, RENDERER, owner)


def with_attempts(ctx: Context, attempts: int | None) -> Context:
    if attempts is None:
        return ctx  # the default: Rules.delivery_attempts
    return dataclasses.replace(
        ctx, rules=dataclasses.replace(ctx.rules, delivery_attempts=attempts)
    )


# Retries ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("fixed_jitter")
def test_sms_retries_back_off_exponentially_and_honour_retry_after(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    replies = [
        json_reply(429, {"error": "slow down"}, {"Retry-After": "600"}),
        json_reply(429, {"error": "slow down"}, {"Retry-After": "1"}),
        json_reply(500, {"error": "oops"}),
        json_reply(500, {"error": "oops"}),
        json_reply(200, {"id": "sms-77"}),
    ]
    with http_server(replies) as gateway:
        router = ChannelRouter(sms=SmsChannel(gateway.url))
        (sms_id,) = queue(ctx, org.employee, [ChannelKind.SMS])
        delays = []
        for attempt in range(1, 5):
            before = clock.now()
            assert deliver(ctx, router) == DeliveryReport(retried=1)
            notice = row(ctx, sms_id)
            assert (notice.state, notice.attempts) == (DeliveryState.PENDING, attempt)
            assert notice.lease_owner is None and notice.next_attempt_at is not None
            delays.append(notice.next_attempt_at - before)
            # Not a second early: the gateway is not asked again before the due time.
            clock.set(notice.next_attempt_at - timedelta(seconds=1))
            assert deliver(ctx, router) == DeliveryReport()
            assert len(gateway.requests) == attempt
            clock.set(notice.next_attempt_at)
        assert deliver(ctx, router) == DeliveryReport(sent=1)

    # 429 asked for 10 minutes: honoured; asking for 1 s does not undercut the backoff (1 min);
    # then 2 and 4 minutes: each wait doubles.
    assert [d.total_seconds() for d in delays] == [600, 60, 120, 240]
    notice = row(ctx, sms_id)
    assert (notice.state, notice.attempts, notice.external_id) == (DeliveryState.SENT, 5, "sms-77")
    assert notice.sent_at == clock.now() and notice.last_error is None
    assert [r["json"] for r in gateway.requests] == [gateway.requests[0]["json"]] * 5
    assert gateway.requests[0]["json"]["to"] == PHONE
    assert "BANK-0001" in gateway.requests[0]["json"]["text"]


def test_the_last_error_is_kept_while_retrying(ctx: Context, org: Org) -> None:
    with http_server([json_reply(503, {})]) as gateway:
        (sms_id,) = queue(ctx, org.employee, [ChannelKind.SMS])
        deliver(ctx, ChannelRouter(sms=SmsChannel(gateway.url)))
    assert row(ctx, sms_id).last_error == "SMS gateway answered 503"


# Dead letters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("attempts", [None, 3], ids=["default-8", "configured-3"])
def test_after_the_last_attempt_the_notice_is_dead_and_hr_is_told(
    ctx: Context, org: Org, clock: ManualClock, attempts: int | None
) -> None:
    ctx = with_attempts(ctx, attempts)
    limit = ctx.rules.delivery_attempts
    assert limit == (attempts or 8)
    chat = RecordingChannel()
    with http_server([json_reply(500, {"error": "down"})]) as gateway:
        router = ChannelRouter(chats={Platform.RECORDING: chat}, sms=SmsChannel(gateway.url))
        (sms_id,) = queue(ctx, org.employee, [ChannelKind.SMS])
        for attempt in range(1, limit):
            before = clock.now()
            assert deliver(ctx, router).retried == 1
            wait = row(ctx, sms_id).next_attempt_at
            assert wait is not None
            # Exponential with ±50 % jitter, capped at an hour.
            base = min(30 * 2 ** (attempt - 1), 3600)
            assert 0.5 * base <= (wait - before).total_seconds() <= 1.5 * base
            clock.set(wait)
        assert deliver(ctx, router).dead == 1
        assert len(gateway.requests) == limit
        clock.advance(timedelta(days=1))
        deliver(ctx, router)
        assert len(gateway.requests) == limit, "a dead notice is not tried again"

    notice = row(ctx, sms_id)
    assert (notice.state, notice.attempts) == (DeliveryState.DEAD, limit)
    (dead,) = [
        a for a in audit_trail(ctx, "notification", sms_id) if a.action == "notification.dead"
    ]
    assert dead.detail["attempts"] == limit
    # ``audit(channel=…)`` fills the row's channel column rather than the detail: either will do.
    assert (dead.detail.get("channel") or dead.channel) == "sms"

    # The branch's HR is told, by chat and e-mail, and the chat copy went out on the next round.
    told = notices(ctx, "delivery.dead_letter")
    assert sorted((n.to, n.channel) for n in told) == [
        (org.hr.employee_no, "chat"),
        (org.hr.employee_no, "email"),
    ]
    assert told[0].params["employee_no"] == org.employee.employee_no
    assert told[0].params["message_key"] == "claim.paid"
    (message,) = chat.to(org.hr.employee_no)
    assert message.key == "delivery.dead_letter"
    assert org.employee.employee_no in message.text and "SMS gateway answered 500" in message.text
    assert PHONE not in message.text


def test_a_dead_letter_notice_that_cannot_be_delivered_raises_no_further_notice(
    ctx: Context, org: Org
) -> None:
    ctx = with_attempts(ctx, 1)
    with http_server([json_reply(500, {})]) as gateway:
        router = ChannelRouter(sms=SmsChannel(gateway.url))  # HR has no chat, no e-mail here
        queue(ctx, org.employee, [ChannelKind.SMS])
        assert deliver(ctx, router).dead == 1
        assert deliver(ctx, router).dead == 2  # HR's chat and e-mail copies: nowhere to go
        assert deliver(ctx, router) == DeliveryReport()
    assert len(notices(ctx, "delivery.dead_letter")) == 2
    assert len(gateway.requests) == 1, "a notice about HR is not sent by SMS to anyone"


# Fallback --------------------------------------------------------------------------------------


def fallbacks(ctx: Context, notification_id: int) -> list[dict[str, Any]]:
    return [
        a.detail
        for a in audit_trail(ctx, "notification", notification_id)
        if a.action == "notification.fallback"
    ]


def test_no_chat_route_falls_back_to_email_and_says_so(
    ctx: Context, org: Org, smtp: tuple[SmtpInbox, int]
) -> None:
    inbox, port = smtp
    slack = RecordingChannel()  # nobody in the org has linked Slack
    router = ChannelRouter(
        chats={Platform.SLACK: slack},
        email=SmtpChannel(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}")),
    )
    (chat_id,) = queue(ctx, org.employee)
    assert deliver(ctx, router) == DeliveryReport(sent=1)

    assert slack.sent == []
    ((recipients, email),) = inbox.messages
    assert recipients == [org.employee.email]
    assert email["Content-Language"] == "zh-CN"
    notice = row(ctx, chat_id)
    assert (notice.state, notice.channel) == (DeliveryState.SENT, ChannelKind.CHAT)
    assert notice.external_id == email["Message-ID"]
    assert fallbacks(ctx, chat_id) == [{"preferred": "chat", "used": "email"}]


def test_a_chat_that_refuses_for_good_falls_back_to_email(
    ctx: Context, org: Org, smtp: tuple[SmtpInbox, int]
) -> None:
    inbox, port = smtp
    blocked = RefusingChat(permanent=True)
    router = ChannelRouter(
        chats={Platform.RECORDING: blocked},
        email=SmtpChannel(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}")),
    )
    (chat_id,) = queue(ctx, org.employee)
    assert deliver(ctx, router) == DeliveryReport(sent=1)
    assert [a.target for a in blocked.refused] == [org.employee.employee_no]
    assert [rcpt for rcpt, _ in inbox.messages] == [[org.employee.email]]
    assert row(ctx, chat_id).attempts == 1
    assert fallbacks(ctx, chat_id) == [{"preferred": "chat", "used": "email"}]


def test_without_email_the_fallback_goes_on_to_sms(ctx: Context, org: Org) -> None:
    with http_server([json_reply(200, {"id": "sms-1"})]) as gateway:
        router = ChannelRouter(
            chats={Platform.RECORDING: RefusingChat(permanent=True)}, sms=SmsChannel(gateway.url)
        )
        (chat_id,) = queue(ctx, org.employee)
        assert deliver(ctx, router) == DeliveryReport(sent=1)
    assert [r["json"]["to"] for r in gateway.requests] == [PHONE]
    assert row(ctx, chat_id).external_id == "sms-1"
    assert fallbacks(ctx, chat_id) == [{"preferred": "chat", "used": "sms"}]


def test_a_temporary_chat_failure_is_retried_on_chat_not_switched(
    ctx: Context, org: Org, smtp: tuple[SmtpInbox, int]
) -> None:
    inbox, port = smtp
    flaky = RefusingChat(permanent=False)
    router = ChannelRouter(
        chats={Platform.RECORDING: flaky},
        email=SmtpChannel(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}")),
    )
    (chat_id,) = queue(ctx, org.employee)
    assert deliver(ctx, router) == DeliveryReport(retried=1)
    assert inbox.messages == []
    assert fallbacks(ctx, chat_id) == []
    assert row(ctx, chat_id).state is DeliveryState.PENDING


def test_no_fallback_onto_a_channel_that_already_carries_the_notice(
    ctx: Context, org: Org, smtp: tuple[SmtpInbox, int]
) -> None:
    inbox, port = smtp
    router = ChannelRouter(
        chats={Platform.SLACK: RecordingChannel()},  # not linked: the chat copy has nowhere to go
        email=SmtpChannel(SmtpConfig.from_url(f"smtp://127.0.0.1:{port}")),
    )
    chat_id, email_id = queue(ctx, org.employee, [ChannelKind.CHAT, ChannelKind.EMAIL])
    assert row(ctx, chat_id).channel is ChannelKind.CHAT
    report = deliver(ctx, router)
    assert report.sent == 1

    # One e-mail, from the e-mail copy; the chat copy did not send a second one.
    assert [rcpt for rcpt, _ in inbox.messages] == [[org.employee.email]]
    assert row(ctx, email_id).state is DeliveryState.SENT
    assert row(ctx, chat_id).state is DeliveryState.DEAD
    assert fallbacks(ctx, chat_id) == []
    # The person was reached by e-mail, so HR is not told that the notice failed.
    assert notices(ctx, "delivery.dead_letter") == []
    assert deliver(ctx, router) == DeliveryReport()
    assert len(inbox.messages) == 1


def test_hr_is_told_once_when_every_copy_of_a_notice_fails(ctx: Context, org: Org) -> None:
    # Nobody has linked Slack and no e-mail channel is configured: neither copy can go anywhere.
    router = ChannelRouter(chats={Platform.SLACK: RecordingChannel()})
    chat_id, email_id = queue(ctx, org.employee, [ChannelKind.CHAT, ChannelKind.EMAIL])
    assert deliver(ctx, router).dead == 2
    assert {row(ctx, chat_id).state, row(ctx, email_id).state} == {DeliveryState.DEAD}
    told = notices(ctx, "delivery.dead_letter")
    assert sorted((n.to, n.channel) for n in told) == [
        (org.hr.employee_no, "chat"),
        (org.hr.employee_no, "email"),
    ]
    assert {n.params["channel"] for n in told} == {"email"}  # told once, when the last copy died


# Leases ----------------------------------------------------------------------------------------


def test_a_lease_lost_mid_send_records_nothing_and_the_new_holder_delivers(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    lease = ctx.rules.lease

    def lose_the_lease() -> None:
        # The send took longer than the lease: it expired and another worker took the row.
        clock.advance(lease + timedelta(seconds=1))
        with ctx.uow() as uow:
            assert uow.outbox.claim_due(ctx.now(), "other-worker", lease) == [chat_id]
            uow.commit()

    chat = HookedChat(lose_the_lease)
    router = ChannelRouter(chats={Platform.RECORDING: chat})
    (chat_id,) = queue(ctx, org.employee)
    assert deliver(ctx, router, owner="slow-worker") == DeliveryReport()

    assert len(chat.sent) == 1  # it went out, but the slow worker may not record it
    notice = row(ctx, chat_id)
    assert (notice.state, notice.attempts, notice.external_id, notice.sent_at) == (
        DeliveryState.PENDING,
        0,
        None,
        None,
    )
    assert notice.lease_owner == "other-worker"
    assert audit_trail(ctx, "notification", chat_id) == []

    # While the other worker holds it, nobody else takes it.
    assert deliver(ctx, router, owner="third-worker") == DeliveryReport()
    assert len(chat.sent) == 1
    # Its holder died too: once that lease runs out the notice is delivered and recorded once.
    clock.advance(lease + timedelta(seconds=1))
    assert deliver(ctx, router, owner="third-worker") == DeliveryReport(sent=1)
    notice = row(ctx, chat_id)
    assert (notice.state, notice.attempts, notice.external_id) == (DeliveryState.SENT, 1, "rec-2")
    assert deliver(ctx, router, owner="third-worker") == DeliveryReport()
    assert len(chat.sent) == 2


def test_stopping_hands_back_the_leases_not_yet_worked_on(ctx: Context, org: Org) -> None:
    chat = RecordingChannel()
    router = ChannelRouter(chats={Platform.RECORDING: chat})
    for n in range(5):
        queue(ctx, org.employee, stem=f"claim:{n}:paid")
    asked = iter([False, False, True])
    report = deliver_due(ctx, router, RENDERER, "stopping", stop=lambda: next(asked, True))
    assert report == DeliveryReport(sent=2)
    with ctx.uow() as uow:
        rows = uow.outbox.all()
        assert [(n.state, n.lease_owner) for n in rows] == [
            (DeliveryState.SENT, None),
            (DeliveryState.SENT, None),
            *[(DeliveryState.PENDING, None)] * 3,
        ]
    # Handed back, not left to expire: another worker delivers them at once.
    assert deliver(ctx, router, owner="next") == DeliveryReport(sent=3)


class EditingChat(RecordingChannel):
    """A chat platform that edits a card in place (as Slack's chat.update does)."""

    def __init__(self) -> None:
        super().__init__()
        self.edits: list[str] = []

    def update(self, address: Address, external_id: str, message: OutgoingMessage) -> str:
        self.edits.append(external_id)
        return external_id


def test_a_card_update_waits_for_the_card_another_worker_holds(
    ctx: Context, org: Org, clock: ManualClock
) -> None:
    from core.domain.notifications import Button
    from core.services.cards import close_cards

    chat = EditingChat()
    router = ChannelRouter(chats={Platform.RECORDING: chat})
    button = Button("claim.approve", "button.approve", {"claim_id": 1}, "primary")
    with ctx.uow() as uow:
        hr = uow.directory.employee(org.hr.id)
        notify(ctx, uow, hr, "claim.review_requested", PAID, "card", buttons=[button],
               subject=("claim", 1))  # fmt: skip
        close_cards(ctx, uow, ("claim", 1), "approved", None)
        uow.commit()
    (card,) = notices(ctx, "claim.review_requested")
    (closing,) = notices(ctx, "card.closed")
    with ctx.uow() as uow:  # worker A has leased the card and not sent it yet
        assert uow.outbox.claim_due(clock.now(), "A", ctx.rules.lease, 1) == [card.id]
        uow.commit()

    assert deliver(ctx, router, owner="B") == DeliveryReport()  # B holds the update back
    assert chat.sent == [] and row(ctx, closing.id).attempts == 0

    with ctx.uow() as uow:
        uow.outbox.release([card.id], "A")
        uow.commit()
    assert deliver(ctx, router) == DeliveryReport(sent=1)  # the card first
    clock.advance(delivery.CARD_FIRST_DELAY)
    assert deliver(ctx, router) == DeliveryReport(sent=1)  # then the update edits it
    assert len(chat.sent) == 1 and chat.edits == [row(ctx, card.id).external_id]
