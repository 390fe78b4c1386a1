"""Rate limits: 429 with Retry-After past the limit, per client; shared across processes through Redis."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.domain.roles import Role
from admit.settings import Settings
from tests.builders import Builders
from tests.conftest import TEST_SECRET

REDIS_URL = os.environ.get("ADMIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def limited(settings: Settings, clock: FrozenClock) -> Iterator[Builders]:
    """An application with small limits: 3 reservation writes and 5 validations a minute."""
    strict = settings.model_copy(
        update={"rate_limit_reservations": "3/minute", "rate_limit_validation": "5/minute"}
    )
    app = create_app(strict, clock=clock)
    with TestClient(app) as client:
        yield Builders(client=client, context=context_of(app))
    context_of(app).engine.dispose()


def test_reservation_writes_past_the_limit_get_429_with_retry_after(limited: Builders) -> None:
    make = limited
    orq = make.org()
    slot = make.slot(orq)
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(4)]
    for code in codes[:3]:
        assert make.reserve([code], slot).status_code == 201
    before = make.snapshot()
    refused = make.reserve([codes[3]], slot)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert make.snapshot() == before


def test_validation_past_the_limit_gets_429_and_the_door_counts_per_operator(limited: Builders) -> None:
    make = limited
    orq = make.org()
    code = make.ticket(orq, "ACTIVATED")
    statuses = [make.client.post("/api/tickets/validate", json={"code": code}).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    first, second = make.staff(orq, Role.OPERATOR), make.staff(orq, Role.OPERATOR)
    url = "/api/operator/validate-ticket"
    assert [
        make.client.post(url, json={"code": code}, headers=first.headers).status_code for _ in range(6)
    ] == [200] * 5 + [429]
    assert make.client.post(url, json={"code": code}, headers=second.headers).status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_db() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


def test_the_limit_is_shared_by_two_server_processes_through_redis(
    make: Builders, redis_db: str, tmp_path: Path
) -> None:
    """Two real server processes on one database and one Redis: 5 validations a minute in all, not each."""
    if make.context.engine.dialect.name != "postgresql":
        pytest.skip("several server processes share a PostgreSQL database, not a SQLite file")
    orq = make.org()
    code = make.ticket(orq, "ACTIVATED")
    env = {
        **os.environ,
        "DATABASE_URL": make.context.settings.database_url,
        "ADMIT_SECRET_KEY": TEST_SECRET,
        "ADMIT_DATA_DIR": str(tmp_path),
        "REDIS_URL": redis_db,
        "ADMIT_RATE_LIMIT_VALIDATION": "5/minute",
        "ADMIT_FROZEN_NOW": "2025-11-20T09:00:00+01:00",
    }
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "admit.app:create_app", "--factory", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            _wait_ready(f"http://127.0.0.1:{port}")
        statuses = [
            httpx.post(
                f"http://127.0.0.1:{ports[i % 2]}/api/tickets/validate", json={"code": code}
            ).status_code
            for i in range(8)
        ]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    assert statuses == [200] * 5 + [429] * 3


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not become ready")


def test_an_unknown_rate_limit_setting_fails_fast() -> None:
    with pytest.raises(ValueError, match="rate limit"):
        Settings(database_url="sqlite://", secret_key=secrets.token_urlsafe(40), rate_limit_validation="lots")
