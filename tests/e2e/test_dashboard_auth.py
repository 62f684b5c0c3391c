"""Logging in to the dashboard: passwords, sessions, CSRF, the login rate limit, API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.web.dashboard.runtime import SESSION_COOKIE
from core.domain.accounts import AccountRole
from core.services import accounts
from tests.dashboard_support import (
    HASHER,
    PASSWORD,
    csrf_of,
    dashboard_client,
    login,
    services_of,
    settings_for,
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with dashboard_client(settings_for(tmp_path)) as client:
        yield client


def test_pages_send_a_stranger_to_the_login_page_and_back(client: TestClient) -> None:
    response = client.get("/dashboard/alerts?state=open", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=/dashboard/alerts%3Fstate%3Dopen"
    form = client.get(response.headers["location"])
    assert 'name="next" value="/dashboard/alerts?state=open"' in form.text
    answer = client.post(
        "/dashboard/login",
        data={
            "email": "WangFang@Example.com ",
            "password": PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "/dashboard/alerts?state=open",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/alerts?state=open"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


def test_the_api_answers_401_not_a_redirect(client: TestClient) -> None:
    response = client.get("/api/overview")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_wrong_password_is_refused_without_saying_which_part(client: TestClient) -> None:
    form = client.get("/dashboard/login")
    for email in ("wangfang@example.com", "nobody@example.com"):
        response = client.post(
            "/dashboard/login",
            data={"email": email, "password": "wrong-password", "csrf": csrf_of(form.text)},
        )
        assert response.status_code == 401
        assert "邮箱或密码错误" in response.text and "Wrong e-mail or password" in response.text
        assert SESSION_COOKIE not in response.cookies


def test_logins_are_rate_limited_per_email_even_with_the_right_password(
    client: TestClient,
) -> None:
    form = client.get("/dashboard/login")
    data = {"email": "sunli@example.com", "csrf": csrf_of(form.text)}
    codes = [
        client.post("/dashboard/login", data=data | {"password": f"guess-{i}"}).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    right = client.post("/dashboard/login", data=data | {"password": PASSWORD})
    assert right.status_code == 429
    assert "Too many failed logins" in right.text
    # Another account from the same address is not locked out by these five.
    assert login(client, "wangfang@example.com")


def test_a_login_form_posted_from_elsewhere_is_refused(client: TestClient) -> None:
    client.get("/dashboard/login")
    forged = client.post(
        "/dashboard/login",
        data={"email": "wangfang@example.com", "password": PASSWORD, "csrf": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    assert SESSION_COOKIE not in forged.cookies


def test_next_never_leaves_the_dashboard(client: TestClient) -> None:
    form = client.get("/dashboard/login?next=https://evil.example/")
    assert 'name="next" value="/dashboard"' in form.text
    answer = client.post(
        "/dashboard/login",
        data={
            "email": "wangfang@example.com",
            "password": PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "//evil.example/dashboard",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/dashboard"


def test_a_tampered_session_cookie_is_no_session(client: TestClient) -> None:
    login(client, "wangfang@example.com")
    value = client.cookies[SESSION_COOKIE]
    account_id, rest = value.split(":", 1)
    client.cookies.set(SESSION_COOKIE, f"{int(account_id) + 1}:{rest}")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_logout_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    csrf = login(client, "wangfang@example.com")
    assert client.post("/dashboard/logout", data={"csrf": "nope"}).status_code == 403
    assert client.get("/dashboard", follow_redirects=False).status_code == 200
    out = client.post("/dashboard/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_disabled_account_loses_its_session_at_once(client: TestClient) -> None:
    login(client, "wangfang@example.com")
    ctx = services_of(client).ctx
    with ctx.uow() as uow:
        found = uow.accounts.by_email("wangfang@example.com")
        assert found is not None and found.id is not None
        uow.accounts.update(found.id, disabled=True)
        uow.commit()
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_bearer_token_opens_the_api_and_a_revoked_one_does_not(client: TestClient) -> None:
    ctx = services_of(client).ctx
    token = accounts.issue_api_token(ctx, "chenjing@example.com")
    client.cookies.clear()
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json() == {"email": "chenjing@example.com", "role": "hr_director", "branches": None}
    accounts.issue_api_token(ctx, "chenjing@example.com")
    again = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401
    with ctx.uow() as uow:
        stored = uow.accounts.by_email("chenjing@example.com")
    assert stored is not None and token not in str(stored.api_token_hash)


def test_writes_through_the_api_with_a_session_need_the_csrf_header(client: TestClient) -> None:
    csrf = login(client, "wangfang@example.com")
    body = {"resolution": "paid"}
    assert client.post("/api/alerts/1/resolve", json=body).status_code == 403
    with_header = client.post("/api/alerts/1/resolve", json=body, headers={"X-CSRF-Token": csrf})
    assert with_header.status_code == 404  # past the CSRF check: there is no alert 1


def test_passwords_are_stored_as_argon2_hashes(client: TestClient) -> None:
    ctx = services_of(client).ctx
    with ctx.uow() as uow:
        stored = uow.accounts.by_email("wangfang@example.com")
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_hr_accounts_must_match_the_directory(client: TestClient) -> None:
    from core.domain.errors import InvalidValue, NotFound

    ctx = services_of(client).ctx
    with pytest.raises(InvalidValue, match="not hr"):
        accounts.add_user(ctx, HASHER, "zhangsan@example.com", AccountRole.HR, PASSWORD)
    with pytest.raises(NotFound):
        accounts.add_user(ctx, HASHER, "ghost@example.com", AccountRole.FINANCE, PASSWORD)
    with pytest.raises(InvalidValue, match="already exists"):
        accounts.add_user(ctx, HASHER, "admin@example.com", AccountRole.ADMIN, PASSWORD)
    with pytest.raises(InvalidValue, match="at least"):
        accounts.add_user(ctx, HASHER, "root@example.com", AccountRole.ADMIN, "short")
