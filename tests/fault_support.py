"""Faults between hrbot and what it talks to, for tests/integration/test_chaos.py and
tests/integration/test_db_faults.py.

- ``FaultPlan``: which share of calls misbehaves and how (seeded, so a run can be repeated):
  5 s of latency (scaled down), a timeout (the answer is held past the client's timeout),
  a connection reset, 429 with ``Retry-After``, 500.
- ``http_fault_proxy``: an HTTP proxy on 127.0.0.1 in front of one of the fake servers
  (Slack, Telegram, SMS, gateway); healthy calls are forwarded unchanged, each call is recorded.
- ``TcpProxy``: a byte pipe on 127.0.0.1 in front of any TCP server. With a plan it misbehaves
  at connection time (the SMTP server: a 421 or 451 greeting stands for 429 and 500); without
  one it is the database's cable, which ``cut()`` pulls (open connections reset, new ones
  refused) and ``restore()`` plugs back on the same port.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FAULTS = ("latency", "timeout", "reset", "429", "500")
LATENCY = 5.0
"""The latency fault, in seconds before scaling."""


@dataclass
class FaultPlan:
    rate: float = 0.10
    seed: int = 12
    scale: float = 0.05
    """Time scale of the run: 5 s of latency become 0.25 s; clients' timeouts are scaled alike."""
    hang: float = 1.0
    """How long a timeout fault holds the answer: longer than any client's (scaled) timeout."""
    retry_after: int = 1
    enabled: bool = True
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    @property
    def latency(self) -> float:
        return LATENCY * self.scale

    def draw(self) -> str | None:
        """The fault for the next call, or None for a healthy one."""
        with self._lock:
            if not self.enabled or self._random.random() >= self.rate:
                return None
            kind = self._random.choice(FAULTS)
            self.injected[kind] += 1
            return kind


@dataclass(frozen=True)
class ProxiedCall:
    method: str
    path: str
    fault: str | None
    key: str | None
    """The ``Idempotency-Key`` header, if the call carried one (gateways)."""
    at: float


# HTTP ------------------------------------------------------------------------------------------

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
_ERRORS: dict[str, dict[str, dict[str, Any] | None]] = {
    "slack": {"429": {"ok": False, "error": "ratelimited"}, "500": None},
    "telegram": {
        "429": {"ok": False, "error_code": 429, "description": "Too Many Requests: retry later"},
        "500": {"ok": False, "error_code": 500, "description": "Internal Server Error"},
    },
    "json": {"429": {"error": "too many requests"}, "500": {"error": "internal error"}},
}
"""What each kind of server says with a 429 or a 500 (Slack's 5xx pages are not JSON)."""


@dataclass
class HttpFaultProxy:
    upstream: str
    plan: FaultPlan
    flavour: str = "json"
    root: str = ""
    calls: list[ProxiedCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "") -> str:
        """The proxy's address for ``path`` (what the client is configured with)."""
        return f"{self.root}{path}"

    def note(self, call: ProxiedCall) -> None:
        with self._lock:
            self.calls.append(call)

    def calls_to(self, fragment: str) -> list[ProxiedCall]:
        with self._lock:
            return [c for c in self.calls if fragment in c.path]

    def error_body(self, kind: str) -> bytes:
        body = _ERRORS[self.flavour][kind]
        if body is None:
            return b"<html><body><h1>500 Internal Server Error</h1></body></html>"
        if kind == "429" and self.flavour == "telegram":
            body = {**body, "parameters": {"retry_after": self.plan.retry_after}}
        return json.dumps(body).encode()


