"""What an uploaded file really is: the type is read from its first bytes, never its name.

A photo renamed ``.pdf`` or a script renamed ``.jpg`` is refused, and so is an oversized file.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.errors import DocumentRejected

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_HEIC_BRANDS = (b"heic", b"heix", b"mif1", b"heif")
_EXTENSIONS = {
    "application/pdf": {".pdf"},
    "image/jpeg": {".jpg", ".jpeg"},
    "image/png": {".png"},
    "image/heic": {".heic", ".heif"},
}


@dataclass(frozen=True)
class SniffedFile:
    content_type: str
    size: int


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return "image/heic"
    return None


def check_upload(filename: str, content: bytes, max_bytes: int) -> SniffedFile:
    """Accept PDF, JPEG, PNG and HEIC whose bytes match their name and fit the size limit."""
    size = len(content)
    if size == 0:
        raise DocumentRejected("the file is empty", reason="empty")
    if size > max_bytes:
        raise DocumentRejected(
            "the file is too large", reason="too_large", size=size, limit=max_bytes
        )
    content_type = sniff_content_type(content[:16])
    if content_type is None:
        raise DocumentRejected("only PDF, JPEG, PNG or HEIC files", reason="unsupported_type")
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix and suffix not in _EXTENSIONS[content_type]:
        raise DocumentRejected(
            "the file's name does not match its content", reason="disguised", suffix=suffix
        )
    return SniffedFile(content_type, size)
