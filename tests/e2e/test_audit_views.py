"""Looking is audited too: a claim opened on the dashboard or through the API, and a report taken
away through the API, each leave one audit row saying who, what, when and through which channel;
a claim another branch owns, refused with 404, leaves none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from core.domain.audit import AuditEntry
from core.domain.claims import Claim, ClaimState, ClaimType
from core.services import accounts
from core.services.audit_trail import verify_trail
from tests.dashboard_support import dashboard_client, login, services_of, settings_for

WANG, ZHAO = "wangfang@example.com", "zhaomin@example.com"  # HR of SH01, HR of GZ01


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, int]]:
    settings = settings_for(tmp_path_factory.mktemp("audit-views"))
    with dashboard_client(settings) as client:
        ctx = services_of(client).ctx
        with ctx.uow() as uow:
            zhang = uow.directory.employee_by_no("E1001")  # Shanghai
        assert zhang is not None
        with ctx.uow() as uow:
            claim = Claim(
                employee_id=zhang.id,
                claim_type=ClaimType.HOSPITALIZATION,
                created_at=ctx.now(),
                state=ClaimState.SUBMITTED,
                submitted_at=ctx.now(),
            )
            uow.claims.add(claim)
            uow.commit()
        yield client, claim.id


def new_rows(client: TestClient, since: int) -> list[AuditEntry]:
    with services_of(client).ctx.uow() as uow:
        return [e for e in uow.audit.all() if e.id > since]


def last_id(client: TestClient) -> int:
    with services_of(client).ctx.uow() as uow:
        return max((e.id for e in uow.audit.all()), default=0)


def account_of(client: TestClient, email: str) -> tuple[str, int | None]:
    (found,) = [a for a in accounts.accounts(services_of(client).ctx) if a.email == email]
    return accounts.actor_label(found), found.employee_id


@pytest.mark.parametrize(
    ("path", "channel"), [("/dashboard/claims/{}", "dashboard"), ("/api/claims/{}", "api")]
)
def test_opening_a_claim_writes_one_row_naming_the_viewer(
    setup: tuple[TestClient, int], path: str, channel: str
) -> None:
    client, claim_id = setup
    login(client, WANG)
    before = last_id(client)
    assert client.get(path.format(claim_id)).status_code == 200
    (row,) = new_rows(client, before)
    assert (row.action, row.subject_kind, row.subject_id) == ("claim.view", "claim", claim_id)
    assert (row.actor, row.actor_id) == account_of(client, WANG)
    assert row.actor_id is not None and row.channel == channel
    assert verify_trail(services_of(client).ctx).intact


def test_a_claim_refused_as_another_branchs_leaves_no_view_row(
    setup: tuple[TestClient, int],
) -> None:
    client, claim_id = setup
    login(client, ZHAO)
    before = last_id(client)
    assert client.get(f"/dashboard/claims/{claim_id}").status_code == 404
    assert [r.action for r in new_rows(client, before)] == []


def test_a_report_taken_through_the_api_is_an_audited_export(
    setup: tuple[TestClient, int],
) -> None:
    client, _ = setup
    login(client, WANG)
    before = last_id(client)
    assert client.get("/api/reports/delays?from=2026-01&to=2026-10").status_code == 200
    (row,) = new_rows(client, before)
    label, _ = account_of(client, WANG)
    assert (row.action, row.channel, row.actor) == ("report.export", "api", label)
    assert row.detail == {"report": "delays", "first": "2026-01", "last": "2026-10"}
