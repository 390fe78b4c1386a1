"""venue identity: display name, address, opening hours, brand colour, country, logo

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("opening_hours", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("brand_colour", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))

    op.create_table(
        "organization_logos",
        sa.Column("orq", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["orq"], ["organizations.id"], name=op.f("fk_organization_logos_orq_organizations")
        ),
        sa.PrimaryKeyConstraint("orq", name=op.f("pk_organization_logos")),
    )


def downgrade() -> None:
    op.drop_table("organization_logos")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("country")
        batch_op.drop_column("brand_colour")
        batch_op.drop_column("opening_hours")
        batch_op.drop_column("address")
        batch_op.drop_column("display_name")
