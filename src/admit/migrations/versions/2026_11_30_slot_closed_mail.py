"""slot closed mail: the e-mail asking a visitor whose slot was closed to choose another time

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CHECK = "ck_outbox_messages_mail_kind"
BEFORE = ("confirmation", "update", "cancellation", "reserve_reminder", "visit_reminder", "order")
AFTER = (*BEFORE, "slot_closed")


def _allow(kinds: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.create_check_constraint(op.f(CHECK), f"kind IN ({listed})")


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM outbox_messages WHERE kind = 'slot_closed'")
    _allow(BEFORE)
