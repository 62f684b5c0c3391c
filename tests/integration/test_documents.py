"""Uploading and reading claim documents: refusals change nothing, every read is audited."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from core.domain.claims import ClaimState, ClaimType, DocumentKind
from core.domain.errors import DocumentRejected, InvalidValue, NotFound, PermissionDenied
from core.services.claims import (
    attach_document,
    claim_view,
    open_claim,
    read_document,
    submit_claim,
)
from core.services.context import Context, Rules
from tests.factories import (
    JPEG,
    PDF,
    PNG,
    Org,
    add_branch,
    add_employee,
    add_records,
    audit_trail,
    make_org,
    open_complete_claim,
    row_counts,
)


def stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "documents"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


@pytest.fixture
def draft(ctx: Context, org: Org) -> int:
    return open_claim(ctx, org.employee.id, ClaimType.HOSPITALIZATION, channel="web").id


def test_an_upload_is_stored_under_a_key_of_our_own(
    ctx: Context, org: Org, draft: int, tmp_path: Path
) -> None:
    view = attach_document(
        ctx,
        draft,
        org.employee.id,
        DocumentKind.ADMISSION_CERTIFICATE,
        "../../etc/住院证.JPG",
        JPEG,
        channel="telegram",
    )
    (document,) = view.documents
    assert document.filename == "住院证.JPG"
    assert document.content_type == "image/jpeg"
    assert document.size == len(JPEG)
    assert document.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert document.storage_key.startswith(f"claims/{draft}/")
    assert document.storage_key.endswith(".jpg") and "etc" not in document.storage_key
    assert [p.read_bytes() for p in stored_files(tmp_path)] == [JPEG]
    assert view.received == {DocumentKind.ADMISSION_CERTIFICATE}
    (entry,) = [a for a in audit_trail(ctx, "claim", draft) if a.action == "claim.attach"]
    assert (entry.actor, entry.channel) == (org.employee.employee_no, "telegram")
    assert entry.detail == {
        "kind": "admission_certificate",
        "size": len(JPEG),
        "content_type": "image/jpeg",
    }


@pytest.mark.parametrize(
    ("who", "kind", "filename", "content", "error", "reason"),
    [
        pytest.param(
            "hr", DocumentKind.ID_COPY, "id.pdf", PDF, PermissionDenied, None, id="wrong-owner"
        ),
        pytest.param(
            "colleague",
            DocumentKind.ID_COPY,
            "id.pdf",
            PDF,
            PermissionDenied,
            None,
            id="another-employee",
        ),
        pytest.param(
            "employee",
            DocumentKind.OUTPATIENT_RECORD,
            "record.pdf",
            PDF,
            DocumentRejected,
            "wrong_kind",
            id="kind-of-another-claim-type",
        ),
        pytest.param(
            "employee",
            DocumentKind.VOUCHER,
            "voucher.pdf",
            PDF,
            DocumentRejected,
            "wrong_kind",
            id="voucher-is-not-uploaded",
        ),
        pytest.param(
            "employee",
            DocumentKind.ID_COPY,
            "id.pdf",
            PNG,
            DocumentRejected,
            "disguised",
            id="disguised",
        ),
        pytest.param(
            "employee",
            DocumentKind.ID_COPY,
            "id.jpg",
            b"MZ\x90\x00" * 8,
            DocumentRejected,
            "unsupported_type",
            id="executable",
        ),
        pytest.param(
            "employee", DocumentKind.ID_COPY, "id.pdf", b"", DocumentRejected, "empty", id="empty"
        ),
        pytest.param(
            "employee",
            DocumentKind.ID_COPY,
            "id.pdf",
            PDF + b"\x00" * 2048,
            DocumentRejected,
            "too_large",
            id="oversized",
        ),
    ],
)
def test_refused_uploads_change_nothing(
    ctx: Context,
    org: Org,
    draft: int,
    tmp_path: Path,
    who: str,
    kind: DocumentKind,
    filename: str,
    content: bytes,
    error: type[Exception],
    reason: str | None,
) -> None:
    small = dataclasses.replace(ctx, rules=Rules(max_upload_bytes=1024))
    colleague = add_employee(ctx, org.branch, "SH01-E002", "孙八")
    actor = {"hr": org.hr, "colleague": colleague, "employee": org.employee}[who]
    before = row_counts(ctx)
    with pytest.raises(error) as raised:
        attach_document(small, draft, actor.id, kind, filename, content)
    if reason is not None:
        assert raised.value.params["reason"] == reason  # type: ignore[attr-defined]
    assert row_counts(ctx) == before
    assert stored_files(tmp_path) == []
    assert claim_view(ctx, draft).documents == ()


def test_no_uploads_once_submitted(ctx: Context, org: Org, tmp_path: Path) -> None:
    add_records(ctx, org.employee, ["2026-08", "2026-09", "2026-10"], unpaid=["2026-10"])
    claim_id = open_complete_claim(ctx, org.employee)
    assert submit_claim(ctx, claim_id, org.employee.id).state is ClaimState.UNDER_REVIEW
    files = stored_files(tmp_path)
    with pytest.raises(InvalidValue):
        attach_document(ctx, claim_id, org.employee.id, DocumentKind.INVOICE, "inv.pdf", PDF)
    assert stored_files(tmp_path) == files
    assert len(claim_view(ctx, claim_id).documents) == 3


# Reading -------------------------------------------------------------------------------------


@pytest.fixture
def uploaded(ctx: Context, org: Org, draft: int) -> int:
    view = attach_document(ctx, draft, org.employee.id, DocumentKind.ID_COPY, "id.png", PNG)
    return view.documents[0].id


@pytest.mark.parametrize("reader", ["employee", "hr", "finance", "hr_manager", "hr_director"])
def test_the_claimant_hr_and_finance_may_read_and_each_read_is_audited(
    ctx: Context, org: Org, draft: int, uploaded: int, reader: str
) -> None:
    person = getattr(org, reader)
    document, content = read_document(ctx, uploaded, person.id, channel="web")
    assert content == PNG and document.kind is DocumentKind.ID_COPY
    reads = [a for a in audit_trail(ctx, "claim", draft) if a.action == "document.read"]
    assert [(a.actor_id, a.channel, a.detail) for a in reads] == [
        (person.id, "web", {"document_id": uploaded, "kind": "id_copy"})
    ]


def test_anyone_else_is_refused_and_nothing_is_recorded(
    ctx: Context, org: Org, draft: int, uploaded: int
) -> None:
    other_branch = add_branch(ctx, "GZ01", "广州分公司")
    strangers = [
        add_employee(ctx, org.branch, "SH01-E002", "孙八"),
        add_employee(ctx, other_branch, "GZ01-E001", "周九"),
    ]
    before = row_counts(ctx)
    for stranger in strangers:
        with pytest.raises(PermissionDenied):
            read_document(ctx, uploaded, stranger.id)
    assert row_counts(ctx) == before


def test_an_unknown_document_is_not_found(ctx: Context, org: Org) -> None:
    with pytest.raises(NotFound):
        read_document(ctx, 999, org.employee.id)
