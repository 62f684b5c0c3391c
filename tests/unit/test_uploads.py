"""Uploads are judged by their bytes: size, emptiness, real type, and a name that matches."""

from __future__ import annotations

import pytest

from core.domain.documents import check_upload, sniff_content_type
from core.domain.errors import DocumentRejected
from tests.factories import HEIC, JPEG, PDF, PNG

LIMIT = 1024


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [
        pytest.param("admission.pdf", PDF, "application/pdf", id="pdf"),
        pytest.param("SCAN.PDF", PDF, "application/pdf", id="upper-case-suffix"),
        pytest.param("photo.jpg", JPEG, "image/jpeg", id="jpg"),
        pytest.param("photo.jpeg", JPEG, "image/jpeg", id="jpeg"),
        pytest.param("bill.png", PNG, "image/png", id="png"),
        pytest.param("IMG_0001.HEIC", HEIC, "image/heic", id="heic"),
        pytest.param(
            "IMG_0001.heif", b"\x00\x00\x00\x18ftypmif1" + b"\x00" * 8, "image/heic", id="heif-mif1"
        ),
        pytest.param("住院证", PDF, "application/pdf", id="no-suffix"),
        pytest.param(
            "exactly-the-limit.pdf",
            PDF + b"\x00" * (LIMIT - len(PDF)),
            "application/pdf",
            id="exactly-the-limit",
        ),
    ],
)
def test_accepted_uploads(filename: str, content: bytes, content_type: str) -> None:
    sniffed = check_upload(filename, content, LIMIT)
    assert (sniffed.content_type, sniffed.size) == (content_type, len(content))


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        pytest.param("empty.pdf", b"", "empty", id="empty"),
        pytest.param(
            "big.pdf", PDF + b"\x00" * (LIMIT + 1 - len(PDF)), "too_large", id="one-byte-over"
        ),
        pytest.param("photo.pdf", PNG, "disguised", id="png-named-pdf"),
        pytest.param("bill.jpg", PDF, "disguised", id="pdf-named-jpg"),
        pytest.param("scan.png", JPEG, "disguised", id="jpeg-named-png"),
        pytest.param("bill.pdf.exe", PDF, "disguised", id="double-suffix"),
        pytest.param(
            "evil.jpg", b"#!/bin/sh\nrm -rf /\n", "unsupported_type", id="script-named-jpg"
        ),
        pytest.param("doc.pdf", b"PK\x03\x04" + b"\x00" * 20, "unsupported_type", id="zip"),
        pytest.param("anim.gif", b"GIF89a" + b"\x00" * 20, "unsupported_type", id="gif"),
        pytest.param("note.txt", "住院证明".encode(), "unsupported_type", id="text"),
        pytest.param("almost.pdf", b"%PD", "unsupported_type", id="truncated-signature"),
    ],
)
def test_refused_uploads(filename: str, content: bytes, reason: str) -> None:
    with pytest.raises(DocumentRejected) as raised:
        check_upload(filename, content, LIMIT)
    assert raised.value.params["reason"] == reason
    assert raised.value.code == "error.document_rejected"


def test_too_large_names_the_size_and_the_limit() -> None:
    with pytest.raises(DocumentRejected) as raised:
        check_upload("big.pdf", PDF * 100, LIMIT)
    assert raised.value.params == {"reason": "too_large", "size": len(PDF) * 100, "limit": LIMIT}


def test_size_is_checked_before_type() -> None:
    with pytest.raises(DocumentRejected) as raised:
        check_upload("big.exe", b"MZ" * LIMIT, LIMIT)
    assert raised.value.params["reason"] == "too_large"


def test_sniffing_reads_only_the_head() -> None:
    assert sniff_content_type(PDF[:16]) == "application/pdf"
    assert sniff_content_type(b"") is None
    assert sniff_content_type(b"\x00\x00\x00\x18ftypavif") is None
