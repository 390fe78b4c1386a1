"""offline keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00.000000

Each organization's key for signing offline bundles; ticket codes sealed a second time for opening in
bulk (tickets issued before this have none and are opened from their Fernet seal); and an index for
reading an organization's recent transitions, the bundles' change feed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "offline_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("orq", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("private_sealed", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["orq"], ["organizations.id"], name=op.f("fk_offline_keys_orq_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_keys")),
        sa.UniqueConstraint("orq", name=op.f("uq_offline_keys_orq")),
        sa.UniqueConstraint("key_id", name=op.f("uq_offline_keys_key_id")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code_sealed_bulk", sa.LargeBinary(length=64), nullable=True))
    with op.batch_alter_table("ticket_transitions", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_transitions_orq_at", ["orq", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_transitions_orq_at")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("code_sealed_bulk")
    op.drop_table("offline_keys")
