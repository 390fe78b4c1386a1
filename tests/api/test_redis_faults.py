"""A sick Redis (hanging or down) keeps the door and bookings fast; each server then limits on its own.

Nothing here depends on how fast the machine is. The breaker's time is the test's: it moves only when
the test says so, so "after the retry time" is a step of the test. "Fast" is counted, not timed: the
proxy tells how often the sick Redis was asked (each time one short wait or one refusal), and a
request that hangs fails the test instead of stalling it.
"""

from __future__ import annotations

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
from admit.ratelimit import Breaker
from admit.settings import Settings
from tests.builders import Builders
from tests.conftest import redis_test_url
from tests.faults import FaultyProxy, Mode, faulty_proxy

REDIS_URL = redis_test_url(0)
HANG_SECONDS = 30  # only to end a hang: the answers' speed is not measured
RETRY_SECONDS = 1.0


class Ticks:
    """A monotonic clock that stands still until moved."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def proxy() -> Iterator[FaultyProxy]:
    parts = urlsplit(REDIS_URL)
    redis.Redis.from_url(REDIS_URL).flushdb()
    with faulty_proxy(parts.hostname or "127.0.0.1", parts.port or 6379) as proxy:
        yield proxy
    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def _through_proxy(
    settings: Settings, clock: FrozenClock, proxy: FaultyProxy, ticks: Ticks, redis_timeout_ms: int
) -> Iterator[Builders]:
    """Limits shared through Redis behind the proxy: 5 validations and 3 reservation writes a minute."""
    database = urlsplit(REDIS_URL).path
    configured = settings.model_copy(
        update={
            "redis_url": f"redis://127.0.0.1:{proxy.port}{database}",
            "redis_timeout_ms": redis_timeout_ms,
            "rate_limit_validation": "5/minute",
            "rate_limit_reservations": "3/minute",
            "redis_retry_seconds": RETRY_SECONDS,
        }
    )
    app = create_app(configured, clock=clock)
    context_of(app).limits.breaker = Breaker(RETRY_SECONDS, now=ticks)
    with TestClient(app) as client:
        yield Builders(client=client, context=context_of(app))
    context_of(app).engine.dispose()


@pytest.fixture
def shared(settings: Settings, clock: FrozenClock, proxy: FaultyProxy, ticks: Ticks) -> Iterator[Builders]:
    """With the servers' own short wait on Redis (0.15 s): what a hanging Redis costs a request."""
    yield from _through_proxy(settings, clock, proxy, ticks, redis_timeout_ms=150)


@pytest.fixture
def patient(settings: Settings, clock: FrozenClock, proxy: FaultyProxy, ticks: Ticks) -> Iterator[Builders]:
    """With a wait on Redis that no healthy answer comes near on a busy machine, so that only a Redis
    that is down counts as one. With the short wait, an answer that came late because the machine was
    busy counted as a failure and its request was counted here too: the outage then began above zero."""
    yield from _through_proxy(settings, clock, proxy, ticks, redis_timeout_ms=10_000)


def _answer(call: Callable[[], Response]) -> Response:
    """The answer; a request that hangs fails the test instead of stalling it."""
    pool = ThreadPoolExecutor(1)
    try:
        return pool.submit(call).result(timeout=HANG_SECONDS)
    except FutureTimeout:
        raise AssertionError(f"no answer within {HANG_SECONDS} s: the request hangs") from None
    finally:
        pool.shutdown(wait=False)


@pytest.mark.parametrize("mode", ["blackhole", "cut"])
def test_a_sick_redis_is_asked_once_then_scans_and_bookings_skip_it_and_each_server_limits_on_its_own(
    shared: Builders, proxy: FaultyProxy, ticks: Ticks, mode: Mode
) -> None:
    make = shared
    orq = make.org()
    slot = make.slot(orq)
    door = make.staff(orq, Role.OPERATOR)
    code = make.ticket(orq, "ACTIVATED")
    to_book = make.ticket(orq, "ACTIVATED")

    def validate() -> Response:
        return make.client.post("/api/tickets/validate", json={"code": code})

    def scan(lane: str) -> Response:
        return make.client.post("/venue/scan", json={"code": code, "device_id": lane}, headers=door.headers)

    assert scan("lane-1").status_code == 200  # Redis in use before it falls ill (the lane's own count)
    # On a busy machine that answer may have come after the short wait and opened the breaker:
    # past its retry time, the first request below asks Redis whatever happened.
    ticks.advance(RETRY_SECONDS)

    proxy.set_mode(mode)
    assert _answer(lambda: scan("lane-2")).status_code == 200
    assert _answer(lambda: make.reserve([to_book], slot)).status_code == 201
    # This server now counts on its own, from zero: the limit still holds, per server.
    assert [_answer(validate).status_code for _ in range(6)] == [200] * 5 + [429]
    # Redis was asked once in all of that (no retries, no asking again per request): one short wait
    # or one refusal, and the sick Redis costs the door and the bookings nothing more.
    assert proxy.unanswered == 1


def test_while_redis_is_down_each_server_counts_on_its_own_until_redis_is_back_with_its_count(
    patient: Builders, proxy: FaultyProxy, ticks: Ticks
) -> None:
    make = patient
    orq = make.org()
    slot = make.slot(orq)
    code = make.ticket(orq, "ACTIVATED")
    to_book = [make.ticket(orq, "ACTIVATED") for _ in range(2)]

    def validate() -> Response:
        return make.client.post("/api/tickets/validate", json={"code": code})

    assert [validate().status_code for _ in range(2)] == [200, 200]  # counted in Redis

    proxy.set_mode("cut")
    with structlog.testing.capture_logs() as logs:
        assert make.reserve(to_book[:1], slot).status_code == 201
        # This server now counts on its own, from zero: the limit still holds, per server.
        assert [validate().status_code for _ in range(6)] == [200] * 5 + [429]

        proxy.set_mode("pass")
        assert validate().status_code == 429  # Redis is not asked again before the retry time
        ticks.advance(RETRY_SECONDS)
        assert make.reserve(to_book[1:], slot).status_code == 201
        # Redis counted 2 validations before the outage: 3 more are allowed in this minute, not 5.
        assert [validate().status_code for _ in range(4)] == [200] * 3 + [429]
    events = [e for e in logs if e["event"].startswith("ratelimit.")]
    assert [e["event"] for e in events] == ["ratelimit.redis.down", "ratelimit.redis.back"]
