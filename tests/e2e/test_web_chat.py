"""The built-in web chat over HTTP: the app's own lifespan, a migrated SQLite, the demo org."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.bootstrap import Services, build_router
from bot.demo.org import load_demo_org
from bot.settings import Settings
from bot.worker import Worker
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from tests.factories import JPEG, PDF, PNG, consent_all

HEADERS = {"X-Hrbot-Chat": "1"}
EXTERNAL = r"https?://(?!www\.w3\.org/2000/svg)|//cdn"
"""Any address outside the app (an SVG's XML namespace is a name, never fetched)."""
DOCS = (
    ("住院证.pdf", PDF, "application/pdf"),
    ("清单.jpg", JPEG, "image/jpeg"),
    ("身份证.png", PNG, "image/png"),
)


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'web.db'}",
        "documents_dir": tmp_path / "documents",
        "demo_mode": True,
        "secret_key": "test-secret-key",
    }
    return Settings(**(values | overrides))


def migrated(settings: Settings) -> Settings:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    return settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return migrated(settings_for(tmp_path, max_upload_mb=1))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_worker=False)) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        with services.ctx.uow() as uow:
            load_demo_org(uow, services.ctx.today(), services.ctx.now())
            uow.commit()
        consent_all(services.ctx)  # consent itself: tests/integration/test_consent*.py
        # Short event streams, so a test reads one to its end.
        web = client.app.state.web_chat  # type: ignore[attr-defined]
        client.app.state.web_chat = dataclasses.replace(  # type: ignore[attr-defined]
            web, stream_seconds=0.4, poll_seconds=0.05
        )
        yield client


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def deliver(client: TestClient) -> None:
    """One worker round: what the background worker does every few seconds."""
    services = services_of(client)
    Worker(services, build_router(services.settings, services.ctx)).tick()


def play(client: TestClient, employee_no: str) -> None:
    response = client.post("/chat/api/persona", json={"employee_no": employee_no}, headers=HEADERS)
    assert response.status_code == 200, response.text


