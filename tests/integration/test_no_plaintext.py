"""The grep test: sensitive values used in a whole flow appear nowhere they should not.

Employees are imported with synthetic ID numbers and phone numbers; one of them claims through
the chat, uploading documents that hold a diagnosis, a bank card number and an ID number; HR and
finance are told, the claim is approved and paid, the voucher is downloaded. Then a raw dump of
the database (the file's bytes and ``iterdump()`` on SQLite, every row as text on PostgreSQL),
the documents folder, every log line (DEBUG and up) and every outbound chat payload (rendered as
Slack blocks) are searched: none may hold one of those values unmasked. Masked forms such as
``1101**********1234`` are fine.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, Text, cast, select

from adapters.recording import RecordingChannel
from adapters.slack.blocks import fallback_text, message_blocks
from bot.bootstrap import Services
from bot.conversation import Conversation
from bot.routing import ChannelRouter
from bot.settings import Settings
from bot.worker import Worker
from core.chat import OutgoingMessage, Platform
from core.domain.claims import ClaimState
from core.domain.idnumbers import make_id_number, mask_id_number
from core.persistence.tables import metadata
from core.persistence.uow import Database
from core.services.claims import approve_claim, claim_view, record_payout
from core.services.context import Context
from tests.factories import PDF, Org, add_records, make_org
from tests.integration.imports.helpers import run, write_csv
from tests.transcripts import Chatter
from tests.upload_samples import jpeg, png

ID_NUMBERS = [
    make_id_number("310104", date(1988, 3, 9), 417),
    make_id_number("440305", date(1992, 11, 23), 28),
    make_id_number("110108", date(1979, 1, 30), 951),
    make_id_number("510107", date(1995, 7, 4), 66),
]
PHONES = ["13912345678", "18698765432", "15011112222", "17755556666"]
BANK_CARD = "6222021234567890128"
DIAGNOSES = ["急性阑尾炎术后第三天", "Diagnosis K35.80 acute appendicitis"]
SENSITIVE = [*ID_NUMBERS, *PHONES, BANK_CARD, *DIAGNOSES]


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


def import_people(ctx: Context, org: Org, tmp_path: Path) -> None:
    """Give the org's people Slack ids, ID numbers and phones, and add one newcomer."""
    header = [
        "employee_no",
        "name",
        "id_number",
        "branch_code",
        "role",
        "phone",
        "slack_user_id",
        "hire_date",
    ]
    rows = [
        [org.employee.employee_no, "张三", ID_NUMBERS[0], "SH01", "employee", PHONES[0], "UZ"],
        [org.hr.employee_no, "李四", ID_NUMBERS[1], "SH01", "hr", PHONES[1], "UHR"],
        [org.finance.employee_no, "王五", ID_NUMBERS[2], "SH01", "finance", PHONES[2], "UFIN"],
        ["SH01-E777", "新人", ID_NUMBERS[3], "SH01", "employee", PHONES[3], "UNEW"],
    ]
    path = write_csv(tmp_path / "people.csv", header, [[*r, "2020-03-01"] for r in rows])
    result = run(ctx, "employees", path)
    assert result.ok, result.issues


def documents() -> list[tuple[str, bytes]]:
    """A medical certificate, an invoice with the payee card, an ID copy: phone-camera names."""
    certificate = PDF.replace(
        b"% test document",
        f"% {DIAGNOSES[0]} / {DIAGNOSES[1]} / tel {PHONES[0]}".encode(),
    )
    invoice = jpeg(comment=f"payee card {BANK_CARD}".encode())
    id_copy = png(extra=f"ID {ID_NUMBERS[0]}".encode())
    return [("IMG_0001.pdf", certificate), ("IMG_0002.jpg", invoice), ("IMG_0003.png", id_copy)]


def claim_through_the_chat(ctx: Context, zhang: Chatter) -> int:
    zhang.says("/status")
    zhang.says("/claim")
    zhang.clicks("wizard.type")
    if "chat.consent_ask" in zhang.keys:
        zhang.clicks("consent.grant")
    zhang.says("", *documents())
    assert zhang.keys[-1] == "chat.claim_ask_amount", zhang.keys
    zhang.says("¥8,650.00")
    assert zhang.clicks("wizard.submit")[-1].startswith("chat.claim_submitted"), zhang.keys
    zhang.says("/progress")
    with ctx.uow() as uow:
        (claim,) = uow.claims.of_employee(zhang.employee_id or 0)
        return claim.id


