"""A fake Slack Web API on a free loopback port: records every call, serves what hrbot uses.

Methods: ``auth.test``, ``bots.info``, ``conversations.open``, ``chat.postMessage``,
``chat.update``, ``chat.postEphemeral``, ``files.info``, ``views.open`` and the three steps of
``files_upload_v2``; private file downloads under ``/files-pri/`` (only with the bot token,
otherwise Slack's HTML login page, as real Slack does). ``fail`` injects 429/500/error answers;
``add_file(..., html=True)`` makes a download answer with the login page. ``bytes_served`` counts
file bytes sent, so a test can prove a file was never downloaded.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "xoxb-hrbot-test"
TEAM = "T0HRBOT"
APP = "A0HRBOT"
BOT = "B0HRBOT"
BOT_USER = "U0HRBOT"
LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    authorization: str | None
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ts(self) -> str:
        """The message's ``ts``, as answered (``chat.postMessage``) or asked (``chat.update``)."""
        return str(self.response.get("ts") or self.params.get("ts") or "")


@dataclass
class FakeFile:
    id: str
    name: str
    mimetype: str
    content: bytes
    size: int
    html: bool = False

    def payload(self, root: str) -> dict[str, Any]:
        """The ``files[]`` / ``files.info`` shape (the fields hrbot reads, as Slack sends them)."""
        return {
            "id": self.id,
            "name": self.name,
            "title": self.name,
            "mimetype": self.mimetype,
            "filetype": self.name.rsplit(".", 1)[-1],
            "size": self.size,
            "mode": "hosted",
            "is_external": False,
            "url_private": f"{root}/files-pri/{TEAM}-{self.id}/{self.name}",
            "url_private_download": f"{root}/files-pri/{TEAM}-{self.id}/download/{self.name}",
        }


@dataclass
class FakeSlack:
    root: str = ""
    calls: list[Call] = field(default_factory=list)
    files: dict[str, FakeFile] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    bytes_served: int = 0
    downloads: int = 0
    _failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        """The Web API base, as ``HRBOT_SLACK_API_URL`` takes it."""
        return f"{self.root}/api/"

    def fail(
        self,
        method: str,
        status: int = 200,
        error: str = "internal_error",
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` answer ``status`` with ``{"ok": false}``."""
        with self._lock:
            queue = self._failures.setdefault(method, [])
            queue.extend([(status, {"ok": False, "error": error}, headers or {})] * times)

    def add_file(
        self, name: str, content: bytes, mimetype: str, size: int | None = None, html: bool = False
    ) -> dict[str, Any]:
        """Register a file; returns its ``files[]`` entry for a ``file_share`` event."""
        file_id = f"F{next(self._seq):08d}"
        stated = len(content) if size is None else size
        self.files[file_id] = FakeFile(file_id, name, mimetype, content, stated, html)
        return self.files[file_id].payload(self.root)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None, method: str = "chat.postMessage") -> list[Call]:
        return [
            c
            for c in self.calls_to(method)
            if channel is None or c.params.get("channel") == channel
        ]

    # -- serving ----------------------------------------------------------------------------

    def answer(
        self, method: str, params: dict[str, Any], auth: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        call = Call(method, params, auth)
        with self._lock:
            self.calls.append(call)
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            call.response = failure[1]
            return failure
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if auth != f"Bearer {TOKEN}":
            call.response = {"ok": False, "error": "invalid_auth"}
        elif handler is None:
            call.response = {"ok": False, "error": "unknown_method"}
        else:
            call.response = handler(params)
        return 200, call.response, {}

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://hrbot-test.slack.com/",
            "team": "hrbot",
            "user": "hrbot",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT,
            "is_enterprise_install": False,
        }

    def _bots_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "bot": {"id": params.get("bot"), "app_id": APP, "user_id": BOT_USER}}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": dm_channel(str(params.get("users", "")))}}

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._ts()
        return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"ts": ts}}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}

    def _chat_postEphemeral(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._ts()}

    def _views_open(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": f"V{next(self._seq):08d}"}}

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(str(params.get("file")))
        if file is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": file.payload(self.root)}

    def _files_getUploadURLExternal(self, _: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._seq):08d}"
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.root}/upload/{file_id}"}

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _ts(self) -> str:
        n = next(self._seq)
        return f"{1_790_000_000 + n}.{n:06d}"

    def download(self, path: str, auth: str | None) -> tuple[int, bytes, str]:
        file_id = path.split("/")[2].rsplit("-", 1)[-1]
        file = self.files.get(file_id)
        if file is None:
            return 404, b"not found", "text/plain"
        if file.html or auth != f"Bearer {TOKEN}":
            return 200, LOGIN_PAGE, "text/html; charset=utf-8"
        with self._lock:
            self.downloads += 1
            self.bytes_served += len(file.content)
        return 200, file.content, file.mimetype


def dm_channel(user_id: str) -> str:
    """The fake's direct-message channel id with a user: ``D`` and the user id."""
    return f"D{user_id}"


def blocks_of(call: Call) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def key_of(call: Call) -> str:
    """The message key a posted message was rendered from (carried in its ``block_id``s)."""
    for block in blocks_of(call):
        block_id = str(block.get("block_id", ""))
        if "#" in block_id:
            return block_id.rsplit("#", 1)[0]
    return ""


def buttons_of(call: Call) -> list[dict[str, Any]]:
    return [e for b in blocks_of(call) if b.get("type") == "actions" for e in b["elements"]]


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if "json" in content_type:
        loaded: dict[str, Any] = json.loads(body or b"{}")
        return loaded
    parsed = parse_qs(body.decode(), keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/api/<method>`` to ``FakeSlack.answer``, uploads and private file downloads."""

    protocol_version = "HTTP/1.1"  # keep-alive, as Slack's own API allows
    state: FakeSlack

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        if url.path.startswith("/upload/"):
            self.state.uploads[url.path.rsplit("/", 1)[-1]] = body
            self._reply(200, b"OK - 2", "text/plain")
            return
        params = _params(self.headers.get("Content-Type", ""), body)
        self._api(url.path, params | {k: v[0] for k, v in parse_qs(url.query).items()})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/api/"):  # some methods (bots.info) are called with GET
            self._api(url.path, {k: v[0] for k, v in parse_qs(url.query).items()})
            return
        status, content, kind = self.state.download(url.path, self.headers.get("Authorization"))
        self._reply(status, content, kind)

    def _api(self, path: str, params: dict[str, Any]) -> None:
        method = path.removeprefix("/api/")
        status, payload, headers = self.state.answer(
            method, params, self.headers.get("Authorization")
        )
        self._reply(status, json.dumps(payload).encode(), "application/json", headers)

    def _reply(
        self, status: int, content: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def fake_slack_server() -> Iterator[FakeSlack]:
    """A ``FakeSlack`` serving on ``127.0.0.1`` and a free port, for the ``with`` block."""
    state = FakeSlack()
    handler = type("FakeSlackHandler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.root = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
