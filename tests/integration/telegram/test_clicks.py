"""Who pressed: every press is resolved and authorised by the server, whatever its
``callback_data`` says. Forged, foreign, unknown, oversized or tampered tokens are refused with an
alert on the button in the presser's language, audited, and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.chat import OutgoingMessage
from core.persistence import tables as t
from core.persistence.uow import Database
from tests.factories import JPEG, PDF, PNG
from tests.integration.telegram.conftest import EMILY, SUNLI, WANGFANG, ZHANG, Harness

WATCHED = (t.claims, t.alerts, t.batches, t.escalation_steps, t.claim_documents)


def snapshot(db: Database) -> list[Any]:
    with db.engine.connect() as connection:
        return [connection.execute(select(table)).all() for table in WATCHED]


async def held_claim(tg: Harness) -> OutgoingMessage:
    """张三's claim, held; returns the alert card pushed to HR 王芳."""
    zhang = tg.user(ZHANG)
    await zhang.says("/claim")
    await zhang.clicks("wizard.type")
    await zhang.sends_document("F-ADM", "住院证.pdf", PDF)
    await zhang.sends_document("F-BILL", "清单.jpg", JPEG)
    await zhang.sends_document("F-ID", "身份证.png", PNG)
    await zhang.says("8650")
    await zhang.clicks("wizard.submit")
    tg.worker.tick()
    return tg.channel.to(WANGFANG, "alert.level1")


def forged(card: OutgoingMessage, finance_token: str) -> dict[str, str]:
    hr_token = card.buttons[0].token  # n<notice>.<index>, sent to 王芳 only
    notice, _, index = hr_token[1:].partition(".")
    return {
        "another-users-card": hr_token,
        "another-users-session": finance_token,
        "unknown-session": "s0123456789ab",
        "unknown-notice": "n999999.0",
        "65-bytes": "n" + "1" * 64,
        "tampered-index": f"n{notice}.{int(index) + 7}",
        "tampered-notice": f"n{int(notice) + 1}.{index}",
        "not-a-token": "claim:1:approve",
        "empty": "",
    }


@pytest.mark.parametrize(
    "case",
    [
        "another-users-card",
        "another-users-session",
        "unknown-session",
        "unknown-notice",
        "65-bytes",
        "tampered-index",
        "tampered-notice",
        "not-a-token",
        "empty",
    ],
)
async def test_a_forged_press_is_refused_and_changes_nothing(
    tg: Harness, db: Database, case: str
) -> None:
    card = await held_claim(tg)
    finance = tg.user(SUNLI)
    await finance.says("/approvals")
    finance_token = finance.last[0].buttons[0].token
    token = forged(card, finance_token)[case]
    before = snapshot(db)
    sent_before = len(tg.fake.calls_to("sendMessage", ZHANG))

    zhang = tg.user(ZHANG)
    keys = await zhang.presses(token)

    assert len(keys) == 1 and keys[0] in ("chat.not_allowed", "chat.button_expired", "chat.invalid")
    assert snapshot(db) == before
    (answer,) = [
        c for c in tg.fake.calls_to("answerCallbackQuery") if c.get("text") == zhang.last[0].text
    ]
    assert answer.get("show_alert") is True
    assert len(tg.fake.calls_to("sendMessage", ZHANG)) == sent_before  # an alert, not a message


async def test_a_refusal_is_audited_and_said_in_the_pressers_language(
    tg: Harness, db: Database
) -> None:
    card = await held_claim(tg)
    emily = tg.user(EMILY, language="en")  # an English-speaking employee tries HR's button
    assert await emily.presses(card.buttons[0].token) == ["chat.not_allowed"]
    alert = tg.fake.calls_to("answerCallbackQuery")[-1]
    assert alert.get("show_alert") is True and "may not" in str(alert.get("text"))
    with tg.ctx.uow() as uow:
        refused = [a for a in uow.audit.all() if a.action == "action.refused"]
    assert refused and refused[-1].actor == "E1003"


async def test_a_stranger_pressing_anything_is_asked_to_link(tg: Harness) -> None:
    card = await held_claim(tg)
    stranger = tg.user(7777777, language="en")
    keys = await stranger.presses(card.buttons[0].token)
    assert keys == ["chat.button_expired"]  # nothing of anyone else's is resolved for a stranger
    assert tg.fake.calls_to("answerCallbackQuery")[-1].get("callback_query_id")
