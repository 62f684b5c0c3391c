"""Reading the web chat's multipart form with the upload limit enforced while the bytes arrive.

Starlette's own form parser spools any file to disk whatever its size; here each file part is
counted as it streams in and the request is refused (413) the moment one passes
``HRBOT_MAX_UPLOAD_MB``, before the rest is read and before anything is stored. What passes is
kept in memory only (the core checks the content and stores it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FILES = 10
MAX_TEXT_BYTES = 8 * 1024
FORM_OVERHEAD = 64 * 1024
"""Room for boundaries, part headers and the text field beyond the files themselves."""


class FormRefused(Exception):
    """The form cannot be taken; ``status`` is the HTTP answer, ``code`` a stable reason."""

    def __init__(self, status: int, code: str, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


@dataclass
class Upload:
    filename: str
    content_type: str | None
    content: bytearray = field(default_factory=bytearray)


@dataclass
class ChatForm:
    text: str = ""
    locale: str | None = None
    files: list[Upload] = field(default_factory=list)


def too_large(filename: str, limit: int) -> FormRefused:
    megabytes = limit // (1024 * 1024)
    return FormRefused(
        413,
        "too_large",
        f"文件“{filename}”超过 {megabytes} MB 的上限 · "
        f"The file “{filename}” is larger than the {megabytes} MB limit",
        filename=filename,
        limit_mb=megabytes,
    )


class _Collector:
    """python-multipart callbacks that build a ``ChatForm`` and count every part's bytes."""

    def __init__(self, max_file_bytes: int) -> None:
        self.form = ChatForm()
        self.max_file_bytes = max_file_bytes
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._content_type: str | None = None
        self._field: str | None = None
        self._upload: Upload | None = None
        self._data = bytearray()

    def on_part_begin(self) -> None:
        self._disposition, self._content_type = b"", None
        self._field, self._upload, self._data = None, None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._header_name.lower()
        if name == b"content-disposition":
            self._disposition = self._header_value
        elif name == b"content-type":
            self._content_type = self._header_value.decode("latin-1").strip() or None
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._field = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            return
        if len(self.form.files) >= MAX_FILES:
            raise FormRefused(
                413,
                "too_many_files",
                f"一次最多 {MAX_FILES} 个文件 · At most {MAX_FILES} files at once",
            )
        filename = options[b"filename"].decode("utf-8", "replace")
        self._upload = Upload(filename, self._content_type)
        self.form.files.append(self._upload)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._upload is not None:
            self._upload.content += data[start:end]
            if len(self._upload.content) > self.max_file_bytes:
                raise too_large(self._upload.filename, self.max_file_bytes)
            return
        self._data += data[start:end]
        if len(self._data) > MAX_TEXT_BYTES:
            raise FormRefused(413, "text_too_long", "消息太长 · The message is too long")

    def on_part_end(self) -> None:
        if self._upload is not None:
            if not self._upload.content and not self._upload.filename:
                self.form.files.remove(self._upload)  # an empty file input sends an empty part
            return
        value = self._data.decode("utf-8", "replace")
        if self._field == "text":
            self.form.text = value
        elif self._field == "locale":
            self.form.locale = value or None


async def read_chat_form(
    content_type: str | None,
    content_length: str | None,
    stream: AsyncIterator[bytes],
    max_file_bytes: int,
) -> ChatForm:
    """Parse ``text``, ``locale`` and ``files`` parts from a multipart body, within the limits."""
    kind, options = parse_options_header(content_type or "")
    if kind == b"application/x-www-form-urlencoded":
        return await _read_urlencoded(stream)  # text only (curl, scripts): no files
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise FormRefused(400, "not_multipart", "需要 multipart/form-data · Expected a form")
    declared = int(content_length) if content_length and content_length.isdigit() else 0
    if declared > MAX_FILES * max_file_bytes + FORM_OVERHEAD:
        # A body declared bigger than every file at the limit cannot pass: refuse it unread.
        raise too_large("…", max_file_bytes)
    collector = _Collector(max_file_bytes)
    callbacks = {
        name: getattr(collector, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise FormRefused(400, "bad_form", "表单格式错误 · The form could not be read") from None
    return collector.form


async def _read_urlencoded(stream: AsyncIterator[bytes]) -> ChatForm:
    body = bytearray()
    async for chunk in stream:
        body += chunk
        if len(body) > 3 * MAX_TEXT_BYTES:  # percent-encoding triples a character at most
            raise FormRefused(413, "text_too_long", "消息太长 · The message is too long")
    fields = parse_qs(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    return ChatForm(text=fields.get("text", [""])[0], locale=fields.get("locale", [""])[0] or None)
