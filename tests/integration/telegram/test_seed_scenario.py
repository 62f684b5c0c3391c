"""The seed scenario entirely through Telegram, in webhook mode and in polling mode: 张三 claims
and uploads, HR gives the cause, finance approves and pays with buttons, the card is edited, the
voucher arrives as a document. Every button press is a callback query carrying only a token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.persistence.uow import Database
from core.ports import ManualClock
from core.services.context import Context
from tests.factories import JPEG, PDF, PNG
from tests.integration.telegram.conftest import (
    SUNLI,
    WANGFANG,
    ZHANG,
    Harness,
    start_harness,
    stop_harness,
)
from tests.integration.telegram.fake_bot_api import FakeBotApi


@pytest.fixture(params=["webhook", "polling"])
async def h(
    request: pytest.FixtureRequest, fake: FakeBotApi, demo_org: Context, db: Database
) -> AsyncIterator[Harness]:
    harness = await start_harness(fake, demo_org, db, telegram_mode=request.param)
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def test_the_seed_scenario_through_telegram(h: Harness, clock: ManualClock) -> None:
    zhang, hr, finance = h.user(ZHANG), h.user(WANGFANG), h.user(SUNLI)

    # 1. Zhang opens a hospitalization claim and uploads three documents (one as a photo).
    assert await zhang.says("/claim") == ["chat.claim_choose_type"]
    assert await zhang.clicks("wizard.type") == ["chat.claim_opened", "chat.claim_checklist"]
    await zhang.sends_document("DOC-ADMISSION-1", "住院证.pdf", PDF)
    await zhang.sends_photo("BILL", JPEG)
    assert await zhang.sends_document("DOC-ID-1", "身份证.png", PNG) == [
        "chat.claim_checklist_done",
        "chat.claim_ask_amount",
    ]
    fetched = {c.get("file_id") for c in h.fake.calls_to("getFile")}
    assert fetched == {"DOC-ADMISSION-1", "PHOTO-BILL-l", "DOC-ID-1"}  # the largest photo only
    assert await zhang.says("¥8,650.00") == ["chat.claim_confirm"]

    # 2-3. The claim is held; Zhang is told, HR is alerted with a card.
    assert await zhang.clicks("wizard.submit") == ["chat.claim_submitted_held"]
    h.worker.tick()
    card = h.channel.to(WANGFANG, "alert.level1")

    # 4. HR gives the cause; finance approves and pays both batches with buttons.
    assert await hr.clicks("alert.acknowledge", among=[card]) == ["chat.ack_cause"]
    assert await hr.clicks("ack.cause") == ["chat.ack_date"]
    assert await hr.clicks("ack.date", index=1) == ["chat.ack_done"]
    assert await finance.says("/approvals") == ["chat.approval_batch", "chat.approval_batch"]
    for batch in list(finance.last):
        assert await finance.clicks("batch.approve", among=[batch]) == ["chat.batch_approved_done"]
        assert await finance.clicks("batch.paid") == ["chat.batch_paid_done"]

    # 5. Paid: the held claim resumes by itself and Zhang is told; finance is asked to review.
    h.worker.tick()
    h.channel.to(ZHANG, "claim.resumed")
    review = h.channel.to(SUNLI, "claim.review_requested")

    # 6. Finance approves and pays with buttons.
    assert await finance.clicks("claim.approve", among=[review]) == ["chat.claim_approved_done"]
    assert await finance.clicks("claim.pay") == ["chat.claim_paid_done"]
    # Pressing approve again on the same card is a no-op (the press acted once); the same
    # button seen on another message is refused with an alert on the button, not a message.
    assert await finance.clicks("claim.approve", among=[review]) == []
    token = next(b.token for b in review.buttons if b.action == "claim.approve")
    h.presses += 1
    await h.deliver(finance.click_update(token, message_id=2))
    assert finance.keys == ["chat.already_decided"]
    (alert,) = [c for c in h.fake.calls_to("answerCallbackQuery") if c.get("show_alert")]
    assert alert.get("text") == finance.last[0].text

    clock.advance(timedelta(minutes=1))
    h.worker.tick()
    paid = h.channel.to(ZHANG, "claim.paid")
    assert await zhang.clicks("claim.voucher", among=[paid]) == ["chat.voucher"]
    (voucher,) = h.fake.calls_to("sendDocument", ZHANG)
    (filename, content) = voucher.files["document"]
    assert content.startswith(b"%PDF-") and filename.endswith(".pdf")

    # The review card finance held was edited in place, its buttons spent.
    edits = h.fake.calls_to("editMessageText", SUNLI)
    assert edits, "finance's review card was not edited"
    assert any(c.get("reply_markup") == {"inline_keyboard": []} for c in edits)

    # Every press was answered, every update recorded once and marked processed.
    presses = len([u for u in h.fake.calls if u.method == "answerCallbackQuery"])
    assert presses == h.presses
    with h.ctx.uow() as uow:
        assert not uow.audit.for_subject("telegram_update", 0)  # no dead letters
