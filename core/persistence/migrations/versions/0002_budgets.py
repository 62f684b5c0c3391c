"""budgets: one amount per branch and month, imported with ``hrbot import budgets``

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:02:53.203573
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.persistence.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("period", core.persistence.types.PeriodType(length=7), nullable=False),
        sa.Column("amount", core.persistence.types.Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_budgets_branch_id_branches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
        sa.UniqueConstraint("branch_id", "period", name="uq_budgets_branch_period"),
    )


def downgrade() -> None:
    op.drop_table("budgets")
