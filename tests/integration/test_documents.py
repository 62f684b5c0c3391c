"""Uploading and reading claim documents: refusals change nothing, every read is audited.

Each refusal is checked at the service: no row in any table, no file under the store's root.
"""

from __future__ import annotations

import dataclasses
import hashlib
import stat
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
    HEIC,
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
from tests.upload_samples import jpeg, object_stream, pdf, png, webp, zip_archive


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
        " 住院证.JPG ",
        JPEG,
        channel="telegram",
    )
    (document,) = view.documents
    assert document.filename == "住院证.JPG"
    assert document.content_type == "image/jpeg"
    assert document.size == len(JPEG)
    assert document.sha256 == hashlib.sha256(JPEG).hexdigest()
    assert document.storage_key.startswith(f"claims/{draft}/")
    assert document.storage_key.endswith(".jpg") and "住院证" not in document.storage_key
    (stored,) = stored_files(tmp_path)
    assert JPEG not in stored.read_bytes()  # encrypted on disk (adapters/documents.py)
    assert ctx.documents.get(document.storage_key) == JPEG
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert view.received == {DocumentKind.ADMISSION_CERTIFICATE}
    (entry,) = [a for a in audit_trail(ctx, "claim", draft) if a.action == "claim.attach"]
    assert (entry.actor, entry.channel) == (org.employee.employee_no, "telegram")
    assert entry.detail == {
        "kind": "admission_certificate",
        "size": len(JPEG),
        "content_type": "image/jpeg",
    }


REFUSED = [
    ("pdf-renamed-jpg", "id.jpg", PDF, "disguised"),
    ("exe-renamed-pdf", "id.pdf", b"MZ\x90\x00\x03" + b"\x00" * 59, "unsupported_type"),
    ("html-renamed-png", "id.png", b"<!DOCTYPE html><html><script>", "unsupported_type"),
    ("svg-renamed-png", "id.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "unsupported_type"),
    ("jpeg-zip-polyglot", "id.jpg", jpeg(after=zip_archive()), "polyglot"),
    ("png-html-polyglot", "id.png", png(after=b"<html><script>"), "polyglot"),
    (
        "pdf-javascript",
        "id.pdf",
        pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
        "pdf_active_content",
    ),
    ("pdf-escaped-launch", "id.pdf", pdf(b"<< /S /L#61unch >>"), "pdf_active_content"),
    (
        "pdf-js-in-object-stream",
        "id.pdf",
        pdf(object_stream(b"3 0 << /JS (x) >>")),
        "pdf_active_content",
    ),
    ("pdf-lzw-object-stream", "id.pdf", pdf(object_stream(b"x", b"/LZWDecode")), "pdf_unreadable"),
    ("png-20000x20000", "id.png", png(20000, 20000), "too_many_pixels"),
    ("webp-16384x16384", "id.webp", webp(16384, 16384), "too_many_pixels"),
    ("dot-dot-path", "../../x.pdf", PDF, "bad_name"),
    ("path-to-a-real-name", "../../etc/住院证.JPG", JPEG, "bad_name"),
    ("300-characters", "x" * 296 + ".pdf", PDF, "bad_name"),
    ("control-characters", "id\r\n.pdf", PDF, "bad_name"),
]


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
        *(
            pytest.param(
                "employee", DocumentKind.ID_COPY, name, content, DocumentRejected, reason, id=label
            )
            for label, name, content, reason in REFUSED
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


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "suffix"),
    [
        ("photo.webp", webp(), "image/webp", ".webp"),
        ("IMG_0001.HEIC", HEIC, "image/heic", ".heic"),
        ("scan.png", png(2480, 3508), "image/png", ".png"),
    ],
)
def test_photos_of_every_accepted_type_are_stored(
    ctx: Context,
    org: Org,
    draft: int,
    tmp_path: Path,
    filename: str,
    content: bytes,
    content_type: str,
    suffix: str,
) -> None:
    view = attach_document(ctx, draft, org.employee.id, DocumentKind.ID_COPY, filename, content)
    (document,) = view.documents
    assert (document.content_type, document.filename) == (content_type, filename)
    assert document.storage_key.endswith(suffix)
    root = tmp_path / "documents"
    stored = [ctx.documents.get(p.relative_to(root).as_posix()) for p in stored_files(tmp_path)]
    assert stored == [content]


def test_the_pixel_limit_comes_from_the_rules(
    ctx: Context, org: Org, draft: int, tmp_path: Path
) -> None:
    strict = dataclasses.replace(ctx, rules=Rules(max_image_pixels=1_000_000))
    before = row_counts(ctx)
    with pytest.raises(DocumentRejected) as raised:
        attach_document(
            strict, draft, org.employee.id, DocumentKind.ID_COPY, "id.png", png(1001, 1000)
        )
    assert raised.value.params == {
        "reason": "too_many_pixels",
        "width": 1001,
        "height": 1000,
        "limit": 1_000_000,
    }
    assert (row_counts(ctx), stored_files(tmp_path)) == (before, [])
    attach_document(strict, draft, org.employee.id, DocumentKind.ID_COPY, "id.png", png(1000, 1000))


def test_the_same_file_twice_on_a_claim_is_refused(
    ctx: Context, org: Org, draft: int, tmp_path: Path
) -> None:
    employee = org.employee.id
    attach_document(ctx, draft, employee, DocumentKind.ADMISSION_CERTIFICATE, "住院证.pdf", PDF)
    before, files = row_counts(ctx), stored_files(tmp_path)
    for kind, name in [
        (DocumentKind.ADMISSION_CERTIFICATE, "住院证.pdf"),
        (DocumentKind.ITEMIZED_BILL, "费用清单 (1).pdf"),
    ]:
        with pytest.raises(DocumentRejected) as raised:
            attach_document(ctx, draft, employee, kind, name, PDF, channel="telegram")
        assert raised.value.params == {"reason": "duplicate", "kind": "admission_certificate"}
    assert (row_counts(ctx), stored_files(tmp_path)) == (before, files)
    view = attach_document(ctx, draft, employee, DocumentKind.ITEMIZED_BILL, "b.pdf", PDF + b"\n")
    assert len(view.documents) == 2


def test_the_same_file_on_another_claim_is_fine(ctx: Context, org: Org, draft: int) -> None:
    other = open_claim(ctx, org.employee.id, ClaimType.HOSPITALIZATION).id
    for claim_id in (draft, other):
        attach_document(ctx, claim_id, org.employee.id, DocumentKind.ID_COPY, "id.png", PNG)
    assert len(claim_view(ctx, other).documents) == 1


class BrokenStore:
    """A document store whose disk is full."""

    def put(self, key: str, content: bytes) -> None:
        raise OSError(28, "No space left on device")

    def get(self, key: str) -> bytes:
        raise FileNotFoundError(key)

    def exists(self, key: str) -> bool:
        return False


def test_a_failed_write_leaves_no_row(ctx: Context, org: Org, draft: int) -> None:
    broken = dataclasses.replace(ctx, documents=BrokenStore())
    before = row_counts(ctx)
    with pytest.raises(OSError, match="No space"):
        attach_document(broken, draft, org.employee.id, DocumentKind.ID_COPY, "id.pdf", PDF)
    assert row_counts(ctx) == before


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
