"""core: organizations, operators, orders, tickets, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-21 05:47:15.484973
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "unreserved_entry",
            sa.Enum(
                "deny", "allow", name="unreserved_entry", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column(
            "reservation_changes",
            sa.Enum(
                "none",
                "until_cutoff",
                name="reservation_changes",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("change_cutoff_hours", sa.Integer(), nullable=False),
        sa.Column("cancellation_allowed", sa.Boolean(), nullable=False),
        sa.Column("entry_minutes_before_start", sa.Integer(), nullable=True),
        sa.Column("entry_minutes_after_end", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("orq", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "operator",
                "manager",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["orq"], ["organizations.id"], name=op.f("fk_operators_orq_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("username", name=op.f("uq_operators_username")),
    )
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operators_orq"), ["orq"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("orq", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "activation_mode",
            sa.Enum(
                "immediate",
                "pre_made",
                name="activation_mode",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["orq"], ["organizations.id"], name=op.f("fk_orders_orq_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_orq"), ["orq"], unique=False)

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("orq", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_suffix", sa.String(length=4), nullable=False),
        sa.Column("code_sealed", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING_PAYMENT",
                "INACTIVE",
                "ACTIVATED",
                "RESERVED",
                "VERIFIED",
                "EXPIRED",
                "VOID",
                name="ticket_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "activation_mode",
            sa.Enum(
                "immediate",
                "pre_made",
                name="activation_mode",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("customer_phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_tickets_order_id_orders")),
        sa.ForeignKeyConstraint(["orq"], ["organizations.id"], name=op.f("fk_tickets_orq_organizations")),
        sa.ForeignKeyConstraint(
            ["verified_by"], ["operators.id"], name=op.f("fk_tickets_verified_by_operators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_tickets_code_hash")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_orq"), ["orq"], unique=False)

    op.create_table(
        "ticket_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("orq", sa.Integer(), nullable=False),
        sa.Column(
            "event",
            sa.Enum(
                "issue",
                "pay_immediate",
                "pay_pre_made",
                "activate",
                "reserve",
                "move",
                "cancel",
                "verify",
                "expire",
                "void",
                name="ticket_event",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_status",
            sa.Enum(
                "PENDING_PAYMENT",
                "INACTIVE",
                "ACTIVATED",
                "RESERVED",
                "VERIFIED",
                "EXPIRED",
                "VOID",
                name="from_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "PENDING_PAYMENT",
                "INACTIVE",
                "ACTIVATED",
                "RESERVED",
                "VERIFIED",
                "EXPIRED",
                "VOID",
                name="to_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["orq"], ["organizations.id"], name=op.f("fk_ticket_transitions_orq_organizations")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_transitions_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_transitions")),
    )
    with op.batch_alter_table("ticket_transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_transitions_orq"), ["orq"], unique=False)
        batch_op.create_index("ix_ticket_transitions_ticket_at", ["ticket_id", "at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("ticket_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_transitions_ticket_at")
        batch_op.drop_index(batch_op.f("ix_ticket_transitions_orq"))

    op.drop_table("ticket_transitions")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_orq"))
        batch_op.drop_index(batch_op.f("ix_tickets_order_id"))

    op.drop_table("tickets")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_orq"))

    op.drop_table("orders")
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operators_orq"))

    op.drop_table("operators")
    op.drop_table("organizations")