def _proxy_handler(proxy: HttpFaultProxy) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fault = proxy.plan.draw()
            key = self.headers.get("Idempotency-Key")
            proxy.note(ProxiedCall(method, self.path, fault, key, time.monotonic()))
            if fault == "reset":
                _reset(self.connection)
                self.close_connection = True
                return
            if fault in ("429", "500"):
                content = proxy.error_body(fault)
                kind = "text/html" if content.startswith(b"<") else "application/json"
                headers = [("Content-Type", kind), ("Retry-After", str(proxy.plan.retry_after))]
                self._answer(int(fault), headers, content)
                return
            if fault == "latency":
                time.sleep(proxy.plan.latency)
            status, headers, content = self._forward(method, body)
            if fault == "timeout":  # the far side acted; its answer never arrives in time
                time.sleep(proxy.plan.hang)
                _reset(self.connection)
                self.close_connection = True
                return
            self._answer(status, headers, content)

        def _forward(self, method: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            host = target.hostname or "127.0.0.1"
            connection = http.client.HTTPConnection(host, target.port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                connection.request(method, self.path, body=body or None, headers=headers)
                response = connection.getresponse()
                content = response.read()
                kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
                return response.status, kept, content
            finally:
                connection.close()

        def _answer(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
            with suppress(OSError):  # the client may have given up already
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(content)
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def _reset(connection: socket.socket) -> None:
    """Close with linger 0: the peer gets a TCP reset, not an orderly goodbye."""
    with suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()


@contextmanager
def http_fault_proxy(
    upstream: str, plan: FaultPlan, flavour: str = "json"
) -> Iterator[HttpFaultProxy]:
    """A proxy in front of ``upstream`` (scheme, host and port of a fake server)."""
    parts = urlsplit(upstream)
    proxy = HttpFaultProxy(f"{parts.scheme}://{parts.netloc}", plan, flavour)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(proxy))
    server.daemon_threads = True  # a held answer must not hold up the end of the test
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    proxy.root = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()


# TCP -------------------------------------------------------------------------------------------

SMTP_GREETINGS = {
    "429": b"421 4.7.0 Too many connections, try again later\r\n",
    "500": b"451 4.3.0 Local error in processing\r\n",
}
"""An SMTP server's way of saying 429 and 500: a temporary refusal instead of its greeting."""


class TcpProxy:
    """A byte pipe from a port on 127.0.0.1 to ``target``, run on its own event loop thread.

    With a ``plan``, each new connection may misbehave (SMTP greetings for 429 and 500);
    ``cut()`` and ``restore()`` take the pipe away and give it back.
    """

    def __init__(self, target: tuple[str, int], plan: FaultPlan | None = None) -> None:
        self.target = target
        self.plan = plan
        self.port = 0
        self.connections = 0
        self.faults: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self._run(self._listen())
        return self

    def __exit__(self, *exc: object) -> None:
        self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def cut(self) -> None:
        """The database went away: connections in use are reset, new ones refused."""
        self._run(self._close())

    def restore(self) -> None:
        """It is back, on the same address."""
        self._run(self._listen())

    def _run(self, work: object) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            _abort(writer)
        self._open.clear()

    async def _shutdown(self) -> None:
        """Close, and end the connections still being served (a held timeout, a pipe)."""
        await self._close()
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._open.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            fault = self.plan.draw() if self.plan is not None else None
            if fault is not None:
                self.faults.append(fault)
            if await self._misbehave(fault, writer):
                return
            up_reader, upstream = await asyncio.open_connection(*self.target)
            self._open.add(upstream)
            await asyncio.gather(
                _pipe(reader, upstream), _pipe(up_reader, writer), return_exceptions=True
            )
        except OSError:
            pass
        finally:
            for end in (writer, upstream):
                if end is not None:
                    self._open.discard(end)
                    _abort(end)

    async def _misbehave(self, fault: str | None, writer: asyncio.StreamWriter) -> bool:
        """Act out ``fault`` at connection time; True when the connection is done with."""
        assert fault is None or self.plan is not None
        if fault == "latency":
            await asyncio.sleep(self.plan.latency)  # type: ignore[union-attr]
        elif fault == "timeout":
            await asyncio.sleep(self.plan.hang)  # type: ignore[union-attr]
            return True
        elif fault == "reset":
            return True
        elif fault in SMTP_GREETINGS:
            writer.write(SMTP_GREETINGS[fault])
            await writer.drain()
            writer.close()
            return True
        return False


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Drop the connection at once (a reset where the socket allows linger 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
