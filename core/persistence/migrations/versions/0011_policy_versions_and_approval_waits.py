"""policy repeats and admin-edited versions, alerts flagged for management, approval waits

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.persistence.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Versions stored before this had no repeats: "0" keeps what their alerts were promised.
    with op.batch_alter_table("escalation_policies") as batch_op:
        batch_op.add_column(sa.Column("repeat", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("repeat_every", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("edited_at", core.persistence.types.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("edited_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("edit_note", sa.Text(), nullable=True))
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.add_column(
            sa.Column("flagged_at", core.persistence.types.UTCDateTime(), nullable=True)
        )
    op.create_table(
        "approval_waits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "subject_kind",
            sa.Enum(
                "batch",
                "claim",
                name="wait_kind",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("since", core.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("deadline_at", core.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("reminded", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("due_at", core.persistence.types.UTCDateTime(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "fired",
                "skipped",
                "cancelled",
                name="step_state",
                native_enum=False,
                create_constraint=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("fired_at", core.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", core.persistence.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_approval_waits_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_waits")),
        sa.UniqueConstraint("subject_kind", "subject_id", name="uq_approval_waits_subject"),
    )
    op.create_index("ix_approval_waits_due", "approval_waits", ["state", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_approval_waits_due", table_name="approval_waits")
    op.drop_table("approval_waits")
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.drop_column("flagged_at")
    with op.batch_alter_table("escalation_policies") as batch_op:
        batch_op.drop_column("edit_note")
        batch_op.drop_column("edited_by")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("repeat_every")
        batch_op.drop_column("repeat")
