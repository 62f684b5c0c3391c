"""The web chat in a real headless Chromium: an employee's claim, finance's approval, the push.

Debian's ``chromium`` driven by Playwright (``executable_path``; Playwright never downloads a
browser here). The app runs as it does in production, in two processes: ``hrbot serve
--no-worker`` on a free loopback port and ``hrbot worker`` with a short interval, so the push
reaches the page across processes, through the database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.bootstrap import build
from bot.demo.org import load_demo_org
from bot.settings import Settings
from core.persistence.migrate import upgrade
from tests.factories import JPEG, PDF, PNG, consent_all

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 20_000

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hrbot(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("hrbot")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from bot.cli import main; main()", *args]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A migrated database with the demo organisation, the web app and a worker on it."""
    env = os.environ | {
        "HRBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'browser.db'}",
        "HRBOT_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "HRBOT_DEMO_MODE": "true",
        "HRBOT_SECRET_KEY": "browser-test-secret",
    }
    settings = Settings(
        database_url=env["HRBOT_DATABASE_URL"], documents_dir=tmp_path / "documents"
    )
    services = build(settings)
    upgrade(services.db.engine)
    with services.ctx.uow() as uow:
        load_demo_org(uow, services.ctx.today(), services.ctx.now())
        uow.commit()
    consent_all(services.ctx)  # consent itself: tests/integration/test_consent*.py
    services.close()
    port = free_port()
    logs = [(tmp_path / name).open("w") for name in ("serve.log", "worker.log")]
    commands = (
        hrbot("serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)),
        hrbot("worker", "--interval", "0.3"),
    )
    processes = [
        subprocess.Popen(c, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        for c, log in zip(commands, logs, strict=True)
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, processes[0], tmp_path / "serve.log")
        yield base
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"hrbot serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"hrbot serve did not become ready:\n{log.read_text()}")


def _playwright() -> Any:
    # Fail, never skip: CI installs both, and a silently skipped browser test proves nothing.
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "playwright is not installed: pip install playwright (never `playwright install`)"
        )
    return sync_playwright


def test_a_claim_approved_by_finance_is_pushed_to_the_employee_page(
    server: str, tmp_path: Path
) -> None:
    sync_playwright = _playwright()
    files = []
    for name, content in (("住院证明.pdf", PDF), ("费用清单.jpg", JPEG), ("身份证.png", PNG)):
        path = tmp_path / name
        path.write_bytes(content)
        files.append(str(path))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        pages = []
        try:
            zhang = browser.new_context().new_page()
            pages.append(zhang)
            _play(zhang, server, "E1001")
            zhang.click('.chip[data-command="/claim"]')
            zhang.locator('button[data-action="wizard.type"]').first.click()
            _bubble(zhang, "chat.claim_checklist")
            zhang.set_input_files("#files", files)
            zhang.click("#send")
            _bubble(zhang, "chat.claim_ask_amount")
            zhang.fill("#text", "8650")
            zhang.press("#text", "Enter")
            _bubble(zhang, "chat.claim_confirm").locator('[data-action="wizard.submit"]').click()
            _bubble(zhang, "chat.claim_submitted_held")

            finance = browser.new_context().new_page()  # a second person, a second browser
            pages.append(finance)
            _play(finance, server, "F5001")
            finance.click('.chip[data-command="/approvals"]')
            cards = finance.locator('.bubble[data-key="chat.approval_batch"]')
            cards.nth(1).wait_for(timeout=WAIT_MS)
            for index in range(cards.count()):
                cards.nth(index).locator('[data-action="batch.approve"]').click()
                approved = _bubble(finance, "chat.batch_approved_done", index)
                approved.locator('[data-action="batch.paid"]').click()
                _bubble(finance, "chat.batch_paid_done", index)

            resumed = _bubble(zhang, "claim.resumed")
            assert "push" in (resumed.get_attribute("class") or "")
        except Exception:
            for number, page in enumerate(pages):
                page.screenshot(path=str(tmp_path / f"page{number}.png"), full_page=True)
            raise
        finally:
            browser.close()


def _play(page: Any, base: str, employee_no: str) -> None:
    page.goto(f"{base}/chat")
    page.click(f'.person[data-employee="{employee_no}"]')
    page.wait_for_selector("#conn.live", timeout=WAIT_MS)  # the event stream is open


def _bubble(page: Any, key: str, index: int = 0) -> Any:
    bubble = page.locator(f'.bubble[data-key="{key}"]').nth(index)
    bubble.wait_for(timeout=WAIT_MS)
    return bubble


def test_a_server_error_is_said_in_the_persons_language(server: str, tmp_path: Path) -> None:
    """A bare 500 (a bug, the database gone mid-turn) reads "could not send" in Chinese for
    张三, not the server's "Internal Server Error"; a server-written refusal is shown as is."""
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context().new_page()
        try:
            _play(page, server, "E1001")
            page.route(
                "**/api/message",
                lambda route: route.fulfill(status=500, body="Internal Server Error"),
            )
            page.fill("#text", "/status")
            page.press("#text", "Enter")
            page.wait_for_function("document.getElementById('error').textContent !== ''")
            assert page.locator("#error").text_content() == "发送失败，请重试"
            page.unroute("**/api/message")
            page.route(
                "**/api/message",
                lambda route: route.fulfill(
                    status=400,
                    content_type="application/json",
                    body='{"detail": "空消息 · Nothing to send"}',
                ),
            )
            page.fill("#text", "/status")
            page.press("#text", "Enter")
            page.wait_for_function(
                "document.getElementById('error').textContent.includes('Nothing to send')"
            )
        except Exception:
            page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
            raise
        finally:
            browser.close()
