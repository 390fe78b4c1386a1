"""reads that do not grow with history; scan answers that can be dropped after their replay window

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.alter_column("response", existing_type=sa.Text(), nullable=True)
        batch_op.create_index("ix_scan_events_slot_verified", ["slot_id", "verified"], unique=False)
        batch_op.create_index(
            "ix_scan_events_answer_kept",
            ["scanned_at", "id"],
            unique=False,
            postgresql_where=sa.text("response IS NOT NULL"),
            sqlite_where=sa.text("response IS NOT NULL"),
        )
    with op.batch_alter_table("ticket_transitions", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_transitions_orq_event_at", ["orq", "event", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_transitions_orq_event_at")
    # A compacted answer cannot be restored; the column takes an empty one where it was dropped.
    op.execute("UPDATE scan_events SET response = '' WHERE response IS NULL")
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_scan_events_answer_kept",
            postgresql_where=sa.text("response IS NOT NULL"),
            sqlite_where=sa.text("response IS NOT NULL"),
        )
        batch_op.drop_index("ix_scan_events_slot_verified")
        batch_op.alter_column("response", existing_type=sa.Text(), nullable=False)
