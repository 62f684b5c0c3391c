"""A loopback fleet, as production runs it: web processes and workers over one PostgreSQL.

``fleet(server_url, root)`` creates a fresh, uniquely named database on the PostgreSQL server of
``server_url`` (never the database that URL names: other test runs use it), migrates it with
``hrbot db upgrade``, loads the demo organisation (what ``hrbot db seed-demo`` loads), starts fake
Slack and Telegram APIs (``tests/fakes_slack.py``, ``tests/integration/telegram/fake_bot_api.py``),
then ``hrbot serve --no-worker`` web processes and ``hrbot worker`` processes on 127.0.0.1, all
with the same secret key, documents folder and chat settings. It waits until every web process
answers ``/readyz`` and every worker has logged its start, and on the way out stops them
(SIGTERM, then SIGKILL after a timeout), stops the fakes and drops the database. Each process
writes its log to a file under ``root``; ``Fleet.logs()`` shows them in failure messages.

Used by tests/integration/test_fleet.py and benchmarks/bench_load.py; ``tests/fleet_chat.py``
speaks to the fleet as Slack and Telegram would.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from core.encryption_keys import install_keyring, keyring_from
from tests.fakes_slack import TOKEN as SLACK_TOKEN
from tests.fakes_slack import FakeSlack, fake_slack_server
from tests.integration.slack.conftest import SECRET as SLACK_SECRET
from tests.integration.telegram.conftest import SECRET as TELEGRAM_SECRET
from tests.integration.telegram.fake_bot_api import TOKEN as TELEGRAM_TOKEN
from tests.integration.telegram.fake_bot_api import FakeBotApi, fake_bot_api

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET_KEY = "fleet-secret-key-shared-by-every-process"
# Sealed columns and documents: the suite's key when it sets one (tests/conftest.py), else this
# one. The benchmarks start fleets without the suite; without a key every process would use its
# own folder's ./var/secret_key and could not read what seed_demo sealed.
ENCRYPTION_KEY = "fleet-encryption-key-shared-by-every-process-not-secret"
_OWN_NAME = re.compile(r"^hrbot_[a-z0-9_]{1,50}$")
START_TIMEOUT = 45.0
STOP_TIMEOUT = 20.0


def is_postgresql(url: str | None) -> bool:
    return bool(url) and make_url(str(url)).get_backend_name() == "postgresql"


def server_of(url: str) -> str:
    """The maintenance database of ``url``'s server: where databases are created and dropped."""
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


