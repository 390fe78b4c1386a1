"""slot closed mail: the e-mail asking a visitor whose slot was closed to choose another time

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BEFORE = ("confirmation", "update", "cancellation", "reserve_reminder", "visit_reminder")
AFTER = (*BEFORE, "slot_closed")


def _kind(kinds: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*kinds, name="mail_kind", native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    # Alembic drops the old type's CHECK and adds the new one (SQLite: by copying the table).
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_kind(BEFORE), type_=_kind(AFTER), existing_nullable=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM outbox_messages WHERE kind = 'slot_closed'")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column(
            "kind", existing_type=_kind(AFTER), type_=_kind(BEFORE), existing_nullable=False
        )
