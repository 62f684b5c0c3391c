"""Shared by the dashboard tests: an app over a migrated SQLite with the demo organisation and
its dashboard accounts (hashed with a cheap argon2), and logging in the way a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from adapters.passwords import Argon2Hasher
from bot.app import create_app
from bot.bootstrap import Services
from bot.demo.accounts import DEMO_PASSWORD, add_demo_accounts
from bot.demo.org import load_demo_org
from bot.settings import Settings
from core.domain.accounts import AccountRole
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from core.services import accounts

HASHER = Argon2Hasher.fast()
PASSWORD = DEMO_PASSWORD
CSRF_INPUT = re.compile(r'name="csrf" value="([^"]+)"')


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'dash.db'}",
        "documents_dir": tmp_path / "documents",
        "demo_mode": False,
        "secret_key": "test-dashboard-secret",
    }
    settings = Settings(**(values | overrides))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    return settings


@contextmanager
def dashboard_client(settings: Settings, demo: bool = True) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_worker=False, password_hasher=HASHER)) as client:
        services = services_of(client)
        if demo:
            with services.ctx.uow() as uow:
                load_demo_org(uow, services.ctx.today(), services.ctx.now())
                uow.commit()
            add_demo_accounts(services.ctx, HASHER)
        yield client


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def add_account(client: TestClient, email: str, role: str, employee_no: str | None = None) -> None:
    accounts.add_user(
        services_of(client).ctx, HASHER, email, AccountRole(role), PASSWORD, employee_no
    )


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token for later forms."""
    client.cookies.clear()
    form = client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login",
        data={"email": email, "password": password, "csrf": csrf_of(form.text), "next": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/dashboard")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
