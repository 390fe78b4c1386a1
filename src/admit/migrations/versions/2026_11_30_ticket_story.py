"""ticket story: find a ticket by its code's last characters, read its reservations and e-mails

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_orq_code_suffix", ["orq", "code_suffix"], unique=False)
    with op.batch_alter_table("ticket_reservations", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_reservations_ticket", ["ticket_id"], unique=False)
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_messages_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_ticket_id"))
    with op.batch_alter_table("ticket_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_reservations_ticket")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_orq_code_suffix")
