"""scan events that can be pruned: the rare rows pointing at an earlier entry are found by index

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


def upgrade() -> None:
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scan_events_conflict_with",
            ["conflict_with"],
            unique=False,
            postgresql_where=sa.text("conflict_with IS NOT NULL"),
            sqlite_where=sa.text("conflict_with IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_scan_events_conflict_with",
            postgresql_where=sa.text("conflict_with IS NOT NULL"),
            sqlite_where=sa.text("conflict_with IS NOT NULL"),
        )
