"""offline scans: door time, device scan id, what the device showed, second entries

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("offline", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("scan_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("offline_result", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("offline_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("conflict", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("conflict_with", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_scan_events_conflict_with_scan_events"), "scan_events", ["conflict_with"], ["id"]
        )
        batch_op.create_index(
            "uq_scan_events_orq_device_scan",
            ["orq", "device_id", "scan_id"],
            unique=True,
            postgresql_where=sa.text("scan_id IS NOT NULL"),
            sqlite_where=sa.text("scan_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_scan_events_orq_device_scan",
            postgresql_where=sa.text("scan_id IS NOT NULL"),
            sqlite_where=sa.text("scan_id IS NOT NULL"),
        )
        batch_op.drop_constraint(batch_op.f("fk_scan_events_conflict_with_scan_events"), type_="foreignkey")
        batch_op.drop_column("conflict_with")
        batch_op.drop_column("conflict")
        batch_op.drop_column("synced_at")
        batch_op.drop_column("offline_code")
        batch_op.drop_column("offline_result")
        batch_op.drop_column("scan_id")
        batch_op.drop_column("offline")
