"""The conversation, played as transcripts on the demo organisation, in both languages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.recording import RecordingChannel
from bot.bootstrap import Services
from bot.conversation import Conversation, parse_command
from bot.demo.org import load_demo_org
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import Platform
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services.context import Context
from tests.factories import JPEG, PDF, PNG, consent_all
from tests.transcripts import Chatter

DOCS = (("住院证.pdf", PDF), ("清单.jpg", JPEG), ("身份证.png", PNG))


@pytest.fixture
def convo(ctx: Context) -> Conversation:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    consent_all(ctx)  # consent itself: tests/integration/test_consent*.py
    return Conversation(ctx)


@pytest.fixture
def pushes(ctx: Context, db: Database) -> tuple[Worker, RecordingChannel]:
    chat = RecordingChannel()
    worker = Worker(Services(Settings(), db, ctx), ChannelRouter(chats={Platform.SLACK: chat}))
    return worker, chat


def person(convo: Conversation, slack_id: str) -> Chatter:
    return Chatter(convo, slack_id)


def test_commands_and_synonyms_parse() -> None:
    assert parse_command("/status@hrbot") == ("status", "")
    assert parse_command("我的社保") == ("status", "")
    assert parse_command("/link a@b.cn") == ("link", "a@b.cn")
    assert parse_command("住院要什么材料") == (None, "住院要什么材料")


def test_status_shows_the_strip_and_what_delayed_means(convo: Conversation) -> None:
    zhang = person(convo, "U0ZHANGSAN")
    assert zhang.says("/status") == ["chat.status", "chat.status_delayed"]
    assert "2026-08" in zhang.text and "王芳" in zhang.text


def test_english_speaker_is_answered_in_english(convo: Conversation) -> None:
    emily = person(convo, "U0EMILY")
    emily.says("/help")
    assert "I can help you" in emily.text


def test_claim_wizard_survives_a_restart_and_holds_the_claim(
    ctx: Context, convo: Conversation
) -> None:
    zhang = person(convo, "U0ZHANGSAN")
    assert zhang.says("/claim") == ["chat.claim_choose_type"]
    assert zhang.clicks("wizard.type") == ["chat.claim_opened", "chat.claim_checklist"]
    zhang.says("", DOCS[0])
    assert "❌" in zhang.text  # the live checklist still misses two
    restarted = Chatter(Conversation(ctx), "U0ZHANGSAN")  # a new process: state is in the db
    assert restarted.says("", *DOCS[1:]) == ["chat.claim_checklist_done", "chat.claim_ask_amount"]
    assert restarted.says("一万块") == ["chat.claim_amount_invalid"]
    assert restarted.says("¥8,650.00") == ["chat.claim_confirm"]
    assert restarted.clicks("wizard.submit") == ["chat.claim_submitted_held"]
    assert restarted.says("/progress") == ["chat.progress_held"]
    assert "2026-08" in restarted.text


def test_a_disguised_upload_is_refused_and_nothing_kept(convo: Conversation) -> None:
    zhang = person(convo, "U0ZHANGSAN")
    zhang.says("/claim")
    zhang.clicks("wizard.type")
    keys = zhang.says("", ("报告.pdf", b"MZ\x90\x00 this is an exe"))
    assert keys[0].startswith("upload.") and keys[-1] == "chat.claim_checklist"
    assert "✅" not in zhang.text


def test_the_seed_scenario_across_three_roles(
    ctx: Context,
    clock: ManualClock,
    convo: Conversation,
    pushes: tuple[Worker, RecordingChannel],
) -> None:
    worker, chat = pushes
    zhang, hr, finance = (person(convo, u) for u in ("U0ZHANGSAN", "U0WANGFANG", "U0SUNLI"))
    zhang.says("/claim")
    zhang.clicks("wizard.type")
    zhang.says("", *DOCS)
    zhang.says("8650")
    zhang.clicks("wizard.submit")
    worker.tick()
    card = next(m for a, m in chat.sent if a.target == "U0WANGFANG" and m.key == "alert.level1")
    hr.last = [card]
    assert hr.clicks("alert.acknowledge") == ["chat.ack_cause"]
    assert hr.clicks("ack.cause") == ["chat.ack_date"]
    assert hr.clicks("ack.date", index=1) == ["chat.ack_done"]
    assert finance.says("/approvals") == ["chat.approval_batch", "chat.approval_batch"]
    batches = list(finance.last)
    for message in batches:
        finance.last = [message]
        assert finance.clicks("batch.approve") == ["chat.batch_approved_done"]
        assert finance.clicks("batch.paid") == ["chat.batch_paid_done"]
    worker.tick()
    assert "claim.resumed" in [m.key for a, m in chat.sent if a.target == "U0ZHANGSAN"]
    review = next(
        m for a, m in chat.sent if a.target == "U0SUNLI" and m.key == "claim.review_requested"
    )
    finance.last = [review]
    assert finance.clicks("claim.approve") == ["chat.claim_approved_done"]
    assert finance.clicks("claim.pay") == ["chat.claim_paid_done"]
    finance.last = [review]
    assert finance.clicks("claim.approve") == ["chat.already_decided"]
    clock.advance(timedelta(minutes=1))
    worker.tick()
    paid = next(m for a, m in chat.sent if a.target == "U0ZHANGSAN" and m.key == "claim.paid")
    zhang.last = [paid]
    assert zhang.clicks("claim.voucher") == ["chat.voucher"]
    assert zhang.last[0].files[0].content.startswith(b"%PDF-")
    closed = [m for a, m in chat.sent if a.target == "U0SUNLI" and m.key == "card.closed"]
    assert closed, "finance's review card was closed for everyone holding it"


def test_clicks_are_authorised_whatever_the_button_says(
    convo: Conversation, pushes: tuple[Worker, RecordingChannel]
) -> None:
    worker, chat = pushes
    zhang = person(convo, "U0ZHANGSAN")
    zhang.says("/claim")
    zhang.clicks("wizard.type")
    zhang.says("", *DOCS)
    zhang.says("100")
    zhang.clicks("wizard.submit")
    worker.tick()
    card = next(m for a, m in chat.sent if a.target == "U0WANGFANG" and m.key == "alert.level1")
    stolen = card.buttons[0].token
    assert zhang.clicks("alert.acknowledge", token=stolen) == ["chat.not_allowed"]
    assert zhang.says("/approvals") == ["chat.not_allowed"]
    other_finance = person(convo, "U0ZHOUJIE")  # answers for Guangzhou and Chengdu only
    assert other_finance.says("/approvals") == ["chat.approvals_none"]


def test_an_unknown_user_is_asked_to_link_and_sees_nothing_personal(
    convo: Conversation,
) -> None:
    stranger = person(convo, "U0NOBODY")
    assert stranger.says("/status") == ["chat.link_needed"]
    assert stranger.says("住院报销需要哪些材料") == ["chat.faq_answer", "chat.faq_follow_up"]
    assert stranger.says("/link nobody@example.com") == ["chat.link_unavailable"]


def test_a_question_nobody_can_answer_goes_to_hr(
    convo: Conversation, pushes: tuple[Worker, RecordingChannel]
) -> None:
    worker, chat = pushes
    zhang, hr = person(convo, "U0ZHANGSAN"), person(convo, "U0WANGFANG")
    assert zhang.says("公司年会在哪里举办") == ["chat.handoff_sent"]
    worker.tick()
    ask = next(m for a, m in chat.sent if a.target == "U0WANGFANG" and m.key == "handoff.new")
    hr.last = [ask]
    assert hr.clicks("handoff.reply") == ["chat.handoff_reply_prompt"]
    assert hr.says("在上海总部") == ["chat.handoff_replied"]
    worker.tick()
    answered = [m for a, m in chat.sent if a.target == "U0ZHANGSAN" and m.key == "handoff.answered"]
    assert answered and "上海总部" in answered[0].text
