"""Whether we keep an uploaded file: judged by its bytes, never by its name.

Accepted: PDF, JPEG, PNG, HEIC/HEIF and WebP. Every refusal raises ``DocumentRejected`` with a
stable ``reason`` the bot translates, and parameters for its message:

- ``empty``: no bytes.
- ``too_large`` (``size``, ``limit``): more than ``max_bytes``; also before download, from the
  size the platform states (``size_allowed`` / ``check_stated_size``).
- ``bad_name`` (``problem``: ``path``, ``control`` or ``too_long`` with ``length``, ``limit``):
  a path in the name (``/``, ``\\``, ``.``, ``..``), control, line-separator or bidi-override
  characters, or more than 255 characters.
- ``unsupported_type`` (``detected``: ``executable``, ``script``, ``markup`` or ``None``): not an
  accepted type; HTML, SVG, scripts and executables whatever their name.
- ``disguised`` (``suffix``): the name's suffix belongs to another type.
- ``pdf_active_content`` (``name``): JavaScript, launch actions, embedded files, rich media.
- ``pdf_unreadable`` (``problem``): a PDF object stream that cannot be decoded to be checked.
- ``polyglot`` (``payload``: ``zip``, ``pdf``, ``markup``, ``script``, ``archive``,
  ``executable``): another file hidden inside or after the image or PDF.
- ``too_many_pixels`` (``width``, ``height``, ``limit``): an image header declares more pixels
  than ``max_pixels`` (a decompression bomb), read from the header without decoding.

(``duplicate`` and ``wrong_kind`` come from the claim service, which knows the claim.)

Bad names are refused rather than repaired: a name that needs repairing was not typed by a
person, and a repaired name no longer says what the sender meant. The name is only ever shown;
files are stored under a random key the core chooses.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from core.domain.errors import DocumentRejected
from core.domain.file_checks import (
    SNIFF_BYTES,
    dangerous_kind,
    hidden_payload,
    sniff_content_type,
)
from core.domain.image_headers import image_layout
from core.domain.pdf_checks import check_pdf

__all__ = [
    "MAX_IMAGE_PIXELS",
    "MAX_NAME_LENGTH",
    "MAX_UPLOAD_BYTES",
    "SniffedFile",
    "check_filename",
    "check_stated_size",
    "check_upload",
    "display_name",
    "size_allowed",
    "sniff_content_type",
]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""Telegram lets bots download at most 20 MB; Slack's file input takes at most 10 MB."""
MAX_IMAGE_PIXELS = 40_000_000
"""40 megapixels: above any phone camera in use; a 20000×20000 header is refused unread."""
MAX_NAME_LENGTH = 255
"""Characters, as the ``claim_documents.filename`` column holds."""

_EXTENSIONS = {
    "application/pdf": {".pdf"},
    "image/jpeg": {".jpg", ".jpeg"},
    "image/png": {".png"},
    "image/heic": {".heic", ".heif"},
    "image/webp": {".webp"},
}
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


@dataclass(frozen=True)
class SniffedFile:
    content_type: str
    size: int
    dimensions: tuple[int, int] | None = None
    """Width and height of the largest image its headers declare, when they could be read."""


def size_allowed(stated_size: int | None, max_bytes: int = MAX_UPLOAD_BYTES) -> bool:
    """May a file the platform says is ``stated_size`` bytes be downloaded at all?

    ``None`` (the platform did not say) is allowed: download at most ``max_bytes + 1`` bytes and
    let ``check_upload`` decide.
    """
    return stated_size is None or 0 <= stated_size <= max_bytes


def check_stated_size(stated_size: int | None, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse before download, with the same ``too_large`` the downloaded file would get."""
    if not size_allowed(stated_size, max_bytes):
        raise DocumentRejected(
            "the file is too large", reason="too_large", size=stated_size, limit=max_bytes
        )


def check_filename(filename: str) -> None:
    """Refuse names with a path, control or bidi characters, or over 255 characters."""
    if len(filename) > MAX_NAME_LENGTH:
        raise DocumentRejected(
            "the file name is too long",
            reason="bad_name",
            problem="too_long",
            length=len(filename),
            limit=MAX_NAME_LENGTH,
        )
    name = filename.strip()
    problem = None
    if "/" in name or "\\" in name or name in (".", ".."):
        problem = "path"
    elif any(
        unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS for ch in filename
    ):
        problem = "control"
    if problem is not None:
        raise DocumentRejected(
            "the file name is not acceptable", reason="bad_name", problem=problem
        )


def display_name(filename: str) -> str:
    """The name to show for an accepted upload (``check_filename`` has passed)."""
    return unicodedata.normalize("NFC", filename.strip()) or "upload"


def check_upload(
    filename: str,
    content: bytes,
    max_bytes: int = MAX_UPLOAD_BYTES,
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> SniffedFile:
    """Accept a PDF or photo that is what its bytes and name say, and nothing more."""
    size = len(content)
    if size == 0:
        raise DocumentRejected("the file is empty", reason="empty")
    if size > max_bytes:
        raise DocumentRejected(
            "the file is too large", reason="too_large", size=size, limit=max_bytes
        )
    check_filename(filename)
    content_type = sniff_content_type(content[:SNIFF_BYTES])
    if content_type is None:
        raise DocumentRejected(
            "only PDF, JPEG, PNG, HEIC or WebP files",
            reason="unsupported_type",
            detected=dangerous_kind(content),
        )
    suffix = "." + filename.rsplit(".", 1)[-1].strip().lower() if "." in filename else ""
    if suffix and suffix not in _EXTENSIONS[content_type]:
        raise DocumentRejected(
            "the file's name does not match its content", reason="disguised", suffix=suffix
        )
    return SniffedFile(content_type, size, _check_content(content_type, content, max_pixels))


def _check_content(content_type: str, content: bytes, max_pixels: int) -> tuple[int, int] | None:
    """Active PDF content, hidden payloads, too many pixels; an image's width and height."""
    if content_type == "application/pdf":
        check_pdf(content)
        end = content.rfind(b"%%EOF")
        _refuse_hidden(content, end + 5 if end >= 0 else None, markers_anywhere=False)
        return None
    layout = image_layout(content_type, content)
    _refuse_hidden(content, layout.end, markers_anywhere=True)
    dimensions = max(layout.sizes, key=lambda wh: wh[0] * wh[1], default=None)
    if dimensions is not None and layout.pixels > max_pixels:
        width, height = dimensions
        raise DocumentRejected(
            "the image has too many pixels",
            reason="too_many_pixels",
            width=width,
            height=height,
            limit=max_pixels,
        )
    return dimensions


def _refuse_hidden(content: bytes, end: int | None, *, markers_anywhere: bool) -> None:
    payload = hidden_payload(content, end, markers_anywhere=markers_anywhere)
    if payload is not None:
        raise DocumentRejected(
            "another file is hidden in this one", reason="polyglot", payload=payload
        )
