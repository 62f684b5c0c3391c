"""The HR dashboard in a real headless Chromium: 王芳 logs in, reads the overview and a branch,
acknowledges an alert, opens a report with its chart and CSV, and logs out.

Debian's ``chromium`` driven by Playwright, as in ``test_browser.py``; the app runs as the real
``hrbot serve --no-worker`` process on a free loopback port over a temp SQLite database with the
demo organisation, its dashboard accounts and one held claim (张三, SH01) that alerted HR.

Screenshots of every step go to ``$HRBOT_TEST_ARTIFACTS/dashboard`` when that is set (CI keeps
them as artefacts), else under pytest's tmp_path, so a normal run leaves nothing in the tree.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.passwords import Argon2Hasher
from bot.bootstrap import build
from bot.demo.accounts import DEMO_PASSWORD, add_demo_accounts
from bot.demo.org import load_demo_org
from bot.settings import Settings
from core.domain.periods import Period
from core.persistence.migrate import upgrade
from core.services.claims import submit_claim
from core.services.context import Context
from tests.e2e.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _playwright,
    _wait_ready,
    free_port,
    hrbot,
)
from tests.factories import open_complete_claim

WANG = "wangfang@example.com"
WAIT_MS = 20_000
COUNTDOWN = re.compile(r"天|\bd\b|due today|late")

pytestmark = pytest.mark.slow


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[str]:
    """The demo organisation with its accounts and an open alert on SH01, served over HTTP."""
    env = os.environ | {
        "HRBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'dashboard.db'}",
        "HRBOT_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "HRBOT_DEMO_MODE": "true",
        "HRBOT_SECRET_KEY": "dashboard-browser-secret",
    }
    settings = Settings(
        database_url=env["HRBOT_DATABASE_URL"], documents_dir=tmp_path / "documents"
    )
    services = build(settings)
    try:
        upgrade(services.db.engine)
        ctx = services.ctx
        with ctx.uow() as uow:
            load_demo_org(uow, ctx.today(), ctx.now())
            uow.commit()
        add_demo_accounts(ctx, Argon2Hasher.fast())
        with ctx.uow() as uow:
            zhang = uow.directory.employee_by_no("E1001")
        assert zhang is not None
        submit_claim(ctx, open_complete_claim(ctx, zhang), zhang.id)  # held: HR is alerted
        _due_soon(ctx, "SH01")
    finally:
        services.close()
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        command = hrbot("serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port))
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, process, log_path)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _due_soon(ctx: Context, code: str) -> None:
    """Move a branch's unpaid batch for this month two days before its deadline, so the
    overview has an urgent countdown whatever day of the month the test runs on."""
    today = ctx.today()
    with ctx.uow() as uow:
        (branch,) = [b for b in uow.directory.branches() if b.code == code]
        batch = uow.batches.of_period(Period.of(today))[branch.id]
        batch.due_date = today + timedelta(days=2)
        uow.commit()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    root = os.environ.get("HRBOT_TEST_ARTIFACTS")
    folder = (Path(root) if root else tmp_path) / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"dashboard screenshots: {folder}")
    return folder


def test_hr_works_through_the_dashboard_in_a_browser(dashboard: str, shots: Path) -> None:
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context(locale="zh-CN").new_page()
        page.set_default_timeout(WAIT_MS)
        try:
            _log_in(page, dashboard, shots)
            _overview(page, dashboard, shots)
            _branch(page, shots)
            _acknowledge(page, dashboard, shots)
            _report(page, dashboard, shots)
            _log_out(page, dashboard)
        except Exception:
            page.screenshot(path=str(shots / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def _shot(page: Any, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def _log_in(page: Any, base: str, shots: Path) -> None:
    page.goto(f"{base}/dashboard")
    page.wait_for_url(re.compile(r"/dashboard/login"))
    assert WANG in page.locator(".demo").inner_text()  # demo mode lists the accounts
    _shot(page, shots, "1-login")
    page.fill('input[name="email"]', WANG)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.click('button[type="submit"].primary')
    page.wait_for_url(re.compile(r"/dashboard$"))


def _overview(page: Any, base: str, shots: Path) -> None:
    rows = page.locator("table.overview tbody tr[data-branch]")
    codes = {rows.nth(i).get_attribute("data-branch") for i in range(rows.count())}
    assert codes == {"SH01", "BJ01"}
    # The page's own figures, fetched with the same session cookie the page used.
    api = page.request.get(f"{base}/api/overview")
    assert api.ok, api.text()
    figures = {row["code"]: row for row in api.json()["rows"]}
    assert set(figures) == codes
    for code, row in figures.items():
        cell = page.locator(f'tr[data-branch="{code}"] td.countdown')
        text = cell.inner_text()
        paid = row["progress"] == "done"
        if paid or row["days_left"] is None:
            assert text.strip() == "—", (code, text)
        else:
            assert COUNTDOWN.search(text), (code, text)
        urgent = not paid and row["days_left"] is not None and row["days_left"] <= 3
        classes = (cell.get_attribute("class") or "").split()
        assert ("urgent" in classes) == urgent, (code, row, classes)
    assert "urgent" in (
        page.locator('tr[data-branch="SH01"] td.countdown').get_attribute("class") or ""
    )
    _shot(page, shots, "2-overview")


def _branch(page: Any, shots: Path) -> None:
    page.locator('tr[data-branch="SH01"] td a').first.click()
    page.wait_for_url(re.compile(r"/dashboard/branches/\d+$"))
    assert page.locator("h1").inner_text().startswith("SH01")
    zhang = page.locator("table.grid tbody tr", has_text="张三").first
    assert "E1001" in zhang.inner_text()
    assert "延迟" in zhang.locator(".pill.status-delayed").inner_text()
    assert page.locator("table.grid tbody tr").count() > 1  # the employee table, not just him
    _shot(page, shots, "3-branch-SH01")


def _acknowledge(page: Any, base: str, shots: Path) -> None:
    page.click('header.top nav a[href="/dashboard/alerts"]')
    page.wait_for_url(re.compile(r"/dashboard/alerts$"))
    alert = page.locator("article.alert", has_text="SH01").first
    alert_id = (alert.get_attribute("id") or "").removeprefix("alert-")
    assert alert_id.isdigit()
    assert alert.locator(".pill.state-open").count() == 1
    form = alert.locator('form[action$="/acknowledge"]')
    form.locator('select[name="cause"]').select_option("finance_approval")
    fix_date = form.locator('input[name="fix_date"]')
    today = date.fromisoformat(fix_date.get_attribute("min") or "")
    fix_date.fill((today + timedelta(days=7)).isoformat())
    form.locator('input[name="note"]').fill("财务审批中")
    form.locator('button[type="submit"]').click()
    page.wait_for_url(re.compile(r"/dashboard/alerts\?msg=acknowledged$"))
    assert "已确认告警" in page.locator("p.flash.ok").inner_text()
    after = page.locator(f"#alert-{alert_id}")
    assert after.locator(".pill.state-acknowledged").count() == 1
    assert (today + timedelta(days=7)).isoformat() in after.inner_text()
    detail = page.request.get(f"{base}/api/alerts/{alert_id}")
    assert detail.ok and detail.json()["state"] == "acknowledged"
    assert detail.json()["cause"] == "finance_approval"
    _shot(page, shots, "4-alert-acknowledged")


def _report(page: Any, base: str, shots: Path) -> None:
    page.click('header.top nav a[href="/dashboard/reports"]')
    page.wait_for_url(re.compile(r"/dashboard/reports$"))
    page.locator("a.card", has_text="Contribution delays").click()
    page.wait_for_url(re.compile(r"/dashboard/reports/delays"))
    chart = page.locator('figure.chart svg[role="img"]')
    assert chart.count() >= 1, "no chart on the delays report"
    assert chart.first.locator("rect").count() >= 1
    assert page.locator("table.report").count() >= 1
    _shot(page, shots, "5-report-delays")
    href = page.locator('a[href*="/dashboard/reports/delays.csv"]').get_attribute("href")
    export = page.request.get(f"{base}{href}")
    assert export.ok
    assert export.headers["content-type"].startswith("text/csv")
    assert export.body().startswith("\ufeff".encode())


def _log_out(page: Any, base: str) -> None:
    page.click('form.who button[type="submit"]')
    page.wait_for_url(re.compile(r"/dashboard/login"))
    page.goto(f"{base}/dashboard")
    page.wait_for_url(re.compile(r"/dashboard/login"))  # the session is gone
    assert page.request.get(f"{base}/api/me").status == 401