def say(client: TestClient, text: str, *files: tuple[str, bytes, str]) -> list[dict[str, Any]]:
    parts = [("files", file) for file in files]
    response = client.post(
        "/chat/api/message", data={"text": text}, files=parts or None, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    return response.json()["messages"]  # type: ignore[no-any-return]


def click(client: TestClient, messages: list[dict[str, Any]], action: str, index: int = 0) -> Any:
    tokens = [b["token"] for m in messages for b in m["buttons"] if b["action"] == action]
    assert tokens, f"no {action} button in {keys(messages)}"
    response = client.post(
        "/chat/api/click", json={"token": tokens[index], "action": action}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def keys(messages: list[dict[str, Any]]) -> list[str | None]:
    return [m["key"] for m in messages if m["from"] == "bot"]


def events(client: TestClient, after: int = 0) -> list[dict[str, Any]]:
    response = client.get(f"/chat/api/events?after={after}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]


def submit_held_claim(client: TestClient) -> None:
    play(client, "E1001")
    choose = say(client, "/claim")
    assert keys(choose) == ["chat.claim_choose_type"]
    click(client, choose, "wizard.type")
    assert keys(say(client, "", *DOCS))[-1] == "chat.claim_ask_amount"
    confirm = say(client, "8650")
    assert keys(click(client, confirm, "wizard.submit")) == ["chat.claim_submitted_held"]


def test_the_page_ships_its_own_assets_and_no_cdn(client: TestClient) -> None:
    page = client.get("/chat")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/chat/static/") for a in assets)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert not re.search(EXTERNAL, served.text), asset
    assert not re.search(EXTERNAL, page.text)
    assert client.get("/chat/static/../page.py").status_code == 404


def test_demo_mode_offers_the_organisation_to_play(client: TestClient) -> None:
    session = client.get("/chat/api/session").json()
    assert session["me"] is None
    names = {p["name"]: p["role"] for p in session["people"]}
    assert names["张三"] == "employee" and names["王芳"] == "hr" and names["刘强"] == "hr_manager"
    assert names["孙丽"] == "finance" and names["Emily Chen"] == "employee"
    assert "id_number" not in json.dumps(session)
    assert client.get("/chat/api/history").status_code == 401
    refused = client.post("/chat/api/persona", json={"employee_no": "E1001"})
    assert refused.status_code == 403  # no X-Hrbot-Chat header: a cross-site form, refused
    assert (
        client.post("/chat/api/persona", json={"employee_no": "X9"}, headers=HEADERS).status_code
        == 404
    )
    play(client, "E1003")
    assert client.get("/chat/api/session").json()["me"]["name"] == "Emily Chen"
    client.cookies.set("hrbot_chat", "E1001.1700000000.forged", path="/chat")
    assert client.get("/chat/api/history").status_code == 401


def test_a_message_gets_its_reply_and_stays_in_the_history(client: TestClient) -> None:
    play(client, "E1001")
    messages = say(client, "/status")
    assert messages[0]["from"] == "me" and messages[0]["text"] == "/status"
    assert keys(messages) == ["chat.status", "chat.status_delayed"]
    assert "王芳" in messages[2]["text"]
    history = client.get("/chat/api/history").json()
    assert [m["id"] for m in history["messages"]] == [m["id"] for m in messages]
    play(client, "F5001")  # another person sees none of it
    assert client.get("/chat/api/history").json()["messages"] == []


def test_an_upload_over_the_limit_is_refused_and_nothing_stored(
    client: TestClient, settings: Settings
) -> None:
    play(client, "E1001")
    click(client, say(client, "/claim"), "wizard.type")
    before = client.get("/chat/api/history").json()["messages"]
    big = PDF + b"0" * (1024 * 1024)
    response = client.post(
        "/chat/api/message",
        data={"text": ""},
        files=[("files", ("大文件.pdf", big, "application/pdf"))],
        headers=HEADERS,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "too_large" and "1 MB" in response.json()["detail"]
    assert client.get("/chat/api/history").json()["messages"] == before
    stored = list(Path(settings.documents_dir).rglob("*"))
    assert not [p for p in stored if p.is_file()]


def test_pushes_arrive_on_the_event_stream_and_a_card_update_replaces_its_bubble(
    client: TestClient,
) -> None:
    submit_held_claim(client)
    deliver(client)
    play(client, "H2001")
    pushed = events(client)
    card = next(m for m in pushed if m["key"] == "alert.level1")
    assert card["kind"] == "push" and card["buttons"]
    assert {b["style"] for b in card["buttons"]} >= {"primary"}
    assert events(client, after=card["id"]) == [m for m in pushed if m["id"] > card["id"]]
    resumed = client.get("/chat/api/events", headers={"Last-Event-ID": str(pushed[-1]["id"])})
    assert "data: " not in resumed.text  # a reconnecting browser gets only what it missed
    cause = click(client, [card], "alert.acknowledge")
    assert keys(cause) == ["chat.ack_cause"]
    assert keys(click(client, click(client, cause, "ack.cause"), "ack.date", 1)) == [
        "chat.ack_done"
    ]
    deliver(client)
    updates = [m for m in events(client, after=card["id"]) if m["replaces"] == card["id"]]
    assert len(updates) == 1
    assert updates[0]["key"] == "card.closed" and updates[0]["buttons"] == []


def test_finance_approves_in_the_web_chat_and_the_employee_downloads_the_voucher(
    client: TestClient,
) -> None:
    submit_held_claim(client)
    deliver(client)
    play(client, "F5001")
    approvals = say(client, "/approvals")
    assert keys(approvals) == ["chat.approval_batch", "chat.approval_batch"]
    for index in range(2):
        approved = click(client, [approvals[1 + index]], "batch.approve")
        assert keys(click(client, approved, "batch.paid")) == ["chat.batch_paid_done"]
    deliver(client)
    review = next(m for m in events(client) if m["key"] == "claim.review_requested")
    click(client, click(client, [review], "claim.approve"), "claim.pay")
    deliver(client)
    play(client, "E1001")
    pushed = {m["key"]: m for m in events(client)}
    assert "claim.resumed" in pushed
    voucher = click(client, [pushed["claim.paid"]], "claim.voucher")
    assert keys(voucher) == ["chat.voucher"]
    link = voucher[0]["files"][0]["url"]
    download = client.get(link)
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
    assert "attachment" in download.headers["content-disposition"]
    play(client, "E1002")  # 李四 holds no right to 张三's voucher, even with the link
    assert client.get(link).status_code == 403


def test_without_demo_mode_the_chat_answers_403(tmp_path: Path) -> None:
    settings = migrated(settings_for(tmp_path, demo_mode=False))
    with TestClient(create_app(settings, run_worker=False)) as client:
        page = client.get("/chat")
        assert page.status_code == 403 and "HRBOT_DEMO_MODE" in page.text
        for path in ("/chat/api/session", "/chat/api/history", "/chat/api/events"):
            response = client.get(path)
            assert response.status_code == 403 and "demo mode" in response.json()["detail"]
        posted = client.post("/chat/api/message", data={"text": "hi"}, headers=HEADERS)
        assert posted.status_code == 403
        assert client.get("/chat/static/chat.css").status_code == 200


def test_mydata_is_downloadable_once_from_the_answer_and_kept_nowhere(client: TestClient) -> None:
    """The zip is not a stored document: it comes inline with the answer to /mydata (the page
    offers it for download), and a reload shows its name only."""
    play(client, "E1001")
    answer = say(client, "/mydata")
    (ready,) = [m for m in answer if m["key"] == "chat.mydata_ready"]
    (file,) = ready["files"]
    assert file["url"] is None and file["filename"].endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(file["data"]))) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["employee"]["employee_no"] == "E1001"

    history = client.get("/chat/api/history").json()["messages"]
    (again,) = [m for m in history if m["id"] == ready["id"]]
    assert again["files"] == [{k: v for k, v in file.items() if k != "data"}]
    streamed = [m for m in events(client) if m["id"] == ready["id"]]
    assert streamed and all("data" not in f for m in streamed for f in m["files"])
