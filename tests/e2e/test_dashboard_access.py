"""Who sees what on the dashboard: every page and API route for every role, another branch's
data, actions from the page, and document links that expired or were signed for someone else.

The demo organisation: 王芳 (hr) answers for SH01 and BJ01, 赵敏 (hr) for GZ01 and CD01, 孙丽
(finance) for SH01 and BJ01; 刘强 (hr_manager) and 陈静 (hr_director) see every branch, and so
does the admin account, which has no employee record behind it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from adapters.web.dashboard.runtime import DOCUMENT_LINK_MAX_AGE
from core.domain.escalation import SubjectKind
from core.services import alerts
from core.services.claims import submit_claim
from tests.dashboard_support import csrf_of, dashboard_client, login, services_of, settings_for
from tests.factories import audit_trail, open_complete_claim

WANG, ZHAO, LIU, CHEN, SUN, ADMIN = (
    "wangfang@example.com",
    "zhaomin@example.com",
    "liuqiang@example.com",
    "chenjing@example.com",
    "sunli@example.com",
    "admin@example.com",
)
EVERYONE = (WANG, ZHAO, LIU, CHEN, SUN, ADMIN)
SEES_SH = {WANG, LIU, CHEN, SUN, ADMIN}
SEES_GZ = {ZHAO, LIU, CHEN, ADMIN}


@dataclass(frozen=True)
class World:
    sh: int
    gz: int
    sh_alert: int
    gz_alert: int
    sh_claim: int
    gz_claim: int


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, World]]:
    settings = settings_for(tmp_path_factory.mktemp("access"))
    with dashboard_client(settings) as client:
        ctx = services_of(client).ctx
        with ctx.uow() as uow:
            zhang = uow.directory.employee_by_no("E1001")
            zheng = uow.directory.employee_by_no("E1201")
            assert zhang is not None and zheng is not None
            branches = {b.code: b.id for b in uow.directory.branches()}
        sh_claim = open_complete_claim(ctx, zhang)
        submit_claim(ctx, sh_claim, zhang.id)  # held: August and September unpaid
        gz_claim = open_complete_claim(ctx, zheng)
        with ctx.uow() as uow:
            gz_alert = alerts.open_alert(
                ctx, uow, (SubjectKind.EMPLOYEE_STATUS, zheng.id), branches["GZ01"], zheng.id
            ).id
            uow.commit()
            (sh_alert,) = [
                a.id for a in uow.alerts.unresolved_for(SubjectKind.HELD_CLAIM, sh_claim)
            ]
        assert gz_alert is not None
        yield (
            client,
            World(branches["SH01"], branches["GZ01"], sh_alert, gz_alert, sh_claim, gz_claim),
        )


def pages(w: World) -> dict[str, set[str]]:
    """Each page, and who may open it (everyone else gets 404, or 403 for imports)."""
    return {
        "/dashboard": set(EVERYONE),
        "/dashboard/alerts": set(EVERYONE),
        "/dashboard/claims": set(EVERYONE),
        "/dashboard/reports": set(EVERYONE),
        "/dashboard/reports/delays": set(EVERYONE),
        "/dashboard/reports/durations?from=2026-01&to=2026-12": set(EVERYONE),
        "/dashboard/reports/costs.csv": set(EVERYONE),
        f"/dashboard/branches/{w.sh}": SEES_SH,
        f"/dashboard/branches/{w.gz}": SEES_GZ,
        f"/dashboard/claims/{w.sh_claim}": SEES_SH,
        f"/dashboard/claims/{w.gz_claim}": SEES_GZ,
        "/dashboard/imports": {CHEN, ADMIN},
    }


def api(w: World) -> dict[str, set[str]]:
    return {
        "/api/me": set(EVERYONE),
        "/api/overview": set(EVERYONE),
        "/api/alerts": set(EVERYONE),
        "/api/claims": set(EVERYONE),
        "/api/reports/delays": set(EVERYONE),
        "/api/reports/escalations": set(EVERYONE),
        f"/api/branches/{w.sh}": SEES_SH,
        f"/api/branches/{w.gz}": SEES_GZ,
        f"/api/alerts/{w.sh_alert}": SEES_SH,
        f"/api/alerts/{w.gz_alert}": SEES_GZ,
        f"/api/claims/{w.sh_claim}": SEES_SH,
        f"/api/claims/{w.gz_claim}": SEES_GZ,
    }


@pytest.mark.parametrize("who", EVERYONE)
def test_every_page_and_api_route_for_every_role(setup: tuple[TestClient, World], who: str) -> None:
    client, w = setup
    login(client, who)
    for path, allowed in (pages(w) | api(w)).items():
        got = client.get(path, follow_redirects=False).status_code
        refused = 403 if path == "/dashboard/imports" else 404
        assert got == (200 if who in allowed else refused), f"{who} {path}: {got}"


def test_strangers_get_the_login_page_or_401(setup: tuple[TestClient, World]) -> None:
    client, w = setup
    client.cookies.clear()
    for path in pages(w):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/dashboard/login?next=")
    for path in api(w):
        assert client.get(path).status_code == 401, path


def test_lists_and_the_overview_hold_only_the_viewers_branches(
    setup: tuple[TestClient, World],
) -> None:
    client, w = setup
    login(client, WANG)
    codes = {row["code"] for row in client.get("/api/overview").json()["rows"]}
    assert codes == {"SH01", "BJ01"}
    assert {a["id"] for a in client.get("/api/alerts").json()} == {w.sh_alert}
    assert {c["id"] for c in client.get("/api/claims").json()} == {w.sh_claim}
    login(client, ZHAO)
    assert {a["id"] for a in client.get("/api/alerts").json()} == {w.gz_alert}
    assert {c["id"] for c in client.get("/api/claims").json()} == {w.gz_claim}
    overview = client.get("/dashboard").text
    assert "GZ01" in overview and "SH01" not in overview


def test_acting_on_another_branchs_alert_or_without_the_role_is_refused(
    setup: tuple[TestClient, World],
) -> None:
    client, w = setup
    body = {"cause": "finance_approval", "fix_date": "2099-01-01"}
    for who, expected in ((ZHAO, 404), (SUN, 403), (ADMIN, 403)):
        csrf = login(client, who)
        answer = client.post(
            f"/api/alerts/{w.sh_alert}/acknowledge", json=body, headers={"X-CSRF-Token": csrf}
        )
        assert answer.status_code == expected, who
        page = client.post(
            f"/dashboard/alerts/{w.sh_alert}/resolve", data={"csrf": csrf, "resolution": "x"}
        )
        assert page.status_code == expected, who
    detail = client.get(f"/api/alerts/{w.sh_alert}").json()
    assert detail["state"] == "open"


def test_hr_acknowledges_from_the_page_with_the_same_audit_as_chat(
    setup: tuple[TestClient, World],
) -> None:
    client, w = setup
    csrf = login(client, ZHAO)
    forged = client.post(
        f"/dashboard/alerts/{w.gz_alert}/acknowledge",
        data={"csrf": "forged", "cause": "hr_verification", "fix_date": "2099-01-01"},
    )
    assert forged.status_code == 403
    done = client.post(
        f"/dashboard/alerts/{w.gz_alert}/acknowledge",
        data={"csrf": csrf, "cause": "hr_verification", "fix_date": "2099-01-01", "note": "核对中"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "已确认告警" in client.get(done.headers["location"]).text
    detail = client.get(f"/api/alerts/{w.gz_alert}").json()
    assert detail["state"] == "acknowledged" and detail["cause"] == "hr_verification"
    (entry,) = [
        e
        for e in audit_trail(services_of(client).ctx, "alert", w.gz_alert)
        if e.action == "alert.acknowledge"
    ]
    assert entry.channel == "dashboard" and entry.actor == "H2002"
    again = client.post(
        f"/dashboard/alerts/{w.gz_alert}/acknowledge",
        data={"csrf": csrf, "cause": "hr_verification", "fix_date": "2099-01-01"},
    )
    assert again.status_code == 409
    assert "no longer possible" in again.text


def _document_links(client: TestClient, claim_id: int) -> list[str]:
    page = client.get(f"/dashboard/claims/{claim_id}").text
    return [part.split('"')[0] for part in page.split('href="/dashboard/documents/')[1:]]


def test_document_links_are_short_lived_personal_and_audited(
    setup: tuple[TestClient, World],
) -> None:
    client, w = setup
    ctx = services_of(client).ctx
    login(client, WANG)
    links = _document_links(client, w.sh_claim)
    assert len(links) == 3
    before = len(audit_trail(ctx, "claim", w.sh_claim))
    opened = client.get(f"/dashboard/documents/{links[0]}")
    assert opened.status_code == 200
    assert opened.content.startswith(b"%PDF")
    assert opened.headers["cache-control"] == "no-store"
    trail = audit_trail(ctx, "claim", w.sh_claim)
    assert len(trail) == before + 1
    assert trail[-1].action == "document.read" and trail[-1].channel == "dashboard"
    assert trail[-1].actor == "H2001"

    login(client, CHEN)  # allowed to see the claim, but the link was signed for 王芳
    assert client.get(f"/dashboard/documents/{links[0]}").status_code == 403
    login(client, ADMIN)
    assert _document_links(client, w.sh_claim) == []  # an admin sees no medical file
    assert "无权查看" in client.get(f"/dashboard/claims/{w.sh_claim}").text

    web = client.app.state.dashboard  # type: ignore[attr-defined]
    login(client, WANG)
    account = client.get("/api/me").json()
    assert account["email"] == WANG
    token = links[0]
    document_id = token.split(".")[0].split(":")[0]
    stale = web.signer("document").sign(
        token.split(".")[0], now=time.time() - DOCUMENT_LINK_MAX_AGE - 5
    )
    assert client.get(f"/dashboard/documents/{stale}").status_code == 403
    assert client.get(f"/dashboard/documents/{document_id}:1.0.x").status_code == 403
    after = [e.action for e in audit_trail(ctx, "claim", w.sh_claim)][before + 1 :]
    assert after == ["claim.view", "claim.view"]  # the admin's two page views; no refused read


def test_a_branch_page_shows_statuses_and_batch_lines(setup: tuple[TestClient, World]) -> None:
    client, w = setup
    login(client, WANG)
    page = client.get(f"/dashboard/branches/{w.sh}")
    assert page.status_code == 200
    assert "张三" in page.text and "延迟" in page.text
    data = client.get(f"/api/branches/{w.sh}").json()
    zhang = next(e for e in data["employees"] if e["employee_no"] == "E1001")
    assert zhang["status"] == "delayed"
    assert len(zhang["problem_periods"]) == 2
    assert csrf_of(page.text)


def test_exporting_a_report_is_audited_with_who_and_what(setup: tuple[TestClient, World]) -> None:
    client, _ = setup
    login(client, CHEN)
    me = client.get("/api/me").json()
    assert me["role"] == "hr_director"
    exported = client.get("/dashboard/reports/delays.csv?from=2026-01&to=2026-06")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    ctx = services_of(client).ctx
    with ctx.uow() as uow:
        account = uow.accounts.by_email(CHEN)
    assert account is not None and account.id is not None
    entries = [e for e in audit_trail(ctx, "account", account.id) if e.action == "report.export"]
    assert entries[-1].detail == {
        "email": CHEN,
        "report": "delays",
        "first": "2026-01",
        "last": "2026-06",
    }
    assert entries[-1].channel == "dashboard"


@pytest.mark.parametrize("number", ["0", "2147483648", "9223372036854775808", "-1"])
def test_an_id_no_row_can_have_is_a_not_found_page_not_an_error(
    setup: tuple[TestClient, World], number: str
) -> None:
    """Ids are 32-bit columns: a huge one typed into the address bar overflowed the database
    driver (500) before the pages checked it."""
    client, w = setup
    csrf = login(client, WANG)
    gets = (f"/dashboard/branches/{number}", f"/dashboard/claims/{number}")
    for path in gets:
        page = client.get(path)
        assert page.status_code == 404, path
        assert "Not found" in page.text
    posts = {
        f"/dashboard/alerts/{number}/resolve": {"csrf": csrf, "resolution": "x"},
        f"/dashboard/alerts/{number}/acknowledge": {
            "csrf": csrf,
            "cause": "finance_approval",
            "fix_date": "2099-01-01",
        },
        f"/dashboard/away/{number}/cancel": {"csrf": csrf},
    }
    for path, form in posts.items():
        assert client.post(path, data=form).status_code == 404, path
    page = client.get(f"/dashboard/branches/{w.sh}?page={number}")
    assert page.status_code == 200
    assert client.get(f"/api/alerts/{w.sh_alert}").json()["state"] == "open"
