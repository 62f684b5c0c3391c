"""The audit trail is a hash chain the database keeps append-only: rows link onto each other,
``verify_trail`` finds the first changed, removed or re-linked row by its id, the database refuses
UPDATE and DELETE, concurrent appends stay one line, and a chat click is audited."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError

from adapters.documents import FilesystemDocumentStore
from bot.conversation import Conversation
from bot.demo.org import load_demo_org
from core.domain.audit import AuditEntry
from core.domain.audit_chain import GENESIS, BreakKind, content_of, row_digest
from core.persistence import tables as t
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services.audit_trail import record_click, verify_trail
from core.services.context import Context, Rules
from tests.conftest import DEMO_NOW
from tests.transcripts import Chatter

log = t.audit_log


def append(ctx: Context, count: int, label: str = "t") -> None:
    """``count`` audit rows, one unit of work each, as separate requests would write them."""
    for n in range(count):
        with ctx.uow() as uow:
            uow.audit.add(
                AuditEntry(
                    at=ctx.now(),
                    action="test.step",
                    subject_kind="test",
                    subject_id=n,
                    channel="web",
                    detail={"who": label, "n": n, "note": "住院"},
                )
            )
            uow.commit()


def ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.scalars(select(log.c.id).order_by(log.c.id)))


@contextmanager
def guard_lifted(engine: Engine) -> Iterator[Connection]:
    """A transaction in which audit_log's triggers are off, as a tamperer with the database's
    owner rights would have it; they are back when it ends."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            yield conn
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
            return
        kept = conn.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _ in kept:
            conn.execute(text(f"DROP TRIGGER {name}"))
        yield conn
        for _, sql in kept:
            conn.execute(text(sql))


def test_each_row_names_the_hash_of_the_one_before(ctx: Context, engine: Engine) -> None:
    append(ctx, 3)
    with ctx.uow() as uow:
        rows = list(uow.audit.all())
        head = uow.audit.chain_head()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert [r.prev_hash for r in rows] == [GENESIS, rows[0].row_hash, rows[1].row_hash]
    assert len({r.row_hash for r in rows}) == 3
    assert head is not None and (head.seq, head.row_hash) == (3, rows[-1].row_hash)
    assert verify_trail(ctx).rows == 3 and verify_trail(ctx).intact


def test_an_empty_trail_is_intact(ctx: Context) -> None:
    verdict = verify_trail(ctx)
    assert (verdict.rows, verdict.broken) == (0, None)


def test_a_changed_detail_is_found_with_its_row_id(ctx: Context, engine: Engine) -> None:
    append(ctx, 5)
    third = ids(engine)[2]
    with guard_lifted(engine) as conn:
        changed = '{"n": 2, "note": "tampered", "who": "t"}'
        conn.execute(
            text("UPDATE audit_log SET detail = :d WHERE id = :i"), {"d": changed, "i": third}
        )
    verdict = verify_trail(ctx)
    assert verdict.broken is not None
    assert (verdict.broken.kind, verdict.broken.row_id) == (BreakKind.CONTENT_CHANGED, third)
    assert verdict.rows == 2
    assert f"row {third}: content changed" in verdict.broken.message


