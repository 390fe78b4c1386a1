"""Fixtures: a real database per run for each backend, emptied before every test; a pinned clock.

Every test that asks for `database_url` (directly or through `context`, `client`, …) runs twice: on
SQLite and on PostgreSQL. `ADMIT_TEST_DATABASES=sqlite` (or `postgresql`) narrows that for a quick
local run; CI runs both. `ADMIT_TEST_PG_URL` points at the PostgreSQL server (default: local, user
postgres); the tests create their own database there and drop it at the end.

The suite runs in parallel worker processes (`-n`): each has its own databases (the process id is in
their names), its own Redis databases (`redis_test_url`), and runs whole test files, so a module's
server and seed data stay in one process.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

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
REDIS_SERVER = os.environ.get("ADMIT_TEST_REDIS_URL", "redis://127.0.0.1:6379")
# The Redis databases the tests flush and fill, per worker: below 16, the number Redis has by default.
REDIS_DATABASES_PER_WORKER = 2
# Thursday 20 November 2025, 09:00 in Amsterdam: the stories' reference day.
DEFAULT_NOW = datetime.fromisoformat("2025-11-20T09:00:00+01:00")


def redis_test_url(database: int) -> str:
    """One of the tests' own Redis databases (0 or 1), which they flush: a pair per parallel worker.

    Counted down from 15 so that database 0, where a developer's own data would be, is never one.
    """
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    number = 15 - worker * REDIS_DATABASES_PER_WORKER - database
    assert number > 0, "more parallel workers than Redis has spare databases for"
    return urlsplit(REDIS_SERVER)._replace(path=f"/{number}").geturl()


@pytest.fixture(scope="session")
def _databases() -> Iterator[dict[str, str]]:
    """Each backend's migrated database by name, made the first time a test asks for it, kept to the end.

    Kept rather than made per parametrized run: a parallel worker runs whole files, each on both
    backends, so it switches backend at every file and would otherwise create and migrate a database
    each time.
    """
    made: dict[str, str] = {}
    yield made
    if "postgresql" in made:
        server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            name = make_url(made["postgresql"]).database
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, _databases: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> str:
    backend: str = request.param
    if backend not in _databases:
        _databases[backend] = _new_database(backend, tmp_path_factory)
    return _databases[backend]


def _new_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'admit.db'}"
    else:
        name = f"admit_test_{os.getpid()}_{secrets.token_hex(4)}"
        server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
        url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


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