def payload_text(message: OutgoingMessage) -> bytes:
    """What goes out to the chat platform: Slack blocks, fallback text, and any files."""
    rendered = json.dumps(message_blocks(message), ensure_ascii=False) + fallback_text(message)
    return rendered.encode() + b"".join(f.content for f in message.files)


def database_dump(engine: Engine) -> Iterator[tuple[str, bytes]]:
    if engine.dialect.name == "sqlite":
        path = Path(str(engine.url.database))
        for companion in (path, path.with_name(path.name + "-wal")):
            if companion.exists():
                yield companion.name, companion.read_bytes()
        raw = sqlite3.connect(path)
        try:
            yield "iterdump", "\n".join(raw.iterdump()).encode()
        finally:
            raw.close()
        return
    with engine.connect() as connection:  # PostgreSQL: every row of every table, as text
        for table in metadata.sorted_tables:
            rows = connection.execute(select(*(cast(c, Text) for c in table.c)))
            yield table.name, "\n".join(" ".join(map(str, row)) for row in rows).encode()


def hits(places: Iterator[tuple[str, bytes]]) -> list[tuple[str, str]]:
    return [
        (place, value)
        for place, content in places
        for value in SENSITIVE
        if value.encode() in content
    ]


def test_no_sensitive_value_is_stored_logged_or_sent_in_plain_text(
    ctx: Context,
    db: Database,
    engine: Engine,
    org: Org,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    add_records(ctx, org.employee, ["2026-07", "2026-08", "2026-09"])
    import_people(ctx, org, tmp_path)
    chat = RecordingChannel()
    worker = Worker(Services(Settings(), db, ctx), ChannelRouter(chats={Platform.SLACK: chat}))
    convo = Conversation(ctx)
    zhang = Chatter(convo, "UZ", employee_id=org.employee.id)
    replies: list[OutgoingMessage] = []

    claim_id = claim_through_the_chat(ctx, zhang)
    replies += zhang.last
    zhang.says(f"报销收款银行卡要换成 {BANK_CARD}")  # told not to; must not spread
    replies += zhang.last
    worker.tick()
    approve_claim(ctx, claim_id, org.finance.id, Decimal("8650.00"))
    assert record_payout(ctx, claim_id, org.finance.id, "PAY-1").state is ClaimState.PAID
    worker.tick()
    zhang.clicks("claim.voucher", token=_voucher_token(chat))
    replies += zhang.last

    # The flow really carried the values: the store and the directory give them back whole.
    view = claim_view(ctx, claim_id)
    stored = b"".join(ctx.documents.get(d.storage_key) for d in view.documents)
    assert DIAGNOSES[0].encode() in stored and BANK_CARD.encode() in stored
    with ctx.uow() as uow:
        assert uow.directory.employee(org.employee.id).phone == PHONES[0]
    sent = [m for _, m in chat.sent] + replies
    assert any(m.files for m in sent), "the voucher was downloaded through the chat"
    assert any(mask_id_number(ID_NUMBERS[0]).encode() in payload_text(m) for m in sent)
    assert caplog.records, "the logs were captured"

    folder = tmp_path / "documents"
    places = [
        *database_dump(engine),
        *((str(p.relative_to(folder)), p.read_bytes()) for p in folder.rglob("*") if p.is_file()),
        ("logs", "\n".join(r.getMessage() for r in caplog.records).encode()),
        ("log text", caplog.text.encode()),
        *((f"to {a.target}: {m.key}", payload_text(m)) for a, m in chat.sent),
        *((f"reply {m.key}", payload_text(m)) for m in replies),
    ]
    found = hits(iter(places))
    assert not found, "unmasked: " + "; ".join(f"{value} in {place}" for place, value in found)


def _voucher_token(chat: RecordingChannel) -> str:
    paid = [m for a, m in chat.sent if a.target == "UZ" and m.key == "claim.paid"]
    assert paid, [m.key for _, m in chat.sent]
    return next(b.token for b in paid[-1].buttons if b.action == "claim.voucher")


def test_the_search_finds_what_is_there() -> None:
    """Guards the test above: a value in any place is reported, in any of its places."""
    places = [("db", f"x{ID_NUMBERS[1]}y".encode()), ("logs", DIAGNOSES[0].encode())]
    assert hits(iter(places)) == [("db", ID_NUMBERS[1]), ("logs", DIAGNOSES[0])]
    assert hits(iter([("payload", mask_id_number(ID_NUMBERS[1]).encode())])) == []
