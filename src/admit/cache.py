"""Facts kept in the process so that hot paths do not re-read rows that rarely change.

Several server processes share one database, so a time-to-live alone would let one of them serve a
disabled operator or an old policy for as long as it lasts. Every change to what is cached here bumps a
counter in the database in the same transaction (services/cache_version.py); each process reads that
counter at most every `interval` seconds and drops everything when it moved. The door's hot path thus
pays one cheap query per process per interval, not one per scan.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

CHECK_INTERVAL = 0.5  # seconds: a change made on one node is seen on every node within about this


class Cached(Generic[K, V]):
    """One kind of fact, by key, until the shared counter moves."""

    def __init__(self) -> None:
        self._values: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._values.get(key)

    def put(self, key: K, value: V) -> V:
        self._values[key] = value
        return value

    def clear(self) -> None:
        self._values = {}


class SharedFacts:
    """Caches tied to the database's change counter, and the set of logged-out token ids."""

    def __init__(
        self,
        *,
        read_version: Callable[[], int],
        read_revoked: Callable[[], frozenset[str]],
        interval: float = CHECK_INTERVAL,
    ) -> None:
        self._read_version = read_version
        self._read_revoked = read_revoked
        self._interval = interval
        self._lock = threading.Lock()
        self._version: int | None = None
        self._next_check = 0.0
        self._caches: list[Cached[object, object]] = []
        self.revoked: frozenset[str] = frozenset()

    def cache(self) -> Cached[K, V]:
        made: Cached[K, V] = Cached()
        self._caches.append(made)  # type: ignore[arg-type]
        return made

    @property
    def due(self) -> bool:
        return time.monotonic() >= self._next_check

    def refresh(self) -> None:
        """Read the counter if it is time to (blocking: run it off the event loop); drop all on a change."""
        with self._lock:
            if not self.due:
                return
            try:
                version = self._read_version()
                if version != self._version:
                    revoked = self._read_revoked()
                    for cache in self._caches:
                        cache.clear()
                    self.revoked, self._version = revoked, version
            except BaseException:
                # The database could not say: nothing kept can be trusted, and the next request asks again.
                for cache in self._caches:
                    cache.clear()
                self._version = None
                raise
            self._next_check = time.monotonic() + self._interval

    def changed_here(self) -> None:
        """This process made a change: read the counter on the next request rather than in a while."""
        self._next_check = 0.0


class Answers(Generic[K]):
    """Answers already written, by a key that names everything they depend on, each until a given time.

    The key carries the version of the rows an answer was made from, so a change never needs to reach
    in here: the next request reads a new version and misses. Bounded by bytes, not entries (a year's
    calendar is half a megabyte, and anyone may ask for many ranges): past `max_bytes` the oldest go.
    """

    def __init__(self, max_bytes: int = 16 * 1024 * 1024) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()
        self._values: dict[K, tuple[bytes, datetime | None]] = {}

    def get(self, key: K, now: datetime) -> bytes | None:
        """The answer kept under `key`, unless its time has come (`now` at or past its `until`)."""
        found = self._values.get(key)
        if found is None:
            return None
        value, until = found
        return value if until is None or now < until else None

    def put(self, key: K, value: bytes, until: datetime | None = None) -> bytes:
        with self._lock:
            self._forget(key)
            self._values[key] = (value, until)
            self._bytes += len(value)
            while self._bytes > self._max_bytes and self._values:
                self._forget(next(iter(self._values)))
        return value

    def _forget(self, key: K) -> None:
        gone = self._values.pop(key, None)
        if gone is not None:
            self._bytes -= len(gone[0])
