"""Active content in a PDF: scripts, launch actions, embedded files, rich media.

A scan for the PDF *names* that carry them, not a PDF parser:

- ``/JavaScript``, ``/JS``, ``/Launch``, ``/EmbeddedFile``, ``/EmbeddedFiles``, ``/RichMedia``,
  however they are spelt (PDF lets any character of a name be written ``#xx``: ``/J#61vaScript``).
  An ``/OpenAction`` that runs JavaScript names ``/JavaScript`` and ``/JS``, so it is caught; a
  plain one (open at page 1, fit to window) is fine.
- The dictionaries a reader may take from compressed *object streams* (``/Type /ObjStm``, or
  ``/N`` and ``/First``) are decoded (Flate, ASCIIHex, ASCII85) and scanned the same way. An
  object stream that cannot be decoded here (another filter, a predictor, encryption, damage,
  or more than ``inflate_budget`` bytes once inflated) is refused as ``pdf_unreadable``: what we
  cannot read, we do not pass on.

Names in literal strings and comments count too: a false alarm there is cheap, a miss is not.
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Callable, Iterator

from core.domain.errors import DocumentRejected

ACTIVE_NAMES = ("JavaScript", "JS", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia")
INFLATE_BUDGET = 64 * 1024 * 1024

_WS = rb"\x00\t\n\x0c\r "
_DELIMITERS = rb"()<>\[\]{}/%"
_NAME = re.compile(rb"/([^" + _WS + _DELIMITERS + rb"]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb">>[" + _WS + rb"]*stream(?:\r\n|\n|\r)")
_OBJECT = re.compile(
    rb"\d+[" + _WS + rb"]+\d+[" + _WS + rb"]+obj(?![^" + _WS + _DELIMITERS + rb"])"
)
_LENGTH = re.compile(rb"/Length[" + _WS + rb"]+(\d+)(?!\d)(?![" + _WS + rb"]+\d+[" + _WS + rb"]+R)")
_END = re.compile(rb"[" + _WS + rb"]*endstream")


class _Unreadable(Exception):
    pass


def _spelt(name: str) -> bytes:
    """A pattern for ``name`` with each character plain or ``#xx`` (hex digits in any case)."""
    parts = []
    for char in name:
        digits = b"".join(
            b"[%s%s]" % (d.encode(), d.upper().encode()) if d.isalpha() else d.encode()
            for d in f"{ord(char):02x}"
        )
        parts.append(b"(?:" + re.escape(char.encode()) + b"|#" + digits + b")")
    return b"".join(parts)


_ACTIVE = re.compile(
    b"/("
    + b"|".join(_spelt(name) for name in sorted(ACTIVE_NAMES, key=len, reverse=True))
    + rb")(?=["
    + _WS
    + _DELIMITERS
    + rb"]|\Z)"
)
_ENCRYPTED = re.compile(b"/" + _spelt("Encrypt") + rb"(?![^" + _WS + _DELIMITERS + rb"])")


def decode_name(raw: bytes) -> str:
    """A PDF name without its ``#xx`` escapes (``J#61vaScript`` → ``JavaScript``)."""
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw).decode("latin-1")


def check_pdf(content: bytes, inflate_budget: int = INFLATE_BUDGET) -> None:
    """Refuse a PDF that names active content, in its body or in its object streams."""
    _refuse_active(content)
    budget = inflate_budget
    for dictionary, raw in _streams(content):
        names = [decode_name(n) for n in _NAME.findall(dictionary)]
        if "ObjStm" not in names and not {"N", "First"} <= set(names):
            continue  # content, fonts, images: no dictionary a reader takes as an object
        try:
            decoded = _decode(names, raw, budget)
        except _Unreadable as error:
            encrypted = _ENCRYPTED.search(content) is not None
            raise DocumentRejected(
                "an object stream of the PDF cannot be checked",
                reason="pdf_unreadable",
                problem="encrypted" if encrypted else str(error),
            ) from None
        budget -= len(decoded)
        _refuse_active(decoded)


def _refuse_active(data: bytes) -> None:
    found = _ACTIVE.search(data)
    if found is not None:
        raise DocumentRejected(
            "the PDF carries scripts, actions or embedded files",
            reason="pdf_active_content",
            name=decode_name(found.group(1)),
        )


def _streams(content: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Each stream's dictionary (from its ``N G obj`` header) and its raw data."""
    pos = 0
    while (found := _STREAM.search(content, pos)) is not None:
        headers = list(_OBJECT.finditer(content, pos, found.start()))
        dictionary = content[headers[-1].end() if headers else pos : found.end()]
        start = found.end()
        stop = content.find(b"endstream", start)
        stop = len(content) if stop < 0 else stop
        length = _LENGTH.search(dictionary)
        if length is not None and _END.match(content, start + int(length.group(1))):
            stop = start + int(length.group(1))
        yield dictionary, content[start:stop]
        pos = max(stop, start)


def _decode(names: list[str], raw: bytes, budget: int) -> bytes:
    if "Predictor" in names:
        raise _Unreadable("predictor")
    data = raw
    for name in names:
        if name in _OTHER_FILTERS:
            raise _Unreadable(name)
        decoder = _DECODERS.get(name)
        if decoder is not None:
            data = decoder(data, budget)
            if len(data) > budget:
                raise _Unreadable("too_large")
    return data


def _inflate(data: bytes, budget: int) -> bytes:
    if budget <= 0:  # zlib reads a max_length of 0 as "no limit"
        raise _Unreadable("too_large")
    try:
        out = zlib.decompressobj().decompress(data, budget + 1)
    except zlib.error:
        raise _Unreadable("damaged") from None
    if len(out) > budget:
        raise _Unreadable("too_large")
    return out


def _unhex(data: bytes, budget: int) -> bytes:
    digits = re.sub(rb"[" + _WS + rb"]", b"", data.split(b">", 1)[0])
    try:
        return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise _Unreadable("damaged") from None


def _un85(data: bytes, budget: int) -> bytes:
    text = data.split(b"~>", 1)[0].strip().removeprefix(b"<~")
    try:
        return base64.a85decode(text, ignorechars=b" \t\n\r\x0b\x0c\x00")
    except ValueError:
        raise _Unreadable("damaged") from None


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "FlateDecode": _inflate,
    "Fl": _inflate,
    "ASCIIHexDecode": _unhex,
    "AHx": _unhex,
    "ASCII85Decode": _un85,
    "A85": _un85,
}
_OTHER_FILTERS = frozenset(
    {"LZWDecode", "LZW", "RunLengthDecode", "RL", "Crypt", "DCTDecode", "DCT", "CCITTFaxDecode"}
    | {"CCF", "JBIG2Decode", "JPXDecode"}
)
