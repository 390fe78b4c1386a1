"""a party's members in a slot through one index, whatever the planner knows of the table

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 05:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_reservations", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_reservations_party_slot", ["party_id", "slot_id"], unique=False)
        batch_op.drop_index("ix_ticket_reservations_party")


def downgrade() -> None:
    with op.batch_alter_table("ticket_reservations", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_reservations_party", ["party_id"], unique=False)
        batch_op.drop_index("ix_ticket_reservations_party_slot")
