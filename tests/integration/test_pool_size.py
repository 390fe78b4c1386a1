"""A process's PostgreSQL connections: as many as the settings allow, and never a worker without one."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from pydantic import ValidationError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from admit.context import build_context
from admit.settings import Settings


def test_a_process_opens_at_most_its_pool_and_overflow_and_then_waits_for_one(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite is a file in this process: there is no server's connection limit to share")
    small = settings.model_copy(
        update={"db_pool_size": 2, "db_max_overflow": 1, "worker_threads": 3, "db_pool_timeout": 0.2}
    )
    context = build_context(small)
    try:
        with ExitStack() as held:
            for _ in range(3):
                held.enter_context(context.engine.connect())
            with pytest.raises(PoolTimeout):
                context.engine.connect()
    finally:
        context.engine.dispose()


def test_a_pool_smaller_than_the_worker_threads_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="ADMIT_DB_POOL_SIZE"):
        Settings(
            database_url="sqlite://",
            secret_key="k" * 40,
            worker_threads=16,
            db_pool_size=8,
            db_max_overflow=4,
        )


def test_a_pool_without_a_connection_for_each_download_beside_the_workers_is_refused_at_start() -> None:
    # A CSV download holds its connection until its file is written, beside the requests' threads.
    with pytest.raises(ValidationError, match="ADMIT_EXPORT_DOWNLOADS"):
        Settings(
            database_url="sqlite://",
            secret_key="k" * 40,
            worker_threads=8,
            db_pool_size=8,
            db_max_overflow=1,
            export_downloads=2,
        )
