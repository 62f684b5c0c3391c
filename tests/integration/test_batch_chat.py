"""The monthly contribution cycle played in chat, as transcripts on the demo organisation.

HR builds the month's roster with ``/roster`` and gets the check card; verifying sends it to
finance with the budget; a large amount needs a second tap; marking it paid tells every employee
"社保缴费成功" and HR files the bureau's receipt in every record. Then the refusals (an employee's
stolen button, the verifier approving, a second approval) and, with gateway settlement, the retry
buttons of a failed batch and a failed payout. Assertions are on message keys, not wording.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.gateways.sandbox import SandboxGateway
from adapters.recording import RecordingChannel
from bot.bootstrap import Services, build_gateways, rules_from
from bot.conversation import Conversation
from bot.demo.org import load_demo_org
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import OutgoingMessage, Platform
from core.domain.batches import BatchState
from core.domain.budgets import Budget
from core.domain.directory import Role
from core.domain.periods import Period
from core.domain.records import RecordKind
from core.persistence.uow import Database
from core.ports import (
    BatchSubmission,
    ClaimPayout,
    GatewayError,
    GatewayReceipt,
    ManualClock,
)
from core.services.context import Context, Rules
from core.services.settlement import Gateways
from tests.conftest import DEMO_NOW
from tests.factories import JPEG, PDF, PNG, consent_all
from tests.transcripts import Chatter

NOV = Period(2026, 11)
# 2026-11-03 09:00 in Shanghai: November has no batches yet in the demo organisation.
NOV_3 = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
SHANGHAI = {"U0ZHANGSAN", "U0LISI", "U0EMILY", "U0WANGFANG", "U0LIUQIANG", "U0CHENJING"}
DOCS = (("住院证.pdf", PDF), ("清单.jpg", JPEG), ("身份证.png", PNG))


class FlakyGateway(SandboxGateway):
    """The sandbox, except that the next filing or claim payout named in ``refuse`` fails."""

    def __init__(self, today: Callable[[], date]) -> None:
        super().__init__(today)
        self.refuse: set[str] = set()

    def submit_batch(self, submission: BatchSubmission) -> GatewayReceipt:
        self._maybe_refuse("submit")
        return super().submit_batch(submission)

    def pay_claim(self, payout: ClaimPayout) -> GatewayReceipt:
        self._maybe_refuse("claim")
        return super().pay_claim(payout)

    def _maybe_refuse(self, what: str) -> None:
        if what in self.refuse:
            self.refuse.discard(what)
            raise GatewayError(f"{what} refused: bureau system down", retryable=False)


@pytest.fixture
def rules() -> Rules:
    return Rules(confirm_above=Decimal("10000"))


@pytest.fixture
def convo(ctx: Context, clock: ManualClock) -> Conversation:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    consent_all(ctx)  # consent itself: tests/integration/test_consent*.py
    clock.set(NOV_3)
    return Conversation(ctx)


@pytest.fixture
def chat() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def worker(ctx: Context, db: Database, chat: RecordingChannel) -> Worker:
    return Worker(Services(Settings(), db, ctx), ChannelRouter(chats={Platform.SLACK: chat}))


def person(convo: Conversation, slack_id: str) -> Chatter:
    return Chatter(convo, slack_id)


def pushed(chat: RecordingChannel, target: str, key: str) -> list[OutgoingMessage]:
    return [m for a, m in chat.sent if a.target == target and m.key == key]


def batch_state(ctx: Context, batch_id: int) -> BatchState:
    with ctx.uow() as uow:
        return uow.batches.get(batch_id).state


def check_card(convo: Conversation, worker: Worker, chat: RecordingChannel) -> OutgoingMessage:
    """王芳 builds November's roster; the Shanghai check card she is pushed."""
    assert person(convo, "U0WANGFANG").says("/roster")[-1] == "chat.roster_sent"
    worker.tick()
    cards = pushed(chat, "U0WANGFANG", "batch.check_requested")
    return next(card for card in cards if card.params["branch_code"] == "SH01")


