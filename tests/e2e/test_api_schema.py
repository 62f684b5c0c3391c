"""schemathesis against ``/openapi.json``: generated requests, valid and invalid, authenticated
with a bearer token, must never get a 5xx from the dashboard API."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from bot.app import create_app
from bot.demo.accounts import add_demo_accounts
from bot.demo.org import load_demo_org
from bot.settings import Settings
from core.domain.escalation import SubjectKind
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from core.services import accounts, alerts
from core.services.claims import submit_claim
from tests.dashboard_support import HASHER, services_of
from tests.factories import open_complete_claim, row_counts

pytestmark = pytest.mark.slow

# The schema is read from the app object at collection time; nothing connects until the
# lifespan starts in the fixture below (the database file is created there).
_ROOT = Path(tempfile.mkdtemp(prefix="hrbot-schema-"))
SETTINGS = Settings(
    database_url=f"sqlite:///{_ROOT / 'schema.db'}",
    documents_dir=_ROOT / "documents",
    secret_key="schema-test-secret",
)
APP = create_app(SETTINGS, run_worker=False, password_hasher=HASHER)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Any, str]]:
    engine = make_engine(SETTINGS.database_url)
    upgrade(engine)
    engine.dispose()
    with TestClient(APP) as client:
        ctx = services_of(client).ctx
        with ctx.uow() as uow:
            load_demo_org(uow, ctx.today(), ctx.now())
            uow.commit()
        add_demo_accounts(ctx, HASHER)
        with ctx.uow() as uow:
            zhang = uow.directory.employee_by_no("E1001")
            zheng = uow.directory.employee_by_no("E1201")
            assert zhang is not None and zheng is not None
        submit_claim(ctx, open_complete_claim(ctx, zhang), zhang.id)
        with ctx.uow() as uow:
            alerts.open_alert(
                ctx, uow, (SubjectKind.EMPLOYEE_STATUS, zheng.id), zheng.branch_id, zheng.id
            )
            uow.commit()
        yield client.app, accounts.issue_api_token(ctx, "chenjing@example.com"), ctx


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_generated_request_gets_a_server_error(case: Any, running: tuple[Any, str, Any]) -> None:
    before = row_counts(running[2])
    response = case.call(headers={"Authorization": f"Bearer {running[1]}"})
    case.validate_response(response, checks=[not_a_server_error])
    if 400 <= response.status_code < 500:
        # Refused input (malformed, unknown, out of scope, in conflict) changes no table;
        # writes (acknowledge, resolve) change them only when they succeed.
        assert row_counts(running[2]) == before, (
            f"{case.method} {case.path}: a {response.status_code} wrote"
        )


def test_the_schema_describes_the_dashboard_api(running: tuple[Any, str, Any]) -> None:
    paths = TestClient(running[0]).get("/openapi.json").json()["paths"]
    assert {
        "/api/overview",
        "/api/branches/{branch_id}",
        "/api/alerts",
        "/api/alerts/{alert_id}/acknowledge",
        "/api/claims/{claim_id}",
        "/api/reports/{name}",
    } <= set(paths)
    assert not any(path.startswith(("/dashboard", "/chat")) for path in paths)
