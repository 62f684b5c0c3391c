"""Who clicked decides, every time: a button is only ever an opaque token; the core checks the
clicker's role and scope; refusals are ephemeral, audited, and change nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from core.domain.audit import AuditEntry
from core.domain.claims import ClaimState
from core.services.claims import set_claimed_amount, submit_claim
from tests.factories import open_complete_claim
from tests.fakes_slack import Call, buttons_of, dm_channel
from tests.integration.slack.conftest import SlackHarness, click_payload

ZHANG, HR, HELEI, ZHOUJIE = "U0ZHANGSAN", "U0WANGFANG", "U0HELEI", "U0ZHOUJIE"
DECISIONS = ("claim.approve", "claim.reject", "claim.return")


def _submit(slack: SlackHarness, slack_id: str) -> int:
    with slack.ctx.uow() as uow:
        person = uow.directory.employee_by_chat("slack", slack_id)
        assert person is not None
    claim_id = open_complete_claim(slack.ctx, person)
    set_claimed_amount(slack.ctx, claim_id, person.id, Decimal("1200.00"))
    submit_claim(slack.ctx, claim_id, person.id, channel="slack")
    return claim_id


@pytest.fixture
async def cards(slack: SlackHarness) -> dict[str, Any]:
    """何磊's claim (Chengdu, clean record) in review with 周杰; 张三's held, alerting 王芳."""
    reviewed, held = _submit(slack, HELEI), _submit(slack, ZHANG)
    await slack.tick()
    return {
        "claim": reviewed,
        "held": held,
        "review": slack.latest(ZHOUJIE, "claim.review_requested"),
        "alert": slack.latest(HR, "alert.level1"),
    }


def _button(card: Call, action: str) -> dict[str, Any]:
    return next(b for b in buttons_of(card) if b["action_id"] == action)


def _state(slack: SlackHarness, claim_id: int) -> ClaimState:
    with slack.ctx.uow() as uow:
        return uow.claims.get(claim_id).state


def _audit(slack: SlackHarness, action: str) -> list[AuditEntry]:
    with slack.ctx.uow() as uow:
        return [a for a in uow.audit.all() if a.action == action]


async def _refused(slack: SlackHarness, user: str, card: Call, button: dict[str, Any]) -> str:
    """Click as ``user``; assert the refusal was theirs alone and on record; its key."""
    refusals = len(_audit(slack, "action.refused"))
    keys = await slack.click_button(user, card, button)
    assert len(keys) == 1 and slack.ephemerals(user), "a refusal only the clicker sees"
    assert len(_audit(slack, "action.refused")) == refusals + 1
    return keys[0]


async def test_an_employee_cannot_use_finance_buttons(
    slack: SlackHarness, cards: dict[str, Any]
) -> None:
    stolen = _button(cards["review"], "claim.approve")
    assert await _refused(slack, ZHANG, cards["review"], stolen) == "chat.not_allowed"
    assert await _refused(slack, HELEI, cards["review"], stolen) == "chat.not_allowed"  # his own
    assert _state(slack, cards["claim"]) is ClaimState.UNDER_REVIEW
    assert not [a for d in DECISIONS for a in _audit(slack, d)]


async def test_a_value_pointing_at_another_subject_is_refused(
    slack: SlackHarness, cards: dict[str, Any]
) -> None:
    forged = _button(cards["review"], "claim.approve") | {
        "value": _button(cards["alert"], "alert.acknowledge")["value"]
    }
    assert await _refused(slack, ZHOUJIE, cards["review"], forged) == "chat.not_allowed"
    made_up = forged | {"value": "n99999.0"}
    assert await _refused(slack, ZHOUJIE, cards["review"], made_up) == "chat.invalid"
    assert _state(slack, cards["claim"]) is ClaimState.UNDER_REVIEW


async def test_a_click_from_another_workspace_is_dropped_and_audited(
    slack: SlackHarness, cards: dict[str, Any]
) -> None:
    review = cards["review"]
    payload = click_payload(ZHOUJIE, review, _button(review, "claim.approve"), team="T0OTHER")
    posted = len(slack.fake.calls)
    assert (await slack.send_click(payload)).status_code == 200
    said = [c.method for c in slack.fake.calls[posted:] if c.method.startswith(("chat.", "view"))]
    assert said == [], "nothing said to anyone"
    (refusal,) = _audit(slack, "action.refused")
    assert "T0OTHER" in refusal.detail["reason"]
    assert _state(slack, cards["claim"]) is ClaimState.UNDER_REVIEW


async def test_a_replayed_approval_changes_nothing(
    slack: SlackHarness, cards: dict[str, Any]
) -> None:
    review = cards["review"]
    approve = _button(review, "claim.approve")
    assert await slack.click_button(ZHOUJIE, review, approve) == ["chat.claim_approved_done"]
    assert await _refused(slack, ZHOUJIE, review, approve) == "chat.already_decided"
    assert len(_audit(slack, "claim.approve")) == 1


async def test_fifty_approves_and_fifty_rejects_at_once_make_one_decision(
    slack: SlackHarness, cards: dict[str, Any]
) -> None:
    review = cards["review"]
    clicks = [
        slack.send_click(click_payload(ZHOUJIE, review, _button(review, action)), settle=False)
        for _ in range(50)
        for action in ("claim.approve", "claim.reject")
    ]
    responses = await asyncio.gather(*clicks)
    await slack.settle()
    assert {r.status_code for r in responses} == {200}
    decisions = [a for d in DECISIONS for a in _audit(slack, d)]
    assert len(decisions) == 1, [a.action for a in decisions]
    assert _state(slack, cards["claim"]) in (ClaimState.APPROVED, ClaimState.UNDER_REVIEW)
    assert len(slack.fake.posts(dm_channel(ZHOUJIE))) >= 2  # the card, and at least one answer
