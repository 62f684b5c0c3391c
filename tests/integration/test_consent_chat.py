"""The consent question in the claim wizard, played as transcripts on the demo organisation
(where nobody has answered it yet), and /mydata in the chat."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from bot.conversation import Conversation
from bot.demo.org import load_demo_org
from core.domain.consents import MEDICAL_NOTICE
from core.ports import ManualClock
from core.services.consents import withdraw_consent
from core.services.context import Context
from tests.factories import JPEG, PDF, PNG
from tests.transcripts import Chatter

DOCS = (("住院证.pdf", PDF), ("清单.jpg", JPEG), ("身份证.png", PNG))


@pytest.fixture
def convo(ctx: Context) -> Conversation:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    return Conversation(ctx)


def stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "documents"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def consents_of(ctx: Context, employee_no: str) -> list[tuple[str, bool, str | None]]:
    with ctx.uow() as uow:
        person = uow.directory.employee_by_no(employee_no)
        assert person is not None
        return [
            (c.notice_version, c.granted, c.channel) for c in uow.privacy.consents_of(person.id)
        ]


def test_the_wizard_asks_for_consent_before_the_first_document(
    ctx: Context, convo: Conversation, tmp_path: Path
) -> None:
    zhang = Chatter(convo, "U0ZHANGSAN")
    assert zhang.says("/claim") == ["chat.consent_ask"]
    assert "敏感个人信息" in zhang.text and MEDICAL_NOTICE in zhang.text
    labels = [b.label for m in zhang.last for b in m.buttons]
    assert labels == ["同意", "不同意"]
    assert zhang.clicks("consent.grant") == ["chat.consent_granted", "chat.claim_choose_type"]
    assert consents_of(ctx, "E1001") == [(MEDICAL_NOTICE, True, "slack")]
    assert zhang.clicks("wizard.type") == ["chat.claim_opened", "chat.claim_checklist"]
    assert zhang.says("", *DOCS) == ["chat.claim_checklist_done", "chat.claim_ask_amount"]
    assert len(stored_files(tmp_path)) == 3
    zhang.says("/cancel")
    assert zhang.says("/claim") == ["chat.claim_choose_type"]  # asked once, not every claim


def test_a_refusal_stores_nothing_and_says_what_happens_instead(
    ctx: Context, convo: Conversation, tmp_path: Path
) -> None:
    zhang = Chatter(convo, "U0ZHANGSAN")
    zhang.says("/claim")
    assert zhang.clicks("consent.refuse") == ["chat.consent_refused"]
    assert "王芳" in zhang.text  # the branch's HR, who can take the paper documents
    assert consents_of(ctx, "E1001") == [(MEDICAL_NOTICE, False, "slack")]
    assert zhang.says("", DOCS[0]) == ["chat.files_without_claim"]
    assert stored_files(tmp_path) == []
    assert zhang.says("/claim") == ["chat.consent_ask"]  # changing one's mind stays possible


def test_a_new_notice_mid_claim_keeps_nothing_until_agreed_again(
    ctx: Context, tmp_path: Path
) -> None:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    zhang = Chatter(Conversation(ctx), "U0ZHANGSAN")
    zhang.says("/claim")
    zhang.clicks("consent.grant")
    zhang.clicks("wizard.type")
    renewed = dataclasses.replace(
        ctx, rules=dataclasses.replace(ctx.rules, medical_notice="medical-2027-06")
    )
    later = Chatter(Conversation(renewed), "U0ZHANGSAN")
    keys = later.says("", DOCS[0])
    assert keys == ["chat.consent_needed_first", "chat.consent_ask"]
    assert stored_files(tmp_path) == []
    later.clicks("consent.grant")
    assert later.keys == ["chat.consent_granted", "chat.claim_checklist"]  # the same claim
    assert later.says("", DOCS[0])[-1] == "chat.claim_checklist"
    assert len(stored_files(tmp_path)) == 1


def test_consent_can_be_seen_and_withdrawn_and_then_no_document_is_taken(
    ctx: Context, convo: Conversation, tmp_path: Path
) -> None:
    zhang = Chatter(convo, "U0ZHANGSAN")
    assert zhang.says("/consent") == ["chat.consent_none"]
    zhang.says("/claim")
    zhang.clicks("consent.grant")
    zhang.clicks("wizard.type")
    zhang.says("", DOCS[0])
    assert len(stored_files(tmp_path)) == 1

    assert zhang.says("/consent") == ["chat.consent_given"]
    assert MEDICAL_NOTICE in zhang.text and "slack" in zhang.text
    assert zhang.clicks("consent.withdraw") == ["chat.consent_withdrawn"]
    assert "365" in zhang.text  # what happens to the documents already given
    assert consents_of(ctx, "E1001") == [
        (MEDICAL_NOTICE, True, "slack"),
        (MEDICAL_NOTICE, False, "slack"),
    ]
    with ctx.uow() as uow:
        (row,) = [e for e in uow.audit.all() if e.action == "consent.withdraw"]
        assert row.channel == "slack"

    # The next document is refused until consent is given again; the one given stays.
    assert zhang.says("", DOCS[1]) == ["chat.consent_needed_first", "chat.consent_ask"]
    assert len(stored_files(tmp_path)) == 1
    assert zhang.says("/consent") == ["chat.consent_none"]
    with ctx.uow() as uow:  # withdrawing twice records nothing the second time
        person = uow.directory.employee_by_no("E1001")
    assert person is not None and withdraw_consent(ctx, person.id, "slack") is None
    assert len(consents_of(ctx, "E1001")) == 2


def test_a_button_from_a_replaced_notice_records_nothing(ctx: Context, convo: Conversation) -> None:
    zhang = Chatter(convo, "U0ZHANGSAN")
    zhang.says("/claim")
    token = next(b.token for m in zhang.last for b in m.buttons if b.action == "consent.grant")
    renewed = dataclasses.replace(
        ctx, rules=dataclasses.replace(ctx.rules, medical_notice="medical-2027-06")
    )
    later = Chatter(Conversation(renewed), "U0ZHANGSAN")
    assert later.clicks("consent.grant", token=token) == [
        "chat.consent_replaced",
        "chat.consent_ask",
    ]
    assert consents_of(ctx, "E1001") == []


def test_mydata_sends_the_askers_own_data_once_a_day(
    ctx: Context, clock: ManualClock, convo: Conversation
) -> None:
    zhang = Chatter(convo, "U0ZHANGSAN")
    assert zhang.says("/mydata") == ["chat.mydata_ready"]
    (sent,) = zhang.last[0].files
    assert sent.filename.endswith(".zip") and sent.content_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(sent.content)) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["employee"]["employee_no"] == "E1001" and data["employee"]["name"] == "张三"
    assert zhang.says("我的数据") == ["chat.mydata_too_soon"]
    clock.advance(timedelta(hours=24))
    assert zhang.says("/mydata") == ["chat.mydata_ready"]
    stranger = Chatter(convo, "U0NOBODY")
    assert stranger.says("/mydata") == ["chat.link_needed"]
