"""A sick Redis (hanging or down) keeps the door and bookings fast; each server then limits on its own."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

import pytest
import redis
import structlog
from fastapi.testclient import TestClient
from httpx2 import Response

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.domain.roles import Role
from admit.settings import Settings
from tests.builders import Builders
from tests.conftest import redis_test_url
from tests.faults import FaultyProxy, Mode, faulty_proxy

REDIS_URL = redis_test_url(0)
# Generous: a healthy answer takes milliseconds, the bounded Redis wait 0.15 s; a hanging Redis
# without bounds took seconds per request, or forever.
BOUND_SECONDS = 1.5
RETRY_SECONDS = 1.0


@pytest.fixture
def proxy() -> Iterator[FaultyProxy]:
    parts = urlsplit(REDIS_URL)
    redis.Redis.from_url(REDIS_URL).flushdb()
    with faulty_proxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        yield proxy
    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture
def shared(settings: Settings, clock: FrozenClock, proxy: FaultyProxy) -> Iterator[Builders]:
    """Limits shared through Redis behind the proxy: 5 validations and 3 reservation writes a minute."""
    database = urlsplit(REDIS_URL).path
    through_proxy = settings.model_copy(
        update={
            "redis_url": f"redis://127.0.0.1:{proxy.port}{database}",
            "rate_limit_validation": "5/minute",
            "rate_limit_reservations": "3/minute",
            "redis_retry_seconds": RETRY_SECONDS,
        }
    )
    app = create_app(through_proxy, clock=clock)
    with TestClient(app) as client:
        yield Builders(client=client, context=context_of(app))
    context_of(app).engine.dispose()


def _promptly(call: Callable[[], Response]) -> Response:
    """The answer, which must come within the bound (a hang fails the test instead of stalling it)."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(call).result(timeout=BOUND_SECONDS)
    except FutureTimeout:
        raise AssertionError(f"no answer within {BOUND_SECONDS} s") from None
    finally:
        pool.shutdown(wait=False)


@pytest.mark.parametrize("mode", ["blackhole", "cut"])
def test_a_sick_redis_keeps_scans_and_bookings_fast_then_the_shared_limit_returns(
    shared: Builders, proxy: FaultyProxy, mode: Mode
) -> None:
    make = shared
    orq = make.org()
    slot = make.slot(orq)
    door = make.staff(orq, Role.OPERATOR)
    code = make.ticket(orq, "ACTIVATED")
    to_book = [make.ticket(orq, "ACTIVATED") for _ in range(2)]

    def validate() -> Response:
        return make.client.post("/api/tickets/validate", json={"code": code})

    def scan() -> Response:
        return make.client.post(
            "/venue/scan", json={"code": code, "device_id": "lane-1"}, headers=door.headers
        )

    assert [validate().status_code for _ in range(2)] == [200, 200]  # counted in Redis

    proxy.set_mode(mode)
    with structlog.testing.capture_logs() as logs:
        assert _promptly(scan).status_code == 200
        assert _promptly(lambda: make.reserve(to_book[:1], slot)).status_code == 201
        # This server now counts on its own, from zero: the limit still holds, per server.
        assert [_promptly(validate).status_code for _ in range(6)] == [200] * 5 + [429]

        proxy.set_mode("pass")
        time.sleep(RETRY_SECONDS + 0.2)  # the breaker tries Redis again after this
        assert _promptly(lambda: make.reserve(to_book[1:], slot)).status_code == 201
        # Redis counted 2 validations before the outage: 3 more are allowed in this minute, not 5.
        assert [_promptly(validate).status_code for _ in range(4)] == [200] * 3 + [429]
    events = [e for e in logs if e["event"].startswith("ratelimit.")]
    assert [e["event"] for e in events] == ["ratelimit.redis.down", "ratelimit.redis.back"]
