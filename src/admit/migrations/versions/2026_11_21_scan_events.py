"""scan events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 06:09:46.032605
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "scan_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("orq", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("nonce", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_suffix", sa.String(length=4), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=True),
        sa.Column("reservation_date", sa.Date(), nullable=True),
        sa.Column("reservation_start", sa.Time(), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operators.id"], name=op.f("fk_scan_events_operator_id_operators")
        ),
        sa.ForeignKeyConstraint(["orq"], ["organizations.id"], name=op.f("fk_scan_events_orq_organizations")),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["reservation_slots.id"], name=op.f("fk_scan_events_slot_id_reservation_slots")
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_scan_events_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_events")),
    )
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.create_index("ix_scan_events_orq_scanned_at", ["orq", "scanned_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scan_events_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(
            "uq_scan_events_orq_nonce",
            ["orq", "nonce"],
            unique=True,
            postgresql_where=sa.text("nonce IS NOT NULL"),
            sqlite_where=sa.text("nonce IS NOT NULL"),
        )


def downgrade() -> None:

    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_scan_events_orq_nonce",
            postgresql_where=sa.text("nonce IS NOT NULL"),
            sqlite_where=sa.text("nonce IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_scan_events_ticket_id"))
        batch_op.drop_index("ix_scan_events_orq_scanned_at")

    op.drop_table("scan_events")