def test_hr_roster_builds_the_month_and_pushes_the_check_card(
    ctx: Context, convo: Conversation, worker: Worker, chat: RecordingChannel
) -> None:
    hr = person(convo, "U0WANGFANG")
    assert hr.says("/roster") == ["chat.roster_line", "chat.roster_line", "chat.roster_sent"]
    lines = {m.params["branch_code"]: m.params for m in hr.last[:2]}
    assert set(lines) == {"BJ01", "SH01"}  # her own branches only
    assert lines["SH01"]["action"] == "created" and lines["SH01"]["headcount"] == 7
    worker.tick()
    cards = pushed(chat, "U0WANGFANG", "batch.check_requested")
    assert {c.params["branch_code"] for c in cards} == {"BJ01", "SH01"}
    for card in cards:
        assert [b.action for b in card.buttons] == ["batch.verify", "batch.return"]
        assert card.params["previous_total"] is not None  # October, to compare with
    # Again: nothing changed, no new version; the asker gets the cards once more.
    assert hr.says("社保花名册") == ["chat.roster_line", "chat.roster_line", "chat.roster_sent"]
    assert {m.params["action"] for m in hr.last[:2]} == {"unchanged"}
    worker.tick()
    again = pushed(chat, "U0WANGFANG", "batch.check_requested")[2:]
    assert {(c.params["branch_code"], c.params["version"]) for c in again} == {
        ("BJ01", 1),
        ("SH01", 1),
    }


def test_an_employee_can_neither_build_nor_verify(
    ctx: Context, convo: Conversation, worker: Worker, chat: RecordingChannel
) -> None:
    card = check_card(convo, worker, chat)
    zhang = person(convo, "U0ZHANGSAN")
    assert zhang.says("/roster") == ["chat.not_allowed"]
    assert zhang.clicks("batch.verify", token=card.buttons[0].token) == ["chat.not_allowed"]
    assert batch_state(ctx, card.params["batch_id"]) is BatchState.DRAFT


def test_verify_approve_with_confirmation_pay_and_file_the_receipt(
    ctx: Context, convo: Conversation, worker: Worker, chat: RecordingChannel
) -> None:
    card = check_card(convo, worker, chat)
    batch_id = card.params["batch_id"]
    with ctx.uow() as uow:
        uow.session.add(Budget(uow.directory.branch_by_code("SH01").id, NOV, Decimal("30000")))
        uow.commit()
    hr, finance = person(convo, "U0WANGFANG"), person(convo, "U0SUNLI")
    hr.last = [card]
    assert hr.clicks("batch.verify") == ["chat.batch_verified_done"]
    worker.tick()
    (ask,) = pushed(chat, "U0SUNLI", "batch.approval_requested")
    assert ask.params["budget"] is not None and Decimal(ask.params["over_budget"]) > 0
    assert ask.params["confirm"] is True and "30000" in ask.text

    finance.last = [ask]
    assert finance.clicks("batch.approve") == ["chat.batch_confirm_needed"]
    assert batch_state(ctx, batch_id) is BatchState.FINANCE_PENDING
    assert finance.clicks("batch.approve_confirm") == ["chat.batch_approved_done"]
    assert batch_state(ctx, batch_id) is BatchState.APPROVED
    finance.last = [ask]
    assert finance.clicks("batch.approve") == ["chat.already_decided"]  # politely, once only

    worker.tick()
    (approved,) = pushed(chat, "U0WANGFANG", "batch.approved")
    hr.last = [approved]
    assert hr.clicks("batch.paid") == ["chat.batch_paid_done"]  # HR may mark it paid too
    worker.tick()
    told = {a.target for a, m in chat.sent if m.key == "contribution.paid"}
    assert told >= SHANGHAI and "U0QIANWEI" not in told

    assert hr.clicks("batch.receipt") == ["chat.receipt_prompt"]
    assert hr.says("", ("setup.exe", b"MZ\x90\x00 not a receipt"))[0].startswith("upload.")
    assert hr.says("", ("缴费凭证.pdf", PDF)) == ["chat.receipt_filed"]
    assert hr.last[0].params["filed"] == 7
    with ctx.uow() as uow:
        zhang = uow.directory.employee_by_no("E1001")
        receipts = uow.records.of_employee(zhang.id, RecordKind.CONTRIBUTION_RECEIPT)
        assert "缴费凭证.pdf" in {r.filename for r in receipts if r.period == NOV}
    assert hr.says("进度") != ["chat.receipt_prompt"]  # the receipt dialog is over


