"""Applying and checking migrations from code (the CLI, `admit serve`, /readyz, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from admit.db.engine import Timeouts, make_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s")
    return config


def upgrade(database_url: str, *, timeouts: Timeouts | None = None) -> None:
    """Apply the migrations the database does not have yet.

    With `timeouts`, its revision is read first under them: a database that does not answer is an
    OperationalError within seconds instead of a wait without end, and one that is up to date is left
    alone. The migrations themselves have no statement timeout, as one may rewrite a big table.
    """
    if timeouts is not None:
        engine = make_engine(database_url, timeouts=timeouts)
        try:
            if current_revision(engine) == head_revision():
                return
        finally:
            engine.dispose()
    command.upgrade(alembic_config(database_url), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
