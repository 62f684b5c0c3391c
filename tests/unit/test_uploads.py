"""Uploads are judged by their bytes: size, emptiness, real type, and a name that matches.

And by what else the bytes carry: active PDF content, a second file riding along, more pixels
than any photo needs. Every sample is crafted here from its headers; no binary is committed.
"""

from __future__ import annotations

import zlib

import pytest

from core.domain.documents import (
    MAX_IMAGE_PIXELS,
    MAX_UPLOAD_BYTES,
    check_stated_size,
    check_upload,
    size_allowed,
    sniff_content_type,
)
from core.domain.errors import DocumentRejected
from core.domain.pdf_checks import check_pdf
from tests.factories import HEIC, JPEG, PDF, PNG
from tests.upload_samples import (
    heic,
    jpeg,
    object_stream,
    pdf,
    png,
    stream,
    webp,
    zip_archive,
)

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


def reason_for(filename: str, content: bytes, **limits: int) -> str:
    with pytest.raises(DocumentRejected) as raised:
        check_upload(filename, content, **limits)
    return str(raised.value.params["reason"])


# The issue's list -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        pytest.param("big.pdf", PDF + b"\x00" * LIMIT, "too_large", id="oversize"),
        pytest.param("bill.jpg", PDF, "disguised", id="pdf-renamed-jpg"),
        pytest.param(
            "bill.pdf", b"MZ\x90\x00\x03" + b"\x00" * 59, "unsupported_type", id="exe-pdf"
        ),
        pytest.param(
            "scan.png", b"<!DOCTYPE html><html><body>", "unsupported_type", id="html-renamed-png"
        ),
        pytest.param("photo.jpg", jpeg(after=zip_archive()), "polyglot", id="jpeg-zip-polyglot"),
        pytest.param(
            "bill.pdf",
            pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
            "pdf_active_content",
            id="pdf-javascript",
        ),
        pytest.param("huge.png", png(20000, 20000), "too_many_pixels", id="png-20000x20000"),
        pytest.param("../../x.pdf", PDF, "bad_name", id="dot-dot-path"),
        pytest.param("x" * 296 + ".pdf", PDF, "bad_name", id="300-characters"),
    ],
)
def test_the_issues_refusals(filename: str, content: bytes, reason: str) -> None:
    assert reason_for(filename, content, max_bytes=LIMIT) == reason


# Accepted types, by content -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "dimensions"),
    [
        pytest.param("photo.webp", webp(kind="VP8X"), "image/webp", (640, 480), id="webp-vp8x"),
        pytest.param("photo.webp", webp(kind="VP8L"), "image/webp", (640, 480), id="webp-vp8l"),
        pytest.param("photo.webp", webp(kind="VP8 "), "image/webp", (640, 480), id="webp-vp8"),
        pytest.param("照片", webp(), "image/webp", (640, 480), id="webp-no-suffix"),
        pytest.param("bill.png", png(4000, 3000), "image/png", (4000, 3000), id="png-12mp"),
        pytest.param("bill.jpg", jpeg(8000, 5000), "image/jpeg", (8000, 5000), id="jpeg-at-limit"),
        pytest.param("IMG.HEIC", heic(4032, 3024), "image/heic", (4032, 3024), id="heic-ispe"),
        pytest.param(
            "ultra-hdr.jpg",
            jpeg(after=jpeg(320, 240)),
            "image/jpeg",
            (640, 480),
            id="jpeg-with-gain-map-appended",
        ),
        pytest.param(
            "samsung.jpg",
            jpeg(after=b"\x00\x00Image_UTC_Data1700000000000SEFHSEFT"),
            "image/jpeg",
            (640, 480),
            id="jpeg-with-camera-trailer",
        ),
        pytest.param(
            "xmp.jpg", jpeg(after=b"\n<?xpacket begin=''?>"), "image/jpeg", (640, 480), id="xmp"
        ),
        pytest.param("stub.png", PNG, "image/png", None, id="png-without-readable-header"),
        pytest.param("stub.jpg", JPEG, "image/jpeg", None, id="jpeg-without-readable-header"),
        pytest.param("stub.heic", HEIC, "image/heic", None, id="heic-without-ispe"),
    ],
)
def test_images_are_accepted_with_their_size(
    filename: str, content: bytes, content_type: str, dimensions: tuple[int, int] | None
) -> None:
    sniffed = check_upload(filename, content)
    assert (sniffed.content_type, sniffed.dimensions) == (content_type, dimensions)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(pdf(b"<< /OpenAction [3 0 R /Fit] >>"), id="open-action-without-script"),
        pytest.param(pdf(b"<< /JSX 1 /JavaScripts 2 >>"), id="names-that-only-start-alike"),
        pytest.param(pdf(b"<< /S /URI /URI (https://example.com) >>"), id="link"),
        pytest.param(pdf(object_stream(b"3 0 << /S /GoTo /D [2 0 R /Fit] >>")), id="object-stream"),
        pytest.param(
            pdf(stream(b"/Subtype /Image /Filter /DCTDecode /Width 8 /Height 8", jpeg())),
            id="image-stream",
        ),
        pytest.param(pdf(stream(b"/Filter /LZWDecode", b"\x80\x0b")), id="lzw-content-stream"),
        pytest.param(PDF + PDF, id="incremental-update"),
    ],
)
def test_plain_pdfs_are_accepted(content: bytes) -> None:
    assert check_upload("bill.pdf", content).content_type == "application/pdf"


