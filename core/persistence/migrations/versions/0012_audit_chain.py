"""audit chain: each audit row hashed onto the one before it, a chain head, append-only triggers

Rows already there are chained in id order, so ``hrbot audit verify`` checks the whole trail.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.domain.audit_chain import CONTENT_FIELDS, GENESIS, row_digest
from core.persistence.audit_chain import HEAD_ID, guard_statements, unguard_statements
from core.persistence.types import JSONText, UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PAGE = 1000

# audit_log as this revision found it, typed so values read back as the application reads them.
_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("at", UTCDateTime()),
    sa.column("actor_id", sa.Integer()),
    sa.column("actor", sa.String()),
    sa.column("channel", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject_kind", sa.String()),
    sa.column("subject_id", sa.Integer()),
    sa.column("from_state", sa.String()),
    sa.column("to_state", sa.String()),
    sa.column("detail", JSONText()),
    sa.column("seq", sa.Integer()),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    seq, last = _chain_existing_rows()
    op.execute(
        sa.table("audit_chain_head", sa.column("id"), sa.column("seq"), sa.column("row_hash"))
        .insert()
        .values(id=HEAD_ID, seq=seq, row_hash=last)
    )
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_audit_log_seq", ["seq"])
    # After the batch operations: on SQLite they rebuild the table, which drops its triggers.
    for statement in guard_statements(op.get_bind().dialect.name):
        op.execute(statement)


def _chain_existing_rows() -> tuple[int, str]:
    """Seals the rows already there, in id order, a page at a time; returns the head."""
    bind = op.get_bind()
    columns = [_log.c.id, *(_log.c[name] for name in CONTENT_FIELDS)]
    seq, prev, after = 0, GENESIS, 0
    while True:
        rows = bind.execute(
            sa.select(*columns).where(_log.c.id > after).order_by(_log.c.id).limit(PAGE)
        ).all()
        if not rows:
            return seq, prev
        sealed = []
        for row in rows:
            seq += 1
            content = {name: row._mapping[name] for name in CONTENT_FIELDS}
            row_hash = row_digest(content, seq, prev)
            sealed.append({"key": row.id, "seq": seq, "prev": prev, "hash": row_hash})
            prev, after = row_hash, row.id
        bind.execute(
            _log.update()
            .where(_log.c.id == sa.bindparam("key"))
            .values(
                seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev"),
                row_hash=sa.bindparam("hash"),
            ),
            sealed,
        )


def downgrade() -> None:
    for statement in unguard_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_constraint("uq_audit_log_seq", type_="unique")
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
