"""Rate limits per client (DESIGN.md): in-process by default, shared through Redis when REDIS_URL is set."""

from __future__ import annotations

import math
import time

import structlog
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from admit import errors

log = structlog.get_logger()


def parse_limit(value: str) -> RateLimitItem | None:
    """`off`, or a limit such as `10/minute`; anything else is a configuration error."""
    if value.strip().lower() == "off":
        return None
    return parse(value)


class RateLimits:
    def __init__(self, *, redis_url: str, reservations: str, validation: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))
        self.remote = bool(redis_url)  # a hit is then a network call, to be made off the event loop
        self._items = {"reservations": parse_limit(reservations), "validation": parse_limit(validation)}

    def hit(self, kind: str, client: str) -> None:
        """Count one request of `kind` from `client`, or raise RATE_LIMITED with when to retry."""
        item = self._items[kind]
        if item is None:
            return
        try:
            allowed = self._limiter.hit(item, kind, client)
            if allowed:
                return
            reset_at = self._limiter.get_window_stats(item, kind, client).reset_time
        except Exception:  # a limiter outage must not close the door: let the request through
            log.warning("ratelimit.unavailable", kind=kind, exc_info=True)
            return
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise errors.RateLimited(retry_after=retry_after, limit=str(item))
