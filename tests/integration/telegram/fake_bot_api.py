"""A local stand-in for the Telegram Bot API on a free 127.0.0.1 port.

It records every call (JSON, form-encoded and multipart bodies, as python-telegram-bot and our
httpx channel send them), serves the methods hrbot uses, hands out files whose ``file_path`` never
exists on local disk (python-telegram-bot would read a local file instead of downloading it), and
fails on demand: 429 with ``retry_after``, 400 "file is too big", 403 "bot was blocked", 500.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

BOT_ID = 999000111
TOKEN = "123456:TEST-token_for-the-fake"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    def get(self, name: str) -> Any:
        return self.params.get(name)

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id"))

    @property
    def tokens(self) -> list[str]:
        """The ``callback_data`` of every button in the call's inline keyboard."""
        markup = self.params.get("reply_markup") or {}
        return [
            b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row
        ]


@dataclass
class Failure:
    status: int
    description: str
    retry_after: int | None = None


class FakeBotApi:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.base = ""
        self.calls: list[Call] = []
        self.downloads: list[str] = []
        self.webhook: dict[str, Any] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._files: dict[str, bytes] = {}
        self._paths: dict[str, str] = {}
        self._updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._changed = threading.Condition()

    # --- what tests use -------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """What ``HRBOT_TELEGRAM_API_URL`` is set to (the token is appended)."""
        return f"{self.base}/bot"

    def fail_next(self, method: str, status: int, description: str, **kw: Any) -> None:
        times = kw.pop("times", 1)
        with self._changed:
            self._failures.setdefault(method, []).extend(
                [Failure(status, description, **kw)] * times
            )

    def add_file(self, file_id: str, content: bytes) -> None:
        self._files[file_id] = content

    def push_update(self, update: dict[str, Any]) -> None:
        with self._changed:
            self._updates.append(update)
            self._changed.notify_all()

    def calls_to(self, method: str, chat_id: int | str | None = None) -> list[Call]:
        with self._changed:
            found = [c for c in self.calls if c.method == method]
        return [c for c in found if chat_id is None or c.chat_id == str(chat_id)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the fake Bot API did not see what was expected")
                self._changed.wait(min(left, 0.05))

    def reset(self) -> None:
        with self._changed:
            self.calls.clear()
            self.downloads.clear()

    # --- the server side ------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any], files: dict[str, Any]) -> tuple[int, Any]:
        with self._changed:
            self.calls.append(Call(method, params, files))
            self._changed.notify_all()
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            return failure.status, _error(failure)
        serve = getattr(self, f"_m_{method}", None)
        if serve is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        return 200, {"ok": True, "result": serve(params)}

    def download(self, path: str) -> bytes | None:
        with self._changed:
            self.downloads.append(path)
            self._changed.notify_all()
        file_id = self._paths.get(path)
        return self._files.get(file_id) if file_id else None

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": int(params.get("message_id") or next(self._ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "x"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "hrbot"},
            **extra,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "hrbot", "username": "hrbot_test_bot"}

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text=params.get("text", ""))

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text=params.get("text", ""))

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, text="")

    def _m_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = {"file_id": f"DOC{next(self._ids)}", "file_unique_id": uuid.uuid4().hex[:8]}
        return self._message(params, document=document, caption=params.get("caption", ""))

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params["file_id"])
        content = self._files[file_id]
        path = f"documents/hrbot-fake-{uuid.uuid4().hex}.bin"
        assert not Path(path).exists()  # PTB would read a local file instead of downloading it
        self._paths[path] = file_id
        return {
            "file_id": file_id,
            "file_unique_id": file_id[-8:],
            "file_size": len(content),
            "file_path": path,
        }

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = dict(params)
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        url = self.webhook.get("url", "")
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + wait
        with self._changed:
            while True:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline:
                    return list(self._updates)
                self._changed.wait(deadline - time.monotonic())


def _error(failure: Failure) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": failure.status,
        "description": failure.description,
    }
    if failure.retry_after is not None:
        body["parameters"] = {"retry_after": failure.retry_after}
    return body


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """JSON, form-encoded or multipart; nested values sent as JSON strings are decoded."""
    if not body:
        return {}, {}
    if content_type.startswith("application/json"):
        return json.loads(body), {}
    if content_type.startswith("multipart/form-data"):
        return _multipart(content_type, body)
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    return {k: _maybe_json(v) for k, v in pairs}, {}


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    params: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename:
            files[name] = (str(filename), content)
        else:
            params[name] = _maybe_json(content.decode())
    return params, files


def _maybe_json(value: str) -> Any:
    if value in ("true", "false"):
        return value == "true"
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@contextmanager
def fake_bot_api(token: str = TOKEN) -> Iterator[FakeBotApi]:
    fake = FakeBotApi(token)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as python-telegram-bot's httpx pool expects

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            prefix = f"/bot{fake.token}/"
            path = urlsplit(self.path).path
            if not path.startswith(prefix):
                self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            params, files = parse_body(self.headers.get("Content-Type", ""), body)
            status, answer = fake.handle(path[len(prefix) :], params, files)
            self._reply(status, answer)

        def do_GET(self) -> None:
            prefix = f"/file/bot{fake.token}/"
            path = unquote(urlsplit(self.path).path)
            content = fake.download(path[len(prefix) :]) if path.startswith(prefix) else None
            if content is None:
                self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            self._send(200, "application/octet-stream", content)

        def _reply(self, status: int, body: Any) -> None:
            self._send(status, "application/json", json.dumps(body).encode())

        def _send(self, status: int, content_type: str, content: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            # A long poll is cut off when a test stops the bot: nobody is left to read it.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