@contextmanager
def own_database(server_url: str, name: str | None = None) -> Iterator[str]:
    """A new database on ``server_url``'s server, dropped afterwards; yields its URL.

    Only names starting ``hrbot_`` are created or dropped, so a shared database (``test``,
    ``postgres``) can never be taken or lost here."""
    name = name or f"hrbot_fleet_{os.getpid()}_{secrets.token_hex(3)}"
    if not _OWN_NAME.match(name):
        raise ValueError(f"refusing to create or drop database {name!r}: not an hrbot_ name")
    admin = create_engine(server_of(server_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with admin.connect() as connection:
        connection.execute(drop)  # a run killed earlier may have left it behind
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(drop)
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hrbot_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from bot.cli import main; main()", *args]


@dataclass
class Member:
    """One process of the fleet and the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]
    url: str | None = None
    """Web processes: the base URL."""

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


@dataclass
class Fleet:
    database_url: str
    root: Path
    env: dict[str, str]
    slack: FakeSlack
    telegram: FakeBotApi
    members: list[Member] = field(default_factory=list)
    exit_codes: dict[str, int] = field(default_factory=dict)

    @property
    def webs(self) -> list[str]:
        return [m.url for m in self.members if m.url]

    def web(self, turn: int) -> str:
        """The web process for request number ``turn``: they take turns."""
        return self.webs[turn % len(self.webs)]

    def crashed(self) -> list[str]:
        return [m.name for m in self.members if not m.alive()]

    def logs(self, lines: int = 40) -> str:
        return "\n".join(f"--- {m.name} ({m.log_path})\n{m.tail(lines)}" for m in self.members)

    def hrbot(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A one-shot ``hrbot`` command on the fleet's database and settings."""
        return subprocess.run(
            hrbot_command(*args),
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def start(self, name: str, *args: str, url: str | None = None) -> Member:
        log_path = self.root / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("wb")
        process = subprocess.Popen(
            hrbot_command(*args), cwd=self.root, env=self.env, stdout=log, stderr=log
        )
        member = Member(name, process, log_path, log, url)
        self.members.append(member)
        return member

    def wait_started(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        for member in self.members:
            while not _started(member):
                if not member.alive():
                    raise RuntimeError(f"{member.name} exited at start:\n{member.tail()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{member.name} did not start:\n{member.tail()}")
                time.sleep(0.05)

    def unclean_exits(self) -> dict[str, int]:
        """Processes stopped by ``stop`` that did not exit cleanly, with their exit codes. A web
        process may end by the SIGTERM it was sent: uvicorn shuts down gracefully, then raises
        the signal again for its parent to see; its log then says the shutdown completed."""
        unclean = {}
        for member in self.members:
            code = self.exit_codes.get(member.name)
            graceful = member.url is not None and "Application shutdown complete" in member.tail()
            if code != 0 and not (code == -signal.SIGTERM and graceful):
                unclean[member.name] = code if code is not None else -1
        return unclean

    def stop(self, timeout: float = STOP_TIMEOUT) -> dict[str, int]:
        """SIGTERM to every process, SIGKILL to any still running after ``timeout``; the exit
        codes by name (negative: killed by that signal)."""
        for member in self.members:
            if member.alive():
                member.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for member in self.members:
            try:
                member.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait(timeout=10)
            self.exit_codes[member.name] = int(member.process.returncode)
            member.log.close()
        return dict(self.exit_codes)


def _started(member: Member) -> bool:
    if member.url is None:  # a worker says so in its log once its loop runs
        return bool(re.search(r"worker \S+ started", member.log_path.read_text(errors="replace")))
    try:
        return httpx.get(f"{member.url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def fleet_encryption_key() -> str:
    return os.environ.get("HRBOT_ENCRYPTION_KEY") or ENCRYPTION_KEY


def seed_demo(url: str, root: Path) -> None:
    """What ``hrbot db seed-demo`` loads, in this process (one interpreter start less)."""
    from bot.bootstrap import build
    from bot.demo.history import add_demo_history
    from bot.demo.org import load_demo_org
    from bot.settings import Settings
    from tests.factories import consent_all

    settings = Settings(
        _env_file=None,
        database_url=url,
        documents_dir=root / "documents",
        encryption_key=fleet_encryption_key(),
    )
    services = build(settings)
    try:
        with services.ctx.uow() as uow:
            load_demo_org(uow, services.ctx.today(), services.ctx.now())
            add_demo_history(uow, services.ctx.now(), services.ctx.rules.policy)
            uow.commit()
        consent_all(services.ctx)  # the fleet is about delivery, not the consent question
    finally:
        services.close()


def fleet_env(url: str, root: Path, slack: FakeSlack, telegram: FakeBotApi) -> dict[str, str]:
    """What every process of the fleet shares; the caller's own HRBOT_ settings are left out."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("HRBOT_")}
    return base | {
        "HRBOT_DATABASE_URL": url,
        "HRBOT_DOCUMENTS_DIR": str(root / "documents"),
        "HRBOT_SECRET_KEY": SECRET_KEY,
        "HRBOT_ENCRYPTION_KEY": fleet_encryption_key(),  # the key seed_demo sealed with
        "HRBOT_SLACK_BOT_TOKEN": SLACK_TOKEN,
        "HRBOT_SLACK_SIGNING_SECRET": SLACK_SECRET,
        "HRBOT_SLACK_API_URL": slack.url,
        "HRBOT_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "HRBOT_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "HRBOT_TELEGRAM_API_URL": telegram.api_url,
        # Real time: quiet hours and digests would make what is sent depend on the hour of the run.
        "HRBOT_QUIET_HOURS": "false",
        "HRBOT_DIGEST_HOUR": "",
    }


@contextmanager
def fleet(
    server_url: str,
    root: Path,
    *,
    database: str | None = None,
    webs: int = 2,
    workers: int = 2,
    worker_interval: float = 0.25,
    prepare: Callable[[Fleet], Any] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Fleet]:
    """A running fleet on a new database of ``server_url``'s server, torn down afterwards.

    ``prepare`` runs after the demo organisation is loaded and before any process starts."""
    root.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:  # unwinds in reverse: processes, fakes, then the database
        # This process reads and writes the fleet's people too (prepare, the checks): same key.
        previous = install_keyring(keyring_from(fleet_encryption_key()))
        stack.callback(install_keyring, previous)
        url = stack.enter_context(own_database(server_url, database))
        slack = stack.enter_context(fake_slack_server())
        telegram = stack.enter_context(fake_bot_api())
        crew = Fleet(
            url, root, fleet_env(url, root, slack, telegram) | (env or {}), slack, telegram
        )
        done = crew.hrbot("db", "upgrade")  # the deployment's one-shot, as an operator runs it
        if done.returncode != 0:
            raise RuntimeError(f"hrbot db upgrade failed:\n{done.stderr}")
        seed_demo(url, root)
        if prepare is not None:
            prepare(crew)
        stack.callback(crew.stop)
        for number in range(1, webs + 1):
            port = free_port()
            web = ("serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port))
            crew.start(f"web{number}", *web, url=f"http://127.0.0.1:{port}")
        for number in range(1, workers + 1):
            crew.start(f"worker{number}", "worker", "--interval", str(worker_interval))
        crew.wait_started()
        yield crew
