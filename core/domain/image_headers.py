"""What an image's headers say, read without decoding a single pixel.

For each accepted image type: the declared sizes (``width, height`` of every frame or item the
headers name) and where the image ends (the byte after JPEG's EOI, PNG's IEND, the RIFF chunk
of a WebP, the last whole top-level box of a HEIC), so the caller can look at what follows.

A header that cannot be read yields no size and no end: such a file cannot be decoded either,
so it can be no decompression bomb. ``None`` for the end means "unknown", not "nothing after".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCD, 0xCE, 0xCF}
)
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_MAX_IMAGES = 8
"""Primary image plus the ones phones append after its EOI (MPF, HDR gain maps)."""
_PADDING = re.compile(rb"[\x00\t\n\r ]*")
_HEIF_CONTAINERS = frozenset({b"meta", b"iprp", b"ipco"})


@dataclass(frozen=True)
class ImageLayout:
    sizes: tuple[tuple[int, int], ...] = ()
    end: int | None = None

    @property
    def pixels(self) -> int:
        """The largest width × height any header declares (0 when none could be read)."""
        return max((w * h for w, h in self.sizes), default=0)


def image_layout(content_type: str, data: bytes) -> ImageLayout:
    reader = {
        "image/png": _png,
        "image/jpeg": _jpeg,
        "image/webp": _webp,
        "image/heic": _heif,
    }.get(content_type)
    return reader(data) if reader else ImageLayout()


def skip_padding(data: bytes, pos: int) -> int:
    """The first offset from ``pos`` that is not NUL or white space padding."""
    found = _PADDING.match(data, pos)
    return found.end() if found else pos


def _u16(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 2], "big")


def _u32(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 4], "big")


def _le(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos : pos + size], "little")


def _png(data: bytes) -> ImageLayout:
    sizes: tuple[tuple[int, int], ...] = ()
    if data[12:16] == b"IHDR" and len(data) >= 24:
        sizes = ((_u32(data, 16), _u32(data, 20)),)
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = _u32(data, pos), data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > len(data):
            break
        if kind == b"IEND":
            return ImageLayout(sizes, end)
        pos = end
    return ImageLayout(sizes)


def _jpeg(data: bytes) -> ImageLayout:
    sizes: list[tuple[int, int]] = []
    end: int | None = None
    pos = 0
    for _ in range(_JPEG_MAX_IMAGES):
        if not data.startswith(b"\xff\xd8", pos):
            break
        image_end = _jpeg_image(data, pos + 2, sizes)
        if image_end is None:
            break
        end = image_end
        pos = skip_padding(data, image_end)
    return ImageLayout(tuple(sizes), end)


def _jpeg_image(data: bytes, pos: int, sizes: list[tuple[int, int]]) -> int | None:
    """Walk one JPEG's segments from after its SOI; the offset after its EOI, if any."""
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
        elif marker == 0xD9:
            return pos + 2
        elif marker in _JPEG_STANDALONE:
            pos += 2
        else:
            length = _u16(data, pos + 2)
            if length < 2 or pos + 2 + length > len(data):
                return None
            if marker in _JPEG_SOF and length >= 7:
                height = _u16(data, pos + 5) or 0xFFFF  # 0: given later by a DNL marker
                sizes.append((_u16(data, pos + 7), height))
            pos += 2 + length
            if marker == 0xDA:  # entropy-coded data follows the scan header
                found = _JPEG_NEXT_MARKER.search(data, pos)
                if found is None:
                    return None
                pos = found.start()
    return None


def _webp(data: bytes) -> ImageLayout:
    riff_size = _le(data, 4, 4)
    end = 8 + riff_size + (riff_size & 1)
    kind, chunk = data[12:16], data[20:30]
    sizes: tuple[tuple[int, int], ...] = ()
    if kind == b"VP8X" and len(chunk) >= 10:
        sizes = ((_le(chunk, 4, 3) + 1, _le(chunk, 7, 3) + 1),)
    elif kind == b"VP8L" and len(chunk) >= 5 and chunk[0] == 0x2F:
        bits = _le(chunk, 1, 4)
        sizes = (((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1),)
    elif kind == b"VP8 " and chunk[3:6] == b"\x9d\x01\x2a":
        sizes = ((_le(chunk, 6, 2) & 0x3FFF, _le(chunk, 8, 2) & 0x3FFF),)
    return ImageLayout(sizes, end if end <= len(data) else None)


def _heif(data: bytes) -> ImageLayout:
    """HEIF/HEIC: every ``ispe`` (image spatial extents) property, and the last whole box."""
    sizes: list[tuple[int, int]] = []
    end: int | None = None
    for kind, payload, box_end in _boxes(data, 0, len(data)):
        end = box_end
        if kind == b"meta":
            sizes.extend(_ispe(data, payload + 4, box_end))
    return ImageLayout(tuple(sizes), end)


def _ispe(data: bytes, start: int, stop: int, depth: int = 0) -> Iterator[tuple[int, int]]:
    for kind, payload, box_end in _boxes(data, start, stop):
        if kind == b"ispe" and box_end - payload >= 12:
            yield _u32(data, payload + 4), _u32(data, payload + 8)
        elif kind in _HEIF_CONTAINERS and depth < 4:
            skip = 4 if kind == b"meta" else 0  # meta is a full box: version and flags first
            yield from _ispe(data, payload + skip, box_end, depth + 1)


def _boxes(data: bytes, start: int, stop: int) -> Iterator[tuple[bytes, int, int]]:
    """ISO BMFF boxes between ``start`` and ``stop``: (type, payload offset, end offset)."""
    pos = start
    while pos + 8 <= stop:
        size, kind, header = _u32(data, pos), data[pos + 4 : pos + 8], 8
        if size == 1 and pos + 16 <= stop:
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = stop - pos
        if size < header or pos + size > stop:
            return
        yield kind, pos + header, pos + size
        pos += size