# Each refusal reason --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        pytest.param("bill.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 9, id="elf"),
        pytest.param("bill.pdf", b"\xcf\xfa\xed\xfe" + b"\x00" * 12, id="mach-o"),
        pytest.param("bill.jpg", b"#!/usr/bin/env python\nimport os\n", id="script"),
        pytest.param("bill.png", b"  <HTML><script>alert(1)</script>", id="html-upper-case"),
        pytest.param("bill.png", b"<svg xmlns='http://www.w3.org/2000/svg'>", id="svg"),
        pytest.param("bill.png", b"<?xml version='1.0'?><svg/>", id="svg-with-xml-declaration"),
        pytest.param("bill.png", b"\xef\xbb\xbf<script>alert(1)</script>", id="script-with-bom"),
        pytest.param("bill.pdf", "<html><body>".encode("utf-16"), id="utf-16-html"),
        pytest.param("bill.pdf", b"<p>hi</p><iframe src=x>", id="html-fragment"),
        pytest.param("bill.pdf", b"<html>%PDF-1.4\n", id="pdf-header-after-html"),
        pytest.param("bill.webp", b"RIFF\x00\x00\x00\x00WAVEfmt ", id="riff-but-not-webp"),
    ],
)
def test_executables_scripts_and_markup_are_unsupported_whatever_the_name(
    filename: str, content: bytes
) -> None:
    with pytest.raises(DocumentRejected) as raised:
        check_upload(filename, content)
    assert raised.value.params["reason"] == "unsupported_type"


def test_unsupported_names_what_it_saw() -> None:
    seen = {}
    for label, content in [
        ("exe", b"MZ" + b"\x00" * 30),
        ("sh", b"#!/bin/sh\n"),
        ("html", b"<!doctype html>"),
        ("gif", b"GIF89a" + b"\x00" * 20),
    ]:
        with pytest.raises(DocumentRejected) as raised:
            check_upload("file", content)
        seen[label] = raised.value.params["detected"]
    assert seen == {"exe": "executable", "sh": "script", "html": "markup", "gif": None}


