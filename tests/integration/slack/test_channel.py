"""Pushes through ``SlackChannel`` to the fake Web API: DMs, cards edited in place, 429 with
``Retry-After``, and people Slack cannot reach falling back to e-mail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.recording import RecordingChannel
from adapters.slack.channel import SlackChannel
from adapters.slack.config import SlackConfig
from bot.i18n import CatalogRenderer
from bot.routing import ChannelRouter
from core.chat import Address, OutgoingButton, OutgoingFile, OutgoingMessage, Platform
from core.domain.notifications import ChannelKind, DeliveryState
from core.ports import DeliveryFailed
from core.services.common import notify
from core.services.context import Context, Rules
from core.services.delivery import deliver_due
from tests.factories import make_org, notices
from tests.fakes_slack import TOKEN, FakeSlack, blocks_of, fake_slack_server
from tests.integration.slack.conftest import SECRET

ZHANG = Address(Platform.SLACK, "U0ZHANGSAN")
CARD = OutgoingMessage(
    "待审核", (OutgoingButton("批准", "claim.approve", "n7.0", "primary"),), key="claim.review"
)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with fake_slack_server() as server:
        yield server


@pytest.fixture
def channel(fake: FakeSlack) -> SlackChannel:
    return SlackChannel(SlackConfig(TOKEN, SECRET, api_url=fake.url))


def test_a_push_opens_the_dm_and_returns_channel_and_ts(
    fake: FakeSlack, channel: SlackChannel
) -> None:
    first = channel.send(ZHANG, CARD)
    second = channel.send(ZHANG, OutgoingMessage("again"))
    assert [c.method for c in fake.calls] == [
        "conversations.open",
        "chat.postMessage",
        "chat.postMessage",
    ], "the DM channel is opened once, then remembered"
    posted = fake.posts()[0]
    assert first == f"DU0ZHANGSAN:{posted.ts}" and second != first
    assert blocks_of(posted)[-1]["elements"][0]["value"] == "n7.0"


def test_a_card_is_edited_in_place(fake: FakeSlack, channel: SlackChannel) -> None:
    sent = channel.send(ZHANG, CARD)
    closed = OutgoingMessage("已批准 · 孙丽", key="card.closed")
    assert channel.update(ZHANG, sent, closed) == sent
    (edit,) = fake.calls_to("chat.update")
    assert f"{edit.params['channel']}:{edit.params['ts']}" == sent
    assert not [b for b in blocks_of(edit) if b["type"] == "actions"]


def test_a_card_that_cannot_be_edited_is_sent_anew(fake: FakeSlack, channel: SlackChannel) -> None:
    sent = channel.send(ZHANG, CARD)
    fake.fail("chat.update", error="message_not_found")
    again = channel.update(ZHANG, sent, OutgoingMessage("closed"))
    assert again != sent and len(fake.posts()) == 2


def test_files_follow_the_message(fake: FakeSlack, channel: SlackChannel) -> None:
    voucher = OutgoingFile("voucher.pdf", "application/pdf", b"%PDF-1.4 voucher")
    channel.send(ZHANG, OutgoingMessage("您的凭证", files=(voucher,)))
    assert list(fake.uploads.values()) == [b"%PDF-1.4 voucher"]
    (done,) = fake.calls_to("files.completeUploadExternal")
    assert done.params["channel_id"] == "DU0ZHANGSAN"


def test_429_carries_retry_after(fake: FakeSlack, channel: SlackChannel) -> None:
    fake.fail("chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "7"})
    with pytest.raises(DeliveryFailed) as failed:
        channel.send(ZHANG, CARD)
    assert failed.value.retry_after == 7 and not failed.value.permanent


def test_a_server_error_is_temporary(fake: FakeSlack, channel: SlackChannel) -> None:
    fake.fail("chat.postMessage", status=500, error="internal_error")
    with pytest.raises(DeliveryFailed) as failed:
        channel.send(ZHANG, CARD)
    assert not failed.value.permanent


@pytest.mark.parametrize("error", ["user_not_found", "account_inactive", "not_in_channel"])
def test_someone_slack_cannot_reach_is_permanent_and_remembered(
    fake: FakeSlack, channel: SlackChannel, error: str
) -> None:
    method = "chat.postMessage" if error == "not_in_channel" else "conversations.open"
    fake.fail(method, error=error)
    with pytest.raises(DeliveryFailed) as failed:
        channel.send(ZHANG, CARD)
    assert failed.value.permanent
    calls = len(fake.calls)
    with pytest.raises(DeliveryFailed):
        channel.send(ZHANG, CARD)
    assert len(fake.calls) == calls, "the next notice does not ask Slack again for a while"


def test_an_unreachable_address_falls_back_to_email_through_the_dispatcher(
    ctx: Context, fake: FakeSlack, channel: SlackChannel
) -> None:
    org = make_org(ctx)
    email = RecordingChannel()
    router = ChannelRouter(chats={Platform.SLACK: channel}, email=email)
    _queue_for(ctx, org.employee.id, slack_id="U0GONE")
    fake.fail("conversations.open", error="account_inactive")
    report = deliver_due(ctx, router, CatalogRenderer("zh-CN", ZoneInfo("Asia/Shanghai")))
    assert report.sent == 1
    assert [a.target for a, _ in email.sent] == [org.employee.email]


def test_a_rate_limited_push_waits_as_long_as_slack_asked(
    ctx: Context, fake: FakeSlack, channel: SlackChannel
) -> None:
    org = make_org(ctx)
    _queue_for(ctx, org.employee.id, slack_id="U0BUSY")
    fake.fail("chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "90"})
    router = ChannelRouter(chats={Platform.SLACK: channel})
    report = deliver_due(ctx, router, CatalogRenderer("zh-CN", ZoneInfo("Asia/Shanghai")))
    assert report.retried == 1
    with ctx.uow() as uow:
        (notice,) = uow.outbox.all()
        assert notice.state is DeliveryState.PENDING
        assert notice.next_attempt_at is not None
        assert notice.next_attempt_at >= ctx.now() + timedelta(seconds=90)


@pytest.fixture
def rules() -> Rules:
    return Rules(channels=frozenset(ChannelKind))


def _queue_for(ctx: Context, employee_id: int, slack_id: str) -> None:
    with ctx.uow() as uow:
        person = uow.directory.employee(employee_id)
        person.slack_user_id = slack_id
        notify(ctx, uow, person, "claim.paid", {"claim": "C1", "amount": "1.00"}, "paid:1")
        uow.commit()
    assert notices(ctx, "claim.paid")
