"""Rate limits: 429 with Retry-After past the limit, per client; shared across processes through Redis."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
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
from tests.conftest import TEST_SECRET, redis_test_url
from tests.nodes import free_port, wait_ready

REDIS_URL = redis_test_url(0)


@pytest.fixture
def limited(settings: Settings, clock: FrozenClock) -> Iterator[Builders]:
    """An application with small limits: 3 reservation writes and 5 validations a minute."""
    strict = settings.model_copy(
        update={
            "rate_limit_reservations": "3/minute",
            "rate_limit_validation": "5/minute",
            "rate_limit_door_login": "8/minute",
        }
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


def test_look_ups_by_ticket_code_all_count_under_the_validation_limit(limited: Builders) -> None:
    """Status, activation, a ticket's calendar and the portal opened with a code are all guesses at codes."""
    make = limited
    code = make.ticket(make.org(), "INACTIVE")
    for url in (f"/api/tickets/{code}/status", f"/api/tickets/{code}/availability", f"/reserve?code={code}"):
        assert make.client.get(url).status_code == 200, url
    assert make.client.post(f"/api/tickets/{code}/activate").status_code == 200
    assert make.client.get("/api/tickets/NOT-A-REAL-CODE-0000/status").status_code == 404
    refused = make.client.get(f"/api/tickets/{code}/status")
    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "RATE_LIMITED")
    assert make.client.get("/reserve").status_code == 200  # the portal without a code looks nothing up


def test_the_door_counts_per_lane_and_caps_one_login_whatever_device_ids_it_sends(limited: Builders) -> None:
    """Lanes sharing a login get 5 a minute each; made-up device ids stop at the login's cap of 8."""
    make = limited
    orq = make.org()
    code = make.ticket(orq, "ACTIVATED")
    door = make.staff(orq, Role.OPERATOR)

    def scan(device: str) -> int:
        body = {"code": code, "device_id": device}
        return make.client.post("/venue/scan", json=body, headers=door.headers).status_code

    assert [scan("lane-1") for _ in range(6)] == [200] * 5 + [429]
    assert [scan("lane-2") for _ in range(3)] == [200] * 3
    assert [scan(f"made-up-{n}") for n in range(3)] == [429] * 3  # 8 scans in all this minute


def test_a_trusted_proxy_names_the_client_and_anyone_else_s_forwarded_headers_are_ignored(
    settings: Settings, clock: FrozenClock
) -> None:
    proxy, stranger = ("10.1.2.3", 5000), ("198.51.100.9", 5000)
    strict = settings.model_copy(
        update={"rate_limit_validation": "5/minute", "trusted_proxies": ["10.0.0.0/8"]}
    )
    app = create_app(strict, clock=clock)
    try:
        via_proxy, direct = TestClient(app, client=proxy), TestClient(app, client=stranger)

        def status(client: TestClient, forwarded_for: str) -> int:
            headers = {"X-Forwarded-For": forwarded_for}
            return client.get("/api/tickets/UNKNOWN-CODE-00000/status", headers=headers).status_code

        # Behind the proxy each visitor has a limit of their own, keyed on the right-most untrusted
        # address (what the visitor wrote to the left of it is their own claim).
        assert [status(via_proxy, "192.0.2.1") for _ in range(6)] == [404] * 5 + [429]
        assert status(via_proxy, "192.0.2.1, 192.0.2.2, 10.9.9.9") == 404
        assert status(via_proxy, "192.0.2.1, 192.0.2.2") == 404
        # A stranger's X-Forwarded-For changes nothing: its own address is counted.
        assert [status(direct, f"192.0.2.{n}") for n in range(10, 16)] == [404] * 5 + [429]
        # The scheme too: https only when a trusted proxy says so (the redirect is built from it).
        https = {"X-Forwarded-Proto": "https"}
        assert (
            via_proxy.get("/reserve/", headers=https, follow_redirects=False)
            .headers["location"]
            .startswith("https://")
        )
        assert (
            direct.get("/reserve/", headers=https, follow_redirects=False)
            .headers["location"]
            .startswith("http://")
        )
    finally:
        context_of(app).engine.dispose()


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    key = secrets.token_urlsafe(40)
    assert Settings(
        database_url="sqlite://", secret_key=key, trusted_proxies="10.0.0.1, 10.2.0.0/16"
    ).trusted_proxies == [
        "10.0.0.1",
        "10.2.0.0/16",
    ]
    with pytest.raises(ValueError, match="trusted proxy"):
        Settings(database_url="sqlite://", secret_key=key, trusted_proxies="proxy.example")


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
    ports = [free_port(), free_port()]
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
            wait_ready(f"http://127.0.0.1:{port}")
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


def test_an_unknown_rate_limit_setting_fails_fast() -> None:
    with pytest.raises(ValueError, match="rate limit"):
        Settings(database_url="sqlite://", secret_key=secrets.token_urlsafe(40), rate_limit_validation="lots")