@pytest.mark.parametrize(
    ("filename", "problem"),
    [
        pytest.param("../../x.pdf", "path", id="dot-dot"),
        pytest.param("/etc/passwd.pdf", "path", id="absolute"),
        pytest.param("scans/bill.pdf", "path", id="folder"),
        pytest.param("C:\\Users\\zhang\\bill.pdf", "path", id="windows-path"),
        pytest.param("..", "path", id="parent-only"),
        pytest.param("bill\x00.pdf", "control", id="nul"),
        pytest.param("bill\n.pdf", "control", id="newline"),
        pytest.param("bill\x7f.pdf", "control", id="delete"),
        pytest.param("bill\u2028.pdf", "control", id="line-separator"),
        pytest.param("invoice\u202efdp.exe", "control", id="right-to-left-override"),
        pytest.param("x" * 256, "too_long", id="256-characters"),
        pytest.param("住" * 252 + ".pdf", "too_long", id="256-chinese-characters"),
    ],
)
def test_bad_names_are_refused_not_repaired(filename: str, problem: str) -> None:
    with pytest.raises(DocumentRejected) as raised:
        check_upload(filename, PDF)
    assert (raised.value.params["reason"], raised.value.params["problem"]) == ("bad_name", problem)


@pytest.mark.parametrize(
    "filename",
    ["x" * 251 + ".pdf", "住" * 251 + ".pdf", "my bill (1).pdf", "..bill.pdf", "a..b.pdf", " ", ""],
)
def test_unusual_but_harmless_names_pass(filename: str) -> None:
    assert check_upload(filename, PDF).content_type == "application/pdf"


def test_a_long_name_says_how_long() -> None:
    with pytest.raises(DocumentRejected) as raised:
        check_upload("x" * 296 + ".pdf", PDF)
    assert raised.value.params == {
        "reason": "bad_name",
        "problem": "too_long",
        "length": 300,
        "limit": 255,
    }


@pytest.mark.parametrize(
    ("content", "name"),
    [
        pytest.param(pdf(b"<< /S /JavaScript /JS (x) >>"), "JavaScript", id="javascript"),
        pytest.param(pdf(b"<< /AA << /O 4 0 R >> >>", b"<< /JS 5 0 R >>"), "JS", id="js"),
        pytest.param(pdf(b"<< /S /J#61vaScript >>"), "JavaScript", id="hex-escaped"),
        pytest.param(pdf(b"<< /S /#4A#61#76#61Script >>"), "JavaScript", id="hex-upper"),
        pytest.param(pdf(b"<< /S /#6a#53 >>"), None, id="hex-wrong-case-is-another-name"),
        pytest.param(pdf(b"<< /#4as (x) >>"), None, id="lowercase-js-is-another-name"),
        pytest.param(pdf(b"<< /S /Launch /F (cmd.exe) >>"), "Launch", id="launch"),
        pytest.param(pdf(b"<< /S /L#61#75nch >>"), "Launch", id="launch-escaped"),
        pytest.param(
            pdf(b"<< /Names << /EmbeddedFiles 3 0 R >> >>"), "EmbeddedFiles", id="embedded-files"
        ),
        pytest.param(
            pdf(stream(b"/Type /EmbeddedFile", b"MZ")), "EmbeddedFile", id="embedded-file"
        ),
        pytest.param(pdf(b"<< /Subtype /RichMedia >>"), "RichMedia", id="rich-media"),
        pytest.param(
            pdf(b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (this.print()) >> >>"),
            "JavaScript",
            id="open-action-with-javascript",
        ),
        pytest.param(
            pdf(object_stream(b"3 0 << /S /JavaScript /JS (app.alert(1)) >>")),
            "JavaScript",
            id="in-a-compressed-object-stream",
        ),
        pytest.param(
            pdf(object_stream(b"3 0 << /S /J#61vaScript >>")),
            "JavaScript",
            id="escaped-in-an-object-stream",
        ),
        pytest.param(
            pdf(
                object_stream(
                    zlib.compress(b"3 0 << /S /Launch >>").hex().encode() + b">",
                    b"[/ASCIIHexDecode /FlateDecode]",
                )
            ),
            "Launch",
            id="hex-then-flate-object-stream",
        ),
        pytest.param(
            pdf(
                stream(
                    b"/Ty#70e /Obj#53tm /N 1 /First 4 /Filter /Fl#61teDecode",
                    zlib.compress(b"3 0 << /JS (x) >>"),
                )
            ),
            "JS",
            id="object-stream-with-escaped-dictionary",
        ),
        pytest.param(
            pdf(stream(b"/N 1 /First 4 /Filter /FlateDecode", zlib.compress(b"3 0 << /JS (x) >>"))),
            "JS",
            id="object-stream-without-type",
        ),
    ],
)
def test_active_pdf_content_is_refused(content: bytes, name: str | None) -> None:
    if name is None:
        check_pdf(content)
        return
    with pytest.raises(DocumentRejected) as raised:
        check_upload("bill.pdf", content)
    assert raised.value.params == {"reason": "pdf_active_content", "name": name}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(pdf(object_stream(b"\x80\x0b", b"/LZWDecode")), "LZWDecode", id="lzw"),
        pytest.param(
            pdf(object_stream(b"x", b"/FlateDecode /DecodeParms << /Predictor 12 >>")),
            "predictor",
            id="predictor",
        ),
        pytest.param(
            pdf(stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", b"not zlib")),
            "damaged",
            id="damaged",
        ),
        pytest.param(
            pdf(
                stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", b"\x9a\x13\x00\xff"),
                b"<< /Filter /Standard /V 2 /R 3 >>",
                trailer=b"/Encrypt 3 0 R",
            ),
            "encrypted",
            id="encrypted",
        ),
    ],
)
def test_object_streams_that_cannot_be_checked_are_refused(content: bytes, problem: str) -> None:
    with pytest.raises(DocumentRejected) as raised:
        check_upload("bill.pdf", content)
    assert raised.value.params == {"reason": "pdf_unreadable", "problem": problem}