def test_the_receipt_dialog_can_be_cancelled(
    ctx: Context, convo: Conversation, worker: Worker, chat: RecordingChannel
) -> None:
    hr = person(convo, "U0WANGFANG")
    hr.last = [check_card(convo, worker, chat)]
    hr.clicks("batch.verify")
    worker.tick()
    finance = person(convo, "U0SUNLI")
    finance.last = pushed(chat, "U0SUNLI", "batch.approval_requested")
    finance.clicks("batch.approve")
    finance.clicks("batch.approve_confirm")
    assert finance.clicks("batch.paid") == ["chat.batch_paid_done"]
    assert finance.clicks("batch.receipt") == ["chat.receipt_prompt"]
    assert finance.says("where do I send it?") == ["chat.receipt_prompt"]
    assert finance.says("/cancel") == ["chat.cancelled"]
    assert finance.says("", ("缴费凭证.pdf", PDF)) == ["chat.files_without_claim"]


def test_whoever_verified_cannot_approve(
    ctx: Context, convo: Conversation, worker: Worker, chat: RecordingChannel
) -> None:
    hr = person(convo, "U0WANGFANG")
    hr.last = [check_card(convo, worker, chat)]
    assert hr.clicks("batch.verify") == ["chat.batch_verified_done"]
    with ctx.uow() as uow:  # she moves to finance, still answering for Shanghai
        uow.directory.employee_by_no("H2001").role = Role.FINANCE
        uow.commit()
    assert "chat.approval_batch" in hr.says("/approvals")
    hr.last = [m for m in hr.last if m.params.get("period") == "2026-11"]
    assert [m.params["branch"] for m in hr.last] == ["上海分公司"]
    assert hr.clicks("batch.approve") == ["chat.not_allowed_sod"]


def test_hr_returns_a_draft_with_a_reason(
    ctx: Context, convo: Conversation, worker: Worker, chat: RecordingChannel
) -> None:
    hr = person(convo, "U0WANGFANG")
    card = check_card(convo, worker, chat)
    hr.last = [card]
    assert hr.clicks("batch.return") == ["chat.reason_prompt"]
    assert hr.says("李四的基数要更新") == ["chat.decision_recorded"]
    assert batch_state(ctx, card.params["batch_id"]) is BatchState.RETURNED


@pytest.fixture
def flaky(ctx: Context, clock: ManualClock) -> FlakyGateway:
    ctx.rules = dataclasses.replace(ctx.rules, settlement="gateway")
    return FlakyGateway(ctx.today)


@pytest.fixture
def gateway_worker(
    ctx: Context, db: Database, chat: RecordingChannel, flaky: FlakyGateway
) -> Worker:
    services = Services(Settings(), db, ctx, Gateways(flaky, flaky))
    return Worker(services, ChannelRouter(chats={Platform.SLACK: chat}))