def test_a_row_removed_from_the_middle_is_found(ctx: Context, engine: Engine) -> None:
    append(ctx, 5)
    rows = ids(engine)
    with guard_lifted(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": rows[2]})
    broken = verify_trail(ctx).broken
    assert broken is not None
    assert (broken.kind, broken.row_id) == (BreakKind.ROW_MISSING, rows[3])
    assert f"row #3 of the chain missing before it (after row {rows[1]})" in broken.message


def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next_link(
    ctx: Context, engine: Engine
) -> None:
    """Someone who knows the recipe rehashes the row they changed: the next row still names
    the old hash."""
    append(ctx, 4)
    rows = ids(engine)
    with ctx.uow() as uow:
        second = uow.audit.all()[1]
    content = content_of(second) | {"detail": {"who": "someone else", "n": 1, "note": "住院"}}
    forged = row_digest(content, second.seq, second.prev_hash)
    with guard_lifted(engine) as conn:
        conn.execute(
            text("UPDATE audit_log SET detail = :d, row_hash = :h WHERE id = :i"),
            {"d": '{"n": 1, "note": "住院", "who": "someone else"}', "h": forged, "i": rows[1]},
        )
    broken = verify_trail(ctx).broken
    assert broken is not None
    assert (broken.kind, broken.row_id) == (BreakKind.RELINKED, rows[2])


def test_the_last_rows_removed_are_missed_against_the_head(ctx: Context, engine: Engine) -> None:
    append(ctx, 4)
    rows = ids(engine)
    with guard_lifted(engine) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id >= :i"), {"i": rows[2]})
    verdict = verify_trail(ctx)
    assert verdict.broken is not None and verdict.broken.kind is BreakKind.TAIL_MISSING
    assert verdict.rows == 2
    assert "rows #3–#4 of the chain missing at the end" in verdict.broken.message


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_change_or_remove_audit_rows(
    ctx: Context, engine: Engine, statement: str
) -> None:
    append(ctx, 2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(f"{statement} WHERE id = :i"), {"i": ids(engine)[0]})
    with ctx.uow() as uow:
        assert [r.actor for r in uow.audit.all()] == ["system", "system"]
    assert verify_trail(ctx).intact


def test_appends_from_two_threads_stay_one_chain(ctx: Context) -> None:
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(label: str) -> None:
        try:
            start.wait()
            append(ctx, 25, label)
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with ctx.uow() as uow:
        rows = list(uow.audit.all())
    assert [r.seq for r in rows] == list(range(1, 51))
    assert sorted(r.detail["who"] for r in rows) == ["a"] * 25 + ["b"] * 25
    verdict = verify_trail(ctx)
    assert (verdict.rows, verdict.intact) == (50, True)


def test_a_lost_head_starts_again_from_the_last_row(ctx: Context, engine: Engine) -> None:
    """An emptied head table (the PostgreSQL tests TRUNCATE every table) does not fork the
    chain: the next append continues from the last row."""
    append(ctx, 2)
    with engine.begin() as conn:
        conn.execute(t.audit_chain_head.delete())
    append(ctx, 1)
    with ctx.uow() as uow:
        assert [r.seq for r in uow.audit.all()] == [1, 2, 3]
    assert verify_trail(ctx).intact


def test_rows_written_before_the_chain_are_chained_by_the_migration(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0011")
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, subject_kind, subject_id, detail) "
                    "VALUES (:at, 'system', 'claim.hold', 'claim', :n, :d)"
                ),
                {"at": f"2026-10-0{n + 1} 01:00:00.000000", "n": n, "d": '{"months": ["2026-08"]}'},
            )
    upgrade(engine)
    ctx = Context(
        uow=Database(engine).uow,
        clock=ManualClock(DEMO_NOW),
        documents=FilesystemDocumentStore(tmp_path / "documents"),
        rules=Rules(),
    )
    assert verify_trail(ctx).rows == 3 and verify_trail(ctx).intact
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    engine.dispose()


def test_a_button_click_in_chat_writes_one_audit_row_with_its_channel(ctx: Context) -> None:
    with ctx.uow() as uow:
        load_demo_org(uow, ctx.today(), ctx.now())
        uow.commit()
    zhang = Chatter(Conversation(ctx), "U0ZHANGSAN")
    zhang.says("/lang")
    with ctx.uow() as uow:
        before = len(uow.audit.all())
    zhang.clicks("lang.set", index=1)
    with ctx.uow() as uow:
        rows = list(uow.audit.all())[before:]
        session = uow.chats.session_for("slack", "U0ZHANGSAN")
    assert session is not None
    assert [(e.action, e.actor, e.channel) for e in rows] == [("chat.click", "E1001", "slack")]
    assert (rows[0].subject_kind, rows[0].subject_id) == ("chat_session", session.id)
    assert rows[0].detail == {"button": "lang.set"}
    assert verify_trail(ctx).intact


def test_a_click_keeps_the_ids_it_acts_on_and_no_free_text(ctx: Context) -> None:
    payload = {"claim_id": 7, "question": "我得了糖尿病能报销吗", "alert_id": "x"}
    record_click(ctx, None, "telegram", 3, "faq.handoff", payload)
    with ctx.uow() as uow:
        (row,) = uow.audit.all()
    assert (row.actor, row.channel) == ("unlinked", "telegram")
    assert row.detail == {"button": "faq.handoff", "claim_id": 7}