def test_a_deflate_bomb_in_an_object_stream_is_not_inflated_past_the_budget() -> None:
    bomb = zlib.compress(b"\x00" * (1024 * 1024), 9)
    content = pdf(stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", bomb))
    with pytest.raises(DocumentRejected) as raised:
        check_pdf(content, inflate_budget=64 * 1024)
    assert raised.value.params == {"reason": "pdf_unreadable", "problem": "too_large"}
    check_pdf(content, inflate_budget=2 * 1024 * 1024)


@pytest.mark.parametrize(
    ("filename", "content", "payload"),
    [
        pytest.param("a.jpg", jpeg(after=zip_archive()), "zip", id="jpeg-then-zip"),
        pytest.param("a.jpg", JPEG + zip_archive(), "zip", id="unparsed-jpeg-then-zip"),
        pytest.param("a.jpg", jpeg(after=b"\x00" * 64 + zip_archive()), "zip", id="padded-zip"),
        pytest.param("a.jpg", jpeg(comment=zip_archive()), "zip", id="zip-in-a-jpeg-comment"),
        pytest.param("a.png", png(after=zip_archive()), "zip", id="png-then-zip"),
        pytest.param("a.png", png(extra=zip_archive()), "zip", id="zip-in-a-png-chunk"),
        pytest.param("a.webp", webp(after=zip_archive()), "zip", id="webp-then-zip"),
        pytest.param("a.heic", heic() + zip_archive(), "zip", id="heic-then-zip"),
        pytest.param("a.jpg", jpeg(after=PDF), "pdf", id="jpeg-then-pdf"),
        pytest.param("a.jpg", jpeg(comment=b"%PDF-1.7 1 0 obj"), "pdf", id="pdf-header-inside"),
        pytest.param("a.jpg", jpeg(after=b"<html><body>"), "markup", id="jpeg-then-html"),
        pytest.param("a.png", png(after=b"<svg onload=alert(1)>"), "markup", id="png-then-svg"),
        pytest.param("a.png", png(extra=b"<SCRIPT>alert(1)</SCRIPT>"), "markup", id="script-in"),
        pytest.param("a.png", png(after=b"<?php system($_GET[1]); ?>"), "markup", id="php"),
        pytest.param("a.jpg", jpeg(after=b"\n#!/bin/sh\nid\n"), "script", id="jpeg-then-shell"),
        pytest.param("a.jpg", jpeg(after=b"MZ\x90\x00"), "executable", id="jpeg-then-exe"),
        pytest.param("a.webp", webp(after=b"\x7fELF\x02"), "executable", id="webp-then-elf"),
        pytest.param("a.png", png(after=b"Rar!\x1a\x07\x00"), "archive", id="png-then-rar"),
        pytest.param("a.pdf", pdf(after=zip_archive()), "zip", id="pdf-then-zip"),
        pytest.param("a.pdf", pdf(after=b"<html><script>"), "markup", id="pdf-then-html"),
    ],
)
def test_polyglots_are_refused(filename: str, content: bytes, payload: str) -> None:
    with pytest.raises(DocumentRejected) as raised:
        check_upload(filename, content)
    assert raised.value.params == {"reason": "polyglot", "payload": payload}


def test_markup_inside_a_pdf_body_is_not_a_polyglot() -> None:
    content = pdf(stream(b"", b"BT (see <html> and <script> tags) Tj ET"))
    assert check_upload("guide.pdf", content).content_type == "application/pdf"


@pytest.mark.parametrize(
    ("filename", "content", "size"),
    [
        pytest.param("a.png", png(20000, 20000), (20000, 20000), id="png-20000x20000"),
        pytest.param("a.png", png(0xFFFFFFFF, 1), (0xFFFFFFFF, 1), id="png-one-line"),
        pytest.param("a.jpg", jpeg(65535, 65535), (65535, 65535), id="jpeg-sof0"),
        pytest.param("a.jpg", jpeg(40000, 0), (40000, 65535), id="jpeg-height-from-dnl"),
        pytest.param(
            "a.jpg", jpeg(after=jpeg(9000, 9000)), (9000, 9000), id="jpeg-big-image-appended"
        ),
        pytest.param("a.webp", webp(16384, 16384, kind="VP8X"), (16384, 16384), id="webp-vp8x"),
        pytest.param("a.webp", webp(16384, 16384, kind="VP8L"), (16384, 16384), id="webp-vp8l"),
        pytest.param("a.webp", webp(16383, 16383, kind="VP8 "), (16383, 16383), id="webp-vp8"),
        pytest.param("a.heic", heic(20000, 20000), (20000, 20000), id="heic-ispe"),
    ],
)
def test_decompression_bombs_are_refused_from_their_headers(
    filename: str, content: bytes, size: tuple[int, int]
) -> None:
    assert len(content) < 1024  # nothing is decoded or allocated
    with pytest.raises(DocumentRejected) as raised:
        check_upload(filename, content)
    width, height = size
    assert raised.value.params == {
        "reason": "too_many_pixels",
        "width": width,
        "height": height,
        "limit": MAX_IMAGE_PIXELS,
    }


def test_the_pixel_limit_is_a_parameter() -> None:
    assert check_upload("a.png", png(1000, 1000), max_pixels=1_000_000).dimensions == (1000, 1000)
    assert reason_for("a.png", png(1000, 1001), max_pixels=1_000_000) == "too_many_pixels"


def test_the_default_limits_are_20_mb_and_40_megapixels() -> None:
    assert (MAX_UPLOAD_BYTES, MAX_IMAGE_PIXELS) == (20 * 1024 * 1024, 40_000_000)
    assert reason_for("big.pdf", PDF + b"\x00" * MAX_UPLOAD_BYTES) == "too_large"


# Before download ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stated", "allowed"),
    [(None, True), (0, True), (1, True), (LIMIT, True), (LIMIT + 1, False), (-1, False)],
)
def test_a_stated_size_is_judged_before_download(stated: int | None, allowed: bool) -> None:
    assert size_allowed(stated, LIMIT) is allowed
    if allowed:
        check_stated_size(stated, LIMIT)
        return
    with pytest.raises(DocumentRejected) as raised:
        check_stated_size(stated, LIMIT)
    assert raised.value.params == {"reason": "too_large", "size": stated, "limit": LIMIT}


def test_slack_and_telegram_sizes_against_the_default_limit() -> None:
    assert size_allowed(10 * 1024 * 1024)  # Slack's largest file input
    assert size_allowed(20 * 1024 * 1024)  # the most a Telegram bot may download
    assert not size_allowed(20 * 1024 * 1024 + 1)
