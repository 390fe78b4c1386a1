"""languages: the venue's default language, and the language each reservation and order was made in

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The languages shipped when this revision was written; a later one that ships more widens the checks.
LANGUAGES = ("en", "nl", "de", "fr", "es")
COLUMNS = (("organizations", "default_language"), ("ticket_reservations", "language"), ("orders", "language"))


def upgrade() -> None:
    listed = ", ".join(f"'{language}'" for language in LANGUAGES)
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            # Rows made before languages were English: the server default fills them in.
            batch_op.add_column(sa.Column(column, sa.String(length=8), server_default="en", nullable=False))
            batch_op.create_check_constraint(op.f(f"ck_{table}_{column}"), f"{column} IN ({listed})")


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
            batch_op.drop_column(column)