def test_a_failed_filing_is_retried_from_the_card(
    ctx: Context,
    convo: Conversation,
    gateway_worker: Worker,
    chat: RecordingChannel,
    flaky: FlakyGateway,
) -> None:
    hr, finance = person(convo, "U0WANGFANG"), person(convo, "U0SUNLI")
    hr.says("/roster")
    gateway_worker.tick()
    card = next(
        m
        for m in pushed(chat, "U0WANGFANG", "batch.check_requested")
        if m.params["branch_code"] == "BJ01"  # below the confirmation amount
    )
    hr.last = [card]
    hr.clicks("batch.verify")
    gateway_worker.tick()
    finance.last = pushed(chat, "U0SUNLI", "batch.approval_requested")
    flaky.refuse.add("submit")
    assert finance.clicks("batch.approve") == ["chat.batch_approved_gateway"]
    gateway_worker.tick()  # the filing fails: HR is told, with a retry button
    (approved,) = pushed(chat, "U0WANGFANG", "batch.approved")
    assert approved.buttons == ()  # nothing to mark by hand: hrbot pays
    (failed,) = pushed(chat, "U0WANGFANG", "batch.failed")
    assert failed.params["cause"] == "bureau_system"
    hr.last = [failed]
    assert hr.clicks("batch.retry") == ["chat.batch_retried"]
    gateway_worker.tick()  # filed
    gateway_worker.tick()  # paid
    assert batch_state(ctx, card.params["batch_id"]) is BatchState.PAID
    assert pushed(chat, "U0QIANWEI", "contribution.paid")
    hr.last = [failed]
    assert hr.clicks("batch.retry") == ["chat.already_decided"]


def test_a_failed_payout_is_retried_by_finance(
    ctx: Context,
    convo: Conversation,
    gateway_worker: Worker,
    chat: RecordingChannel,
    flaky: FlakyGateway,
    clock: ManualClock,
) -> None:
    clock.set(DEMO_NOW)  # October: Beijing's months are all paid, so the claim is not held
    qian, finance = person(convo, "U0QIANWEI"), person(convo, "U0SUNLI")
    qian.says("/claim")
    qian.clicks("wizard.type")
    qian.says("", *DOCS)
    qian.says("3200")
    assert qian.clicks("wizard.submit") == ["chat.claim_submitted_review"]
    gateway_worker.tick()
    finance.last = pushed(chat, "U0SUNLI", "claim.review_requested")
    flaky.refuse.add("claim")
    assert finance.clicks("claim.approve") == ["chat.claim_approved_gateway"]
    gateway_worker.tick()
    (failed,) = pushed(chat, "U0SUNLI", "claim.payout_failed")
    finance.last = [failed]
    assert finance.clicks("claim.retry_payout") == ["chat.payout_retried"]
    gateway_worker.tick()
    assert pushed(chat, "U0QIANWEI", "claim.paid")


def test_settings_choose_the_rules_and_the_gateways() -> None:
    clock = ManualClock(NOV_3)
    settings = Settings(
        settlement="sandbox",
        approval_confirm_above=Decimal("50000"),
        roster_day=5,
        base_min="",  # a blank value in .env means unset
        base_max=Decimal("35000"),
    )
    rules = rules_from(settings)
    assert (rules.settlement, rules.roster_day, rules.confirm_above) == ("gateway", 5, 50000)
    assert (rules.rates.base_min, rules.rates.base_max) == (None, Decimal("35000"))
    gateways = build_gateways(settings, clock)
    assert gateways is not None and isinstance(gateways.bureau, SandboxGateway)
    assert build_gateways(Settings(), clock) is None
    half = Settings(settlement="gateway", bureau_gateway_url="https://bureau.example")
    assert "HRBOT_PAYMENT_GATEWAY_URL" in (half.gateway_problem() or "")
    with pytest.raises(ValueError, match="HRBOT_BUREAU_GATEWAY_TOKEN"):
        build_gateways(half, clock)
    full = half.model_copy(
        update={
            "bureau_gateway_token": "t",
            "payment_gateway_url": "https://bank.example",
            "payment_gateway_token": "t",
        }
    )
    gateways = build_gateways(full, clock)
    assert (
        gateways is not None and repr(gateways.bank) == "HttpPaymentGateway('https://bank.example')"
    )
    for gateway in (gateways.bureau, gateways.bank):
        gateway.close()  # type: ignore[attr-defined]
