"""parties: tickets booked together share a party; an order has a link its buyer books from

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 22:00:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_reservations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("party_id", sa.String(length=32), nullable=True))
    # Each earlier reservation is a party of one, named by its own id: no new secret to hand out.
    op.execute("UPDATE ticket_reservations SET party_id = id")
    with op.batch_alter_table("ticket_reservations", schema=None) as batch_op:
        batch_op.alter_column("party_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index("ix_ticket_reservations_party", ["party_id"], unique=False)

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("party_id", sa.String(length=32), nullable=True))

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_token", sa.String(length=32), nullable=True))
    orders = sa.table("orders", sa.column("id", sa.String), sa.column("link_token", sa.String))
    connection = op.get_bind()
    ids = connection.execute(sa.select(orders.c.id)).scalars().all()
    if ids:
        # Every order gets its own unguessable link, made here as new orders make theirs.
        connection.execute(
            orders.update().where(orders.c.id == sa.bindparam("order_id")),
            [{"order_id": order_id, "link_token": secrets.token_urlsafe(16)} for order_id in ids],
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.alter_column("link_token", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_orders_link_token"), ["link_token"])


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_orders_link_token"), type_="unique")
        batch_op.drop_column("link_token")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("party_id")
    with op.batch_alter_table("ticket_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_reservations_party")
        batch_op.drop_column("party_id")
