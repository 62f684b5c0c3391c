"""Upload samples crafted in code: only the headers a check reads, never a real picture.

Images carry just enough structure for their headers to be parsed (PNG IHDR/IEND with their
CRCs, JPEG SOF and EOI, WebP VP8/VP8L/VP8X, HEIF ``ispe``); a 20000×20000 PNG is 60 bytes.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def png(width: int = 640, height: int = 480, *, extra: bytes = b"", after: bytes = b"") -> bytes:
    """A PNG of ``width``×``height``: ``extra`` goes in a tEXt chunk, ``after`` after IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    text = chunk(b"tEXt", b"Comment\x00" + extra) if extra else b""
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 4))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + text + idat + chunk(b"IEND", b"") + after


def jpeg(width: int = 640, height: int = 480, *, comment: bytes = b"", after: bytes = b"") -> bytes:
    """A baseline JPEG's segments (JFIF, optional COM, SOF0, SOS, a little entropy data, EOI)."""

    def segment(marker: int, data: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(data) + 2) + data

    app0 = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    com = segment(0xFE, comment) if comment else b""
    sof = segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    entropy = b"\x12\x34\xff\x00\x56\xff\xd0\x78"  # stuffed 0xFF and a restart marker inside
    return b"\xff\xd8" + app0 + com + sof + sos + entropy + b"\xff\xd9" + after


def webp(width: int = 640, height: int = 480, *, kind: str = "VP8X", after: bytes = b"") -> bytes:
    """A WebP whose first chunk (``VP8 ``, ``VP8L`` or ``VP8X``) states ``width``×``height``."""
    if kind == "VP8X":
        data = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
        data += (height - 1).to_bytes(3, "little")
    elif kind == "VP8L":
        data = b"\x2f" + ((width - 1) | (height - 1) << 14).to_bytes(4, "little") + b"\x00"
    else:
        data = b"\x10\x02\x00\x9d\x01\x2a" + struct.pack("<HH", width, height) + b"\x00\x00"
    fourcc = kind.ljust(4).encode()
    body = b"WEBP" + fourcc + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body + after


def heic(width: int = 4032, height: int = 3024) -> bytes:
    """A HEIC: ``ftyp`` and a ``meta`` box whose ``ispe`` states ``width``×``height``."""

    def box(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data) + 8) + kind + data

    ispe = box(b"ispe", b"\x00\x00\x00\x00" + struct.pack(">II", width, height))
    meta = box(b"meta", b"\x00\x00\x00\x00" + box(b"iprp", box(b"ipco", ispe)))
    return box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + meta + box(b"mdat", b"\x00" * 16)


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.js", "alert(document.cookie)")
    return buffer.getvalue()


def pdf(*objects: bytes, trailer: bytes = b"", after: bytes = b"") -> bytes:
    """A small PDF: a catalog, then ``objects`` (numbered from 2), then the trailer."""
    body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    for number, obj in enumerate((b"<< /Type /Catalog /Pages 2 0 R >>", *objects), start=1):
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    return body + b"trailer\n<< /Root 1 0 R " + trailer + b">>\n%%EOF\n" + after


def stream(dictionary: bytes, data: bytes) -> bytes:
    """A stream object's text: ``<< dictionary /Length n >> stream ... endstream``."""
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def object_stream(objects: bytes, filters: bytes = b"/FlateDecode") -> bytes:
    """An object stream (``/Type /ObjStm``) holding ``objects``, Flate-compressed by default."""
    data = zlib.compress(objects) if filters == b"/FlateDecode" else objects
    return stream(b"/Type /ObjStm /N 1 /First 4 /Filter " + filters, data)
