"""sensitive data encryption: ID numbers and phone numbers encrypted at rest, ID number hashes

Upgrade encrypts the values already stored, with the key the application uses
(``HRBOT_ENCRYPTION_KEY``, else ``./var/secret_key``; ``hrbot db upgrade`` installs it), and
fills ``id_number_hash``, the blind index that now keeps ID numbers unique. Downgrade decrypts
them back in place. Documents on disk are not touched: old files stay readable as they are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from core.encryption import TEXT_PREFIX
from core.encryption_keys import current_keyring

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PAGE = 1000
ENCRYPTED = ("id_number", "phone")

# The columns as stored, untyped: the values pass through exactly as this revision writes them.
_employees = sa.table(
    "employees",
    sa.column("id", sa.Integer()),
    sa.column("id_number", sa.Text()),
    sa.column("phone", sa.Text()),
    sa.column("id_number_hash", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("employees") as batch_op:
        batch_op.drop_constraint("uq_employees_id_number", type_="unique")
        batch_op.alter_column("id_number", existing_type=sa.String(length=18), type_=sa.Text())
        batch_op.alter_column("phone", existing_type=sa.String(length=32), type_=sa.Text())
        batch_op.add_column(sa.Column("id_number_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_employees_id_number_hash", ["id_number_hash"])
    keyring = current_keyring()

    def encrypt(row: Any) -> dict[str, object]:
        changed: dict[str, object] = {}
        for name in ENCRYPTED:
            value = getattr(row, name)
            if value and not value.startswith(TEXT_PREFIX):
                changed[name] = keyring.encrypt_text(value)
        if row.id_number and not row.id_number.startswith(TEXT_PREFIX):
            changed["id_number_hash"] = keyring.blind_index(row.id_number)
        return changed

    _rewrite(encrypt)


def downgrade() -> None:
    keyring = current_keyring()

    def decrypt(row: Any) -> dict[str, object]:
        return {
            name: keyring.decrypt_text(getattr(row, name))
            for name in ENCRYPTED
            if getattr(row, name)
        }

    _rewrite(decrypt)
    with op.batch_alter_table("employees") as batch_op:
        batch_op.drop_constraint("uq_employees_id_number_hash", type_="unique")
        batch_op.drop_column("id_number_hash")
        batch_op.alter_column("id_number", existing_type=sa.Text(), type_=sa.String(length=18))
        batch_op.alter_column("phone", existing_type=sa.Text(), type_=sa.String(length=32))
        batch_op.create_unique_constraint("uq_employees_id_number", ["id_number"])


def _rewrite(change: Callable[[Any], dict[str, object]]) -> None:
    """Every employee holding a sensitive value, a page at a time, rewritten by ``change``."""
    connection = op.get_bind()
    c = _employees.c
    holding = sa.or_(c.id_number.is_not(None), c.phone.is_not(None))
    after = 0
    while True:
        page = connection.execute(
            sa.select(c.id, c.id_number, c.phone)
            .where(holding, c.id > after)
            .order_by(c.id)
            .limit(PAGE)
        ).all()
        if not page:
            return
        for row in page:
            changed = change(row)
            if changed:
                connection.execute(_employees.update().where(c.id == row.id).values(**changed))
        after = page[-1].id
