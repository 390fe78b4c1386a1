"""slots and reservations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:57:22.468541
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "reservation_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("orq", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("total_capacity", sa.Integer(), nullable=False),
        sa.Column("booked_count", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "FULL",
                "CLOSED",
                name="slot_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "booked_count <= total_capacity", name=op.f("ck_reservation_slots_never_overbooked")
        ),
        sa.CheckConstraint("booked_count >= 0", name=op.f("ck_reservation_slots_booked_not_negative")),
        sa.CheckConstraint("end_time > start_time", name=op.f("ck_reservation_slots_ends_after_start")),
        sa.CheckConstraint("total_capacity >= 0", name=op.f("ck_reservation_slots_capacity_not_negative")),
        sa.ForeignKeyConstraint(
            ["orq"], ["organizations.id"], name=op.f("fk_reservation_slots_orq_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation_slots")),
        sa.UniqueConstraint("orq", "date", "start_time", name="uq_reservation_slots_orq_date_start"),
    )
    op.create_table(
        "ticket_reservations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("orq", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("customer_email", sa.String(length=320), nullable=False),
        sa.Column("customer_phone", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "RESERVED",
                "VERIFIED",
                "CANCELLED",
                "EXPIRED",
                name="reservation_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["orq"], ["organizations.id"], name=op.f("fk_ticket_reservations_orq_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["reservation_slots.id"],
            name=op.f("fk_ticket_reservations_slot_id_reservation_slots"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_reservations_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_reservations")),
    )
    with op.batch_alter_table("ticket_reservations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_reservations_orq"), ["orq"], unique=False)
        batch_op.create_index("ix_ticket_reservations_slot_status", ["slot_id", "status"], unique=False)
        batch_op.create_index(
            "uq_ticket_reservations_live_ticket",
            ["ticket_id"],
            unique=True,
            postgresql_where=sa.text("status <> 'CANCELLED'"),
            sqlite_where=sa.text("status <> 'CANCELLED'"),
        )


def downgrade() -> None:

    with op.batch_alter_table("ticket_reservations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ticket_reservations_live_ticket",
            postgresql_where=sa.text("status <> 'CANCELLED'"),
            sqlite_where=sa.text("status <> 'CANCELLED'"),
        )
        batch_op.drop_index("ix_ticket_reservations_slot_status")
        batch_op.drop_index(batch_op.f("ix_ticket_reservations_orq"))

    op.drop_table("ticket_reservations")
    op.drop_table("reservation_slots")
