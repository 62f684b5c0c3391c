"""Reading an import upload with hard limits, and keeping it until it is confirmed.

The multipart body is counted as it arrives: past ``max_upload_bytes`` for the file (or the form
as a whole, whatever Content-Length claims) the request is refused with 413 before anything is
stored. The file waits under the dashboard's ``uploads_dir`` with a random name, owner-only, and
uploads never confirmed are swept once their confirmation could no longer be used.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from adapters.web.dashboard.runtime import IMPORT_MAX_AGE

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FORM_OVERHEAD = 64 * 1024
"""Room for boundaries, part headers and the text fields beyond the file itself."""
MAX_FIELD = 4 * 1024
STORED = re.compile(r"[0-9a-f]{32}\.(?:csv|xlsx)")
"""The names ``store`` gives, the only ones a confirmation may name."""
_OURS = re.compile(r"[0-9a-f]{32}(?:\.taken)?\.(?:csv|xlsx)")
"""Stored or claimed uploads: nothing else in the folder is ever removed."""
BAD_FORM = "表单格式错误 · The form could not be read"
TOO_LONG = "表单内容太长 · The form is too long"


class Refused(Exception):
    """The request cannot be taken; ``status`` is the HTTP answer, ``message`` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def size_text(limit: int) -> str:
    return f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit // 1024} KB"


def too_large(limit: int) -> Refused:
    size = size_text(limit)
    return Refused(
        413,
        f"文件超过 {size} 的上限，未保存任何内容 · "
        f"The file is larger than the {size} limit: nothing was stored",
    )


# Reading the form --------------------------------------------------------------------------


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str = ""
    content: bytearray = field(default_factory=bytearray)


class _Parts:
    """python-multipart callbacks: the text fields and the first ``file`` part, each counted."""

    def __init__(self, limit: int) -> None:
        self.form, self.limit = UploadForm(), limit
        self._header, self._value, self._disposition = b"", b"", b""
        self._name, self._file, self._data = "", False, bytearray()

    def on_part_begin(self) -> None:
        self._disposition, self._name, self._file, self._data = b"", "", False, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            self._disposition = self._value
        self._header = self._value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        self._file = b"filename" in options
        if self._file and self._name == "file" and not self.form.filename:
            self.form.filename = options[b"filename"].decode("utf-8", "replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]
        if self._file and len(self._data) > self.limit:
            raise too_large(self.limit)
        if not self._file and len(self._data) > MAX_FIELD:
            raise Refused(413, TOO_LONG)

    def on_part_end(self) -> None:
        if not self._file:
            self.form.fields.setdefault(self._name, self._data.decode("utf-8", "replace"))
        elif self._name == "file" and not self.form.content:
            self.form.content = self._data

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }


async def _capped(request: Request, cap: int, refusal: Refused) -> AsyncIterator[bytes]:
    """The body, refused as soon as it passes ``cap`` bytes, whatever Content-Length claims."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise refusal  # cannot pass: refuse it unread
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > cap:
            raise refusal
        yield chunk


async def read_upload(request: Request, limit: int) -> UploadForm:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise Refused(400, BAD_FORM)
    parts = _Parts(limit)
    parser = MultipartParser(boundary, parts.callbacks())
    try:
        async for chunk in _capped(request, limit + FORM_OVERHEAD, too_large(limit)):
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise Refused(400, BAD_FORM) from None
    return parts.form


async def read_small_form(request: Request) -> dict[str, str]:
    body = bytearray()
    async for chunk in _capped(request, FORM_OVERHEAD, Refused(413, TOO_LONG)):
        body += chunk
    fields = parse_qs(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    return {name: values[0] for name, values in fields.items()}


# Storing the upload ------------------------------------------------------------------------


def store(folder: Path, form: UploadForm) -> Path:
    """Write the upload under a random name (owner-only), sweeping uploads left unconfirmed."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    cutoff = time.time() - IMPORT_MAX_AGE - 120
    for old in folder.iterdir():
        try:
            if _OURS.fullmatch(old.name) and old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:  # confirmed or swept by another request meanwhile
            continue
    path = folder / (secrets.token_hex(16) + Path(form.filename).suffix.lower())
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as file:
        file.write(form.content)
    return path


def claim(path: Path) -> Path | None:
    """Take a waiting upload for its one confirmation (an atomic rename), so a second click on
    "confirm" finds it gone instead of importing the file twice."""
    taken = path.with_name(f"{path.stem}.taken{path.suffix}")
    try:
        path.rename(taken)
    except FileNotFoundError:
        return None
    return taken
