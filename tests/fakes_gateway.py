"""A local stand-in for the bureau and the bank on 127.0.0.1, speaking the contract documented in
``adapters.gateways.http``: it checks the bearer token, de-duplicates by ``Idempotency-Key``,
records what it receives, and can be scripted to be slow, fail, or drop the connection."""

from __future__ import annotations

import base64
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RECEIPT_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PREFIXES = {"/batches": "BUR", "/batch-payments": "PAY", "/claim-payouts": "CLM"}

Behaviour = tuple[Any, ...]
"""One scripted answer for one request to a route:

* ``("delay", seconds)``: do the work, then sleep before answering (the client may time out);
* ``("status", code)``, ``("status", code, body)``, ``("status", code, body, headers)``: answer
  that without doing the work (``body`` is JSON, ``None`` for none);
* ``("raw", code, content)``: answer those bytes without doing the work;
* ``("reset",)``: close the connection without answering and without doing the work.
"""
Answer = tuple[int, dict[str, Any]]


@dataclass
class FakeGateway:
    token: str
    url: str = ""
    paid_on: str = "2026-10-15"
    receipt_pdf: bytes = RECEIPT_PDF
    """What batch payments send back as their receipt."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    """Every request, in arrival order: ``{"path", "headers", "json"}``."""
    filings: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Idempotency key -> body of each batch filed (once per key)."""
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Idempotency key -> body of each batch payment or claim payout made (once per key)."""
    scripts: dict[str, list[Behaviour]] = field(default_factory=dict)
    _answers: dict[tuple[str, str], tuple[Any, Answer]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, path: str, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests to ``path``; after them, requests succeed."""
        with self._lock:
            self.scripts.setdefault(path, []).extend(behaviours)

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        return [request for request in self.requests if request["path"] == path]

    def record(self, path: str, headers: dict[str, str], body: Any) -> Behaviour | None:
        """Note the request and take its scripted behaviour, if any is left."""
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "json": body})
            queue = self.scripts.get(path)
            return queue.pop(0) if queue else None

    def process(self, path: str, key: str | None, body: Any) -> Answer:
        """Do the work once per key; a repeated key gets the first answer back."""
        if not key:
            return 400, {"error": "Idempotency-Key header is required"}
        with self._lock:
            stored = self._answers.get((path, key))
            if stored is not None:
                first_body, (_, answer) = stored
                if first_body != body:
                    return 422, {"error": "Idempotency-Key reused with a different request"}
                return 200, answer
            answer = self._new_answer(path, key, body)
            self._answers[(path, key)] = (body, (201, answer))
            return 201, answer

    def _new_answer(self, path: str, key: str, body: Any) -> dict[str, Any]:
        reference = f"{PREFIXES[path]}-{len(self._answers) + 1:04d}"
        if path == "/batches":
            self.filings[key] = body
            return {"reference": reference, "message": f"{len(body['lines'])} lines accepted"}
        self.payments[key] = body
        answer = {"reference": reference, "paid_on": self.paid_on}
        if path == "/batch-payments":
            answer["receipt_pdf"] = base64.b64encode(self.receipt_pdf).decode()
        return answer


def _handler(state: FakeGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                state.record(self.path, dict(self.headers), body)
                self.answer(401, {"error": "invalid token"})
                return
            behaviour = state.record(self.path, dict(self.headers), body)
            if self.path not in PREFIXES:
                self.answer(404, {"error": "no such route"})
            elif behaviour is None or behaviour[0] == "delay":
                status, answer = state.process(self.path, self.headers.get("Idempotency-Key"), body)
                if behaviour is not None:
                    time.sleep(behaviour[1])
                self.answer(status, answer)
            else:
                self.misbehave(behaviour)

        def misbehave(self, behaviour: Behaviour) -> None:
            kind, *args = behaviour
            if kind == "reset":
                # Linger 0 makes close() send a TCP reset instead of an orderly goodbye.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                self.close_connection = True
            elif kind == "status":
                status, payload, headers = (*args, None, None)[:3]
                self.answer(status, payload, headers or {})
            elif kind == "raw":
                self.send_bytes(args[0], args[1], {"Content-Type": "text/plain"})
            else:
                raise ValueError(f"unknown behaviour {behaviour!r}")

        def answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            content = b"" if payload is None else json.dumps(payload).encode()
            self.send_bytes(
                status, content, {"Content-Type": "application/json", **(headers or {})}
            )

        def send_bytes(self, status: int, content: bytes, headers: dict[str, str]) -> None:
            # After a delay the client may have given up and closed: that is the point.
            with suppress(OSError):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def gateway_server(token: str = "t0ken") -> Iterator[FakeGateway]:  # noqa: S107 (a test token)
    """A running fake gateway; ``.url`` is its base URL (routes are under it)."""
    state = FakeGateway(token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    # A short poll interval: shutdown waits for it, once per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
