"""The seed scenario entirely through Slack: 张三, HR 王芳 and finance 孙丽 each in their DMs."""

from __future__ import annotations

from datetime import timedelta

from core.domain.claims import ClaimState
from core.ports import ManualClock
from tests.factories import JPEG, PDF, PNG, notices
from tests.fakes_slack import buttons_of, dm_channel, key_of
from tests.integration.slack.conftest import SlackHarness

ZHANG, HR, FINANCE = "U0ZHANGSAN", "U0WANGFANG", "U0SUNLI"
DOCS = (
    ("住院证.pdf", PDF, "application/pdf"),
    ("清单.jpg", JPEG, "image/jpeg"),
    ("身份证.png", PNG, "image/png"),
)


async def _claim_is_held(slack: SlackHarness) -> None:
    assert await slack.says(ZHANG, "/claim") == ["chat.claim_choose_type"]
    assert await slack.clicks(ZHANG, "wizard.type") == ["chat.claim_opened", "chat.claim_checklist"]
    files = [slack.fake.add_file(name, content, kind) for name, content, kind in DOCS]
    keys = await slack.says(ZHANG, "", files)  # three files in one message, as Slack sends them
    assert keys == ["chat.claim_checklist_done", "chat.claim_ask_amount"]
    assert slack.fake.downloads == 3, "each file fetched once, with the bot token"
    assert len(slack.fake.calls_to("files.info")) == 3
    assert await slack.says(ZHANG, "¥8,650.00") == ["chat.claim_confirm"]
    assert await slack.clicks(ZHANG, "wizard.submit") == ["chat.claim_submitted_held"]


async def _hr_gives_the_cause(slack: SlackHarness) -> None:
    alert = slack.latest(HR, "alert.level1")
    assert await slack.clicks(HR, "alert.acknowledge", on=alert) == ["chat.ack_cause"]
    assert await slack.clicks(HR, "ack.cause") == ["chat.ack_date"]
    assert await slack.clicks(HR, "ack.date", index=1) == ["chat.ack_done"]


async def _finance_approves_the_batches(slack: SlackHarness) -> None:
    assert await slack.says(FINANCE, "/approvals") == ["chat.approval_batch", "chat.approval_batch"]
    cards = slack.fake.posts(dm_channel(FINANCE))[-2:]
    for card in cards:
        approve = next(b for b in buttons_of(card) if b["action_id"] == "batch.approve")
        assert approve["confirm"]["confirm"]["text"], "approving money asks 'are you sure?'"
        assert await slack.click_button(FINANCE, card, approve) == ["chat.batch_approved_done"]
        assert await slack.clicks(FINANCE, "batch.paid") == ["chat.batch_paid_done"]


async def test_the_seed_scenario_through_slack(slack: SlackHarness, clock: ManualClock) -> None:
    await _claim_is_held(slack)
    await slack.tick()
    assert slack.latest(ZHANG, "claim.held")  # the hold notice, pushed to his DM
    assert {c.params["users"] for c in slack.fake.calls_to("conversations.open")} >= {ZHANG, HR}
    await _hr_gives_the_cause(slack)
    await _finance_approves_the_batches(slack)
    await slack.tick()
    assert slack.latest(ZHANG, "claim.resumed")
    review = slack.latest(FINANCE, "claim.review_requested")
    assert await slack.clicks(FINANCE, "claim.approve", on=review) == ["chat.claim_approved_done"]
    assert await slack.clicks(FINANCE, "claim.pay") == ["chat.claim_paid_done"]
    clock.advance(timedelta(minutes=1))
    await slack.tick()
    paid = slack.latest(ZHANG, "claim.paid")
    assert await slack.clicks(ZHANG, "claim.voucher", on=paid) == ["chat.voucher"]
    (voucher,) = slack.fake.uploads.values()
    assert voucher.startswith(b"%PDF-")
    edits = [c for c in slack.fake.calls_to("chat.update") if key_of(c) == "card.closed"]
    assert any(
        (e.params["channel"], e.params["ts"]) == (review.params["channel"], review.ts)
        for e in edits
    ), "finance's review card was edited in place"
    assert not buttons_of(edits[-1]), "a closed card has no buttons left"
    assert notices(slack.ctx, "claim.paid") and _claim_state(slack) is ClaimState.PAID


def _claim_state(slack: SlackHarness) -> ClaimState:
    with slack.ctx.uow() as uow:
        (claim,) = uow.claims.of_employee(_zhang_id(slack))
        return claim.state


def _zhang_id(slack: SlackHarness) -> int:
    with slack.ctx.uow() as uow:
        person = uow.directory.employee_by_chat("slack", ZHANG)
        assert person is not None
        return person.id
