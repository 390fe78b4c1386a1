"""A database that hangs or goes away: requests are told to retry within seconds, never left hanging.

A real server process reaches PostgreSQL through a proxy that can blackhole the connection (the network
is gone: nothing is answered) or cut it (the server is down). The worker threads matter here, so the
server is a real uvicorn process. SQLite is a local file: there is no network to lose.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.domain.roles import Role
from admit.settings import Settings
from tests.api.test_observability import metric
from tests.builders import CONTACT, Builders
from tests.conftest import TEST_SECRET
from tests.faults import FaultyProxy, faulty_proxy
from tests.nodes import free_port, wait_ready

# Generous bounds on how long a request may wait: failing is fine, hanging is not.
WITHIN = 10.0
METRICS_TOKEN = "scrape-" + "y" * 32


@pytest.fixture
def proxy(make: Builders) -> Iterator[FaultyProxy]:
    url = make_url(make.context.settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("SQLite is a local file: there is no connection to lose")
    with faulty_proxy(url.host or "127.0.0.1", url.port or 5432) as started:
        yield started


def _through(proxy: FaultyProxy, database_url: str) -> str:
    return make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)


Serve = Callable[..., str]


@pytest.fixture
def serve(make: Builders, proxy: FaultyProxy, tmp_path: Path) -> Iterator[Serve]:
    """Start a real Admit process on the test database through the proxy; returns its base URL."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> str:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": _through(proxy, make.context.settings.database_url),
            "ADMIT_SECRET_KEY": TEST_SECRET,
            "ADMIT_DATA_DIR": str(tmp_path),
            "ADMIT_FROZEN_NOW": "2025-11-20T09:00:00+01:00",
            "ADMIT_RATE_LIMIT_RESERVATIONS": "off",
            "ADMIT_RATE_LIMIT_VALIDATION": "off",
            "ADMIT_DB_CONNECT_TIMEOUT": "2",
            **{f"ADMIT_{name.upper()}": value for name, value in settings.items()},
        }
        log = (tmp_path / f"server-{port}.log").open("wb")
        command = [sys.executable, "-m", "uvicorn", "admit.app:create_app", "--factory", "--port", str(port)]
        started.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        return base

    yield start
    for server in started:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:  # threads stuck on the database keep it from stopping
            server.kill()
            server.wait()


def _assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_BUSY"
    assert int(response.headers["Retry-After"]) >= 1


def _scan(base: str, code: str, headers: dict[str, str], *, timeout: float = WITHIN) -> httpx.Response:
    body = {"code": code, "action": "validate"}
    return httpx.post(f"{base}/venue/scan", json=body, headers=headers, timeout=timeout)


def _book(base: str, code: str, slot_id: int) -> httpx.Response:
    body = {"ticket_codes": [code], "slot_id": slot_id, **CONTACT}
    return httpx.post(f"{base}/api/reservations", json=body, timeout=WITHIN)


def test_a_blackholed_database_gets_503_service_busy_within_seconds_and_recovers_without_restart(
    make: Builders, proxy: FaultyProxy, serve: Serve
) -> None:
    orq = make.org()
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    code, ticket = make.reservation(orq, slot)[0], make.ticket(orq, "ACTIVATED")
    operator = make.staff(orq, Role.OPERATOR)
    base = serve(db_statement_timeout="2")
    assert _scan(base, code, operator.headers).status_code == 200

    proxy.set_mode("blackhole")
    before = make.snapshot()
    _assert_busy(_book(base, ticket, slot))  # httpx gives up after WITHIN seconds: a hang fails here
    _assert_busy(_scan(base, code, operator.headers))

    proxy.set_mode("pass")
    assert make.snapshot() == before  # the refused booking changed nothing
    assert _scan(base, code, operator.headers).json()["result"] == "GREEN"
    assert _book(base, ticket, slot).status_code == 201


def test_health_readiness_and_metrics_answer_while_every_worker_thread_waits_on_a_hung_database(
    make: Builders, proxy: FaultyProxy, serve: Serve
) -> None:
    orq = make.org()
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-20", start="10:00", end="11:00"))
    operator = make.staff(orq, Role.OPERATOR)
    # Statements and connections may take 8 s here: the scans below hold every worker thread meanwhile.
    base = serve(db_statement_timeout="8", db_connect_timeout="8", worker_threads="4")
    assert _scan(base, code, operator.headers).status_code == 200

    proxy.set_mode("blackhole")
    with ThreadPoolExecutor(max_workers=4) as pool:
        stuck = [pool.submit(_scan, base, code, operator.headers, timeout=30) for _ in range(4)]
        time.sleep(1)  # let them reach the database
        assert not any(future.done() for future in stuck)

        assert httpx.get(f"{base}/healthz", timeout=3).json() == {"status": "ok"}
        ready = httpx.get(f"{base}/readyz", timeout=WITHIN)
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "DATABASE_UNREACHABLE"
        scraped = httpx.get(f"{base}/metrics", timeout=WITHIN)
        assert scraped.status_code == 200
        assert metric(scraped.text, "admit_metrics_collector_errors_total", collector="slots") >= 1
        assert metric(scraped.text, "admit_scans_total", result="GREEN", reason="VALID") == 1

        for future in stuck:
            _assert_busy(future.result())
    proxy.set_mode("pass")
    assert httpx.get(f"{base}/readyz", timeout=WITHIN).status_code == 200


@contextmanager
def _app_through(proxy: FaultyProxy, settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    proxied = settings.model_copy(
        update={"database_url": _through(proxy, settings.database_url), "metrics_token": METRICS_TOKEN}
    )
    app = create_app(proxied, clock=clock)
    with TestClient(app) as client:
        yield client
    context_of(app).engine.dispose()


def test_a_database_that_is_down_gets_503_at_once_and_metrics_still_answer(
    make: Builders, proxy: FaultyProxy, settings: Settings, clock: FrozenClock
) -> None:
    orq = make.org()
    slot = make.slot(orq)
    ticket = make.ticket(orq, "ACTIVATED")
    scrape: dict[str, Any] = {"headers": {"Authorization": f"Bearer {METRICS_TOKEN}"}}
    with _app_through(proxy, settings, clock) as client:
        assert client.get("/readyz").status_code == 200
        before = make.snapshot()

        proxy.set_mode("cut")
        refused = client.post(
            "/api/reservations", json={"ticket_codes": [ticket], "slot_id": slot, **CONTACT}
        )
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "SERVICE_BUSY"
        assert client.get("/readyz").status_code == 503
        scraped = client.get("/metrics", **scrape)
        assert scraped.status_code == 200
        assert metric(scraped.text, "admit_metrics_collector_errors_total", collector="slots") == 1
        assert make.snapshot() == before

        proxy.set_mode("pass")
        booked = client.post("/api/reservations", json={"ticket_codes": [ticket], "slot_id": slot, **CONTACT})
        assert booked.status_code == 201, booked.text
        assert client.get("/readyz").status_code == 200
        scraped = client.get("/metrics", **scrape)
        assert metric(scraped.text, "admit_slot_places_booked_today") == 0  # the slot is tomorrow's
        assert metric(scraped.text, "admit_metrics_collector_errors_total", collector="slots") == 1
