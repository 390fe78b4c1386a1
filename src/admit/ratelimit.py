"""Rate limits per client (DESIGN.md): in-process by default, shared through Redis when REDIS_URL is set.

A sick Redis must not slow the door: each call to it waits a short, bounded time and is never retried,
and after a failure a breaker skips Redis for a few seconds. While the breaker is open every limit is
counted in this process instead, so each server still enforces the limit on its own (with N servers a
client may get up to N times the limit) rather than letting everything through (a code-guesser's
holiday) or refusing everything (a closed door).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

import structlog
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from admit import errors

log = structlog.get_logger()

# Limits on this process's own resources (its CPU), never shared.
PER_PROCESS = frozenset({"hashes"})


def parse_limit(value: str) -> RateLimitItem | None:
    """`off`, or a limit such as `10/minute`; anything else is a configuration error."""
    if value.strip().lower() == "off":
        return None
    return parse(value)


class Breaker:
    """Open after a failure, for `cooldown` seconds; the first call after that tries again."""

    def __init__(self, cooldown: float, now: Callable[[], float] = time.monotonic) -> None:
        self.cooldown = cooldown
        self._now = now
        self._retry_at = 0.0
        self._down = False
        self._lock = threading.Lock()

    def closed(self) -> bool:
        return self._now() >= self._retry_at

    def failed(self, error: Exception) -> None:
        with self._lock:
            self._retry_at = self._now() + self.cooldown
            first, self._down = not self._down, True
        if first:  # once per outage, not once per request
            log.warning(
                "ratelimit.redis.down", error=repr(error)[:200], retry_seconds=self.cooldown, fallback="local"
            )

    def succeeded(self) -> None:
        if self._down:
            with self._lock:
                back, self._down = self._down, False
            if back:
                log.info("ratelimit.redis.back")


class RateLimits:
    def __init__(
        self, *, redis_url: str, redis_timeout: float, breaker_seconds: float, limits: Mapping[str, str]
    ) -> None:
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        if redis_url:
            # No retries: redis-py's default retries turn one short timeout into seconds per request.
            storage = storage_from_string(
                redis_url,
                socket_timeout=redis_timeout,
                socket_connect_timeout=redis_timeout,
                retry=Retry(NoBackoff(), 0),  # type: ignore[arg-type]  # passed on to redis.from_url
                health_check_interval=0,
            )
            self._shared = MovingWindowRateLimiter(storage)
        self.remote = self._shared is not None  # a hit may then be a network call: make it off the loop
        self.breaker = Breaker(breaker_seconds)
        self._items = {kind: parse_limit(value) for kind, value in limits.items()}

    def hit(self, kind: str, key: str) -> None:
        """Count one request of `kind` for `key`, or raise RATE_LIMITED with when to retry."""
        self._count(kind, key, counting=True)

    def check(self, kind: str, key: str) -> None:
        """RATE_LIMITED if `key` has used up `kind` already; counts nothing (`hit` does)."""
        self._count(kind, key, counting=False)

    def clear(self, kind: str, key: str) -> None:
        """Forget what `key` has used of `kind` (a login that succeeded clears its failures)."""
        item = self._items[kind]
        if item is None:
            return
        self._local.clear(item, kind, key)
        if self._shared is not None and self.breaker.closed():
            try:
                self._shared.clear(item, kind, key)
            except Exception as exc:
                self.breaker.failed(exc)

    def _count(self, kind: str, key: str, *, counting: bool) -> None:
        item = self._items[kind]
        if item is None:
            return
        limiter = self._local if kind in PER_PROCESS else self._limiter()
        try:
            retry_after = _retry_after(limiter, item, kind, key, counting=counting)
        except Exception as exc:  # Redis unreachable or slow: count here until it is back
            self.breaker.failed(exc)
            retry_after = _retry_after(self._local, item, kind, key, counting=counting)
        else:
            if limiter is self._shared:
                self.breaker.succeeded()
        if retry_after is not None:
            raise errors.RateLimited(retry_after=retry_after, limit=str(item))

    def _limiter(self) -> MovingWindowRateLimiter:
        if self._shared is not None and self.breaker.closed():
            return self._shared
        return self._local


def _retry_after(
    limiter: MovingWindowRateLimiter, item: RateLimitItem, kind: str, key: str, *, counting: bool
) -> int | None:
    """None when allowed (and counted, if `counting`), else the seconds until one more is allowed."""
    allowed = limiter.hit(item, kind, key) if counting else limiter.test(item, kind, key)
    if allowed:
        return None
    reset_at = limiter.get_window_stats(item, kind, key).reset_time
    return max(1, math.ceil(reset_at - time.time()))
