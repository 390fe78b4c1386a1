"""Fixtures: a real database per run for each backend, emptied before every test; a pinned clock.

Every test that asks for `database_url` (directly or through `context`, `client`, …) runs twice: on
SQLite and on PostgreSQL. `ADMIT_TEST_DATABASES=sqlite` (or `postgresql`) narrows that for a quick
local run; CI runs both. `ADMIT_TEST_PG_URL` points at the PostgreSQL server (default: local, user
postgres); the tests create their own database there and drop it at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.context import AppContext, build_context
from admit.db.migrate import upgrade
from admit.settings import Settings
from tests.builders import Builders, empty_tables
from tests.chromium import browser, playwright  # noqa: F401  (shared fixtures)

PG_SERVER = os.environ.get("ADMIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = os.environ.get("ADMIT_TEST_DATABASES", "sqlite,postgresql").split(",")
TEST_SECRET = "test-secret-key-" + "x" * 32
# Thursday 20 November 2025, 09:00 in Amsterdam: the stories' reference day.
DEFAULT_NOW = datetime.fromisoformat("2025-11-20T09:00:00+01:00")


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'admit.db'}"
        upgrade(url)
        yield url
        return
    name = f"admit_test_{os.getpid()}_{secrets.token_hex(4)}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def empty_database(database_url: str) -> str:
    """The run's database with every table emptied, so no test sees another's rows."""
    engine = create_engine(database_url)
    empty_tables(engine)
    engine.dispose()
    return database_url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(DEFAULT_NOW)


@pytest.fixture
def settings(empty_database: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=empty_database,
        secret_key=TEST_SECRET,
        data_dir=tmp_path / "data",
        rate_limit_reservations="off",
        rate_limit_validation="off",
        rate_limit_door_login="off",
        rate_limit_login="off",
        login_hashes_per_second=1000,  # tests log staff in back to back
        login_refusal_delay_ms=0,  # the tests of refusals would each wait a second
    )


@pytest.fixture
def client(settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings, clock=clock)
    with TestClient(app) as test_client:
        yield test_client
    context_of(app).engine.dispose()


@pytest.fixture
def context(client: TestClient) -> AppContext:
    """The same context the HTTP client's application uses, for service-level tests and checks."""
    return context_of(client.app)  # type: ignore[arg-type]


@pytest.fixture
def standalone_context(settings: Settings, clock: FrozenClock) -> Iterator[AppContext]:
    context = build_context(settings, clock)
    yield context
    context.engine.dispose()


@pytest.fixture
def make(client: TestClient, context: AppContext) -> Builders:
    return Builders(client=client, context=context)
