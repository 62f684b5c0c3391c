"""consent and retention: answers to consent notices (PIPL)

Retention itself needs no schema: a purge deletes claim document rows and web chat messages and
clears leavers' ID numbers in the existing tables, and records each deletion in the audit log.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.persistence.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("notice_version", sa.String(length=32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", core.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_consents_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index("ix_consents_employee", "consents", ["employee_id", "kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_consents_employee", table_name="consents")
    op.drop_table("consents")
