"""Separate consent (PIPL) before medical documents, enforced by the core whatever the channel.

Without a consent to the notice in force, ``attach_document`` refuses and nothing is stored: no
row in any table, no file. Every answer is kept with its notice version, time and channel; a new
notice version asks again.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from bot.i18n import catalog, placeholders
from core.domain.claims import ClaimType, DocumentKind
from core.domain.consents import MEDICAL_NOTICE, ConsentKind, ConsentRequired
from core.domain.directory import Employee
from core.domain.errors import InvalidValue
from core.ports import ManualClock
from core.services.claims import attach_document, claim_view, open_claim
from core.services.consents import consent_needed, record_consent
from core.services.context import Context
from tests.factories import PDF, Org, add_employee, audit_trail, make_org, row_counts

NEXT_NOTICE = "medical-2027-06"


def stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "documents"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


@pytest.fixture
def newcomer(ctx: Context, org: Org) -> Employee:
    """Someone who has never answered the consent question."""
    return add_employee(ctx, org.branch, "SH01-E009", "周九", consent=False)


@pytest.fixture
def draft(ctx: Context, newcomer: Employee) -> int:
    return open_claim(ctx, newcomer.id, ClaimType.HOSPITALIZATION, channel="web").id


def attach(ctx: Context, claim_id: int, who: Employee) -> None:
    attach_document(
        ctx, claim_id, who.id, DocumentKind.ADMISSION_CERTIFICATE, "住院证.pdf", PDF, "telegram"
    )


def answers(ctx: Context, who: Employee) -> list[tuple[str, bool, object, str | None]]:
    with ctx.uow() as uow:
        return [
            (c.notice_version, c.granted, c.at, c.channel) for c in uow.privacy.consents_of(who.id)
        ]


def test_without_consent_an_upload_is_refused_and_nothing_stored(
    ctx: Context, newcomer: Employee, draft: int, tmp_path: Path
) -> None:
    assert consent_needed(ctx, newcomer.id)
    before = row_counts(ctx)
    with pytest.raises(ConsentRequired, match="consent") as refused:
        attach(ctx, draft, newcomer)
    assert refused.value.params["notice_version"] == MEDICAL_NOTICE
    assert row_counts(ctx) == before
    assert stored_files(tmp_path) == []
    assert claim_view(ctx, draft).documents == ()


def test_a_refusal_is_recorded_and_stores_nothing(
    ctx: Context, newcomer: Employee, draft: int, tmp_path: Path
) -> None:
    record_consent(ctx, newcomer.id, False, MEDICAL_NOTICE, channel="slack")
    assert answers(ctx, newcomer) == [(MEDICAL_NOTICE, False, ctx.now(), "slack")]
    assert consent_needed(ctx, newcomer.id)
    with pytest.raises(ConsentRequired):
        attach(ctx, draft, newcomer)
    assert stored_files(tmp_path) == []
    trail = audit_trail(ctx, "employee", newcomer.id)
    assert [(a.action, a.channel, a.detail) for a in trail] == [
        ("consent.refuse", "slack", {"kind": "medical", "notice_version": MEDICAL_NOTICE})
    ]


def test_a_grant_is_recorded_with_version_time_and_channel_and_documents_follow(
    ctx: Context, clock: ManualClock, newcomer: Employee, draft: int, tmp_path: Path
) -> None:
    record_consent(ctx, newcomer.id, False, MEDICAL_NOTICE, channel="web")
    clock.advance(timedelta(minutes=5))  # changed their mind: the latest answer counts
    given = record_consent(ctx, newcomer.id, True, MEDICAL_NOTICE, channel="telegram")
    assert (given.kind, given.granted, given.at) == (ConsentKind.MEDICAL, True, ctx.now())
    assert answers(ctx, newcomer)[-1] == (MEDICAL_NOTICE, True, ctx.now(), "telegram")
    assert not consent_needed(ctx, newcomer.id)
    attach(ctx, draft, newcomer)
    assert len(claim_view(ctx, draft).documents) == 1
    assert len(stored_files(tmp_path)) == 1
    actions = [a.action for a in audit_trail(ctx, "employee", newcomer.id)]
    assert actions == ["consent.refuse", "consent.grant"]


def test_a_new_notice_version_asks_again(
    ctx: Context, newcomer: Employee, draft: int, tmp_path: Path
) -> None:
    record_consent(ctx, newcomer.id, True, MEDICAL_NOTICE, channel="web")
    attach(ctx, draft, newcomer)
    renewed = dataclasses.replace(
        ctx, rules=dataclasses.replace(ctx.rules, medical_notice=NEXT_NOTICE)
    )
    assert consent_needed(renewed, newcomer.id)
    with pytest.raises(ConsentRequired) as refused:
        attach_document(
            renewed, draft, newcomer.id, DocumentKind.ITEMIZED_BILL, "清单.pdf", PDF + b"\n"
        )
    assert refused.value.params["notice_version"] == NEXT_NOTICE
    assert len(stored_files(tmp_path)) == 1
    with pytest.raises(InvalidValue):  # an answer to the old text does not count for the new
        record_consent(renewed, newcomer.id, True, MEDICAL_NOTICE)
    record_consent(renewed, newcomer.id, True, NEXT_NOTICE, channel="slack")
    attach_document(
        renewed, draft, newcomer.id, DocumentKind.ITEMIZED_BILL, "清单.pdf", PDF + b"\n"
    )
    assert [v for v, *_ in answers(ctx, newcomer)] == [MEDICAL_NOTICE, NEXT_NOTICE]


def test_consent_is_personal(ctx: Context, org: Org, newcomer: Employee) -> None:
    """Another employee's consent does not cover the newcomer's documents."""
    assert not consent_needed(ctx, org.employee.id)
    assert consent_needed(ctx, newcomer.id)


def test_the_notice_in_force_is_written_in_both_languages() -> None:
    zh, en = catalog("zh-CN"), catalog("en")
    key = f"consent.notice.{MEDICAL_NOTICE}"
    assert key in zh and key in en
    assert placeholders(zh[key]) == placeholders(en[key]) == {"days"}
    assert "敏感个人信息" in zh[key] and "sensitive personal information" in en[key]
