"""The audit chain in the database: appending under one lock, reading back page by page, and the
triggers that make ``audit_log`` append-only on SQLite and PostgreSQL.

Appends from any number of web processes and workers form one line: a transaction takes the lock
on the single ``audit_chain_head`` row (an ``UPDATE``, which on SQLite also takes the database's
write lock) as the last thing before its commit, after its other writes are flushed. So the lock
is held for a few statements, and a transaction holding it never waits for another row lock.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.domain.audit import AuditEntry
from core.domain.audit_chain import CONTENT_FIELDS, GENESIS, ChainHead, ChainRow, seal
from core.persistence import tables as t

HEAD_ID = 1
APPEND_ONLY = "audit_log is append-only"


def append(session: Session, entries: Sequence[AuditEntry]) -> None:
    """Seal ``entries`` after the chain's head, in order, and add them to the session; the
    head row stays locked until the transaction ends."""
    if not entries:
        return
    session.flush()  # this transaction's other row locks first: the head lock comes last
    head = _lock_head(session)
    seq, prev = head.seq, head.row_hash
    for entry in entries:
        seq += 1
        prev = seal(entry, seq, prev)
        session.add(entry)
    h = t.audit_chain_head
    session.execute(update(h).where(h.c.id == HEAD_ID).values(seq=seq, row_hash=prev))


def _lock_head(session: Session) -> ChainHead:
    h = t.audit_chain_head
    lock = (
        update(h)
        .where(h.c.id == HEAD_ID)
        .values(seq=h.c.seq)  # a write that changes nothing, for its lock
        .returning(h.c.seq, h.c.row_hash)
    )
    found = session.execute(lock).first()
    if found is None:
        _restore_head(session)
        found = session.execute(lock).one()
    return ChainHead(int(found.seq), str(found.row_hash))


def _restore_head(session: Session) -> None:
    """The head row is gone (the table was emptied, as the tests do with TRUNCATE): start it
    again from the last row, or from the beginning when there is none."""
    a = t.audit_log
    last = session.execute(select(a.c.seq, a.c.row_hash).order_by(a.c.id.desc()).limit(1)).first()
    values = {
        "id": HEAD_ID,
        "seq": int(last.seq) if last else 0,
        "row_hash": str(last.row_hash) if last else GENESIS,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(t.audit_chain_head).values(values).on_conflict_do_nothing())


def head(session: Session) -> ChainHead | None:
    h = t.audit_chain_head
    found = session.execute(select(h.c.seq, h.c.row_hash).where(h.c.id == HEAD_ID)).first()
    return None if found is None else ChainHead(int(found.seq), str(found.row_hash))


def page(session: Session, after_id: int, limit: int) -> list[ChainRow]:
    """Up to ``limit`` rows after ``after_id``, in id order (keyset paging: each page is one
    short indexed query however long the table)."""
    a = t.audit_log
    columns = [a.c.id, a.c.seq, a.c.prev_hash, a.c.row_hash, *(a.c[n] for n in CONTENT_FIELDS)]
    query = select(*columns).where(a.c.id > after_id).order_by(a.c.id).limit(limit)
    return [
        ChainRow(
            row.id,
            int(row.seq),
            str(row.prev_hash),
            str(row.row_hash),
            {name: row._mapping[name] for name in CONTENT_FIELDS},
        )
        for row in session.execute(query)
    ]


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(t.audit_log)) or 0)


def guard_statements(dialect: str) -> list[str]:
    """DDL that makes the database itself refuse UPDATE and DELETE on ``audit_log``."""
    if dialect == "postgresql":
        return [
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}: % refused', TG_OP; END $$",
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
        ]
    return [
        f"CREATE TRIGGER audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}: {op} refused'); END"
        for op in ("UPDATE", "DELETE")
    ]


def unguard_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
            "DROP FUNCTION IF EXISTS audit_log_append_only()",
        ]
    return [f"DROP TRIGGER IF EXISTS audit_log_no_{op}" for op in ("update", "delete")]
