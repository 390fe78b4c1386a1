"""order e-mail: a mail kind for the buyer's one message when tickets are issued

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CHECK = "ck_outbox_messages_mail_kind"
BEFORE = ("confirmation", "update", "cancellation", "reserve_reminder", "visit_reminder")
AFTER = (*BEFORE, "order")


def _allow(kinds: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_="check")
        batch_op.create_check_constraint(op.f(CHECK), f"kind IN ({listed})")


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM outbox_messages WHERE kind = 'order'")
    _allow(BEFORE)
