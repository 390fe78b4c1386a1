"""Alembic environment: the migrations are the only way the schema is made, on both databases."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from admit.db.engine import make_engine
from admit.db.models import Base

config = context.config
connection = config.attributes.get("connection")
# Nodes started together all migrate at start: on PostgreSQL they take turns under this lock ("admit:mg"),
# and those that come after the first find nothing left to do.
MIGRATION_LOCK_KEY = int.from_bytes(b"admit:mg", "big")
MIGRATION_LOCK_WAIT = "120s"


def _run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_WAIT}'"))
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
