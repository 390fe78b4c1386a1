"""The live dashboard's signal: "what an organization's dashboard shows has changed", across processes.

A change (a scan, a verification, a booking) bumps the organization's counter in the database after it
commits, in a short transaction of its own; each process reads the counters of the organizations it has
dashboards open for at most every `interval` seconds (one query for all of them), and a dashboard reads
fresh stats when its counter moved. A scan on one node so reaches a dashboard on another within about
`interval` plus one stats read.

A process bumps an organization's counter at most once per `coalesce` seconds: at the door's peak a scan
need not write a row that every other scan of its venue also writes. A change whose bump was skipped
committed less than `coalesce` after the bump that was made, and a dashboard that saw that bump reads
the stats once more at least `coalesce` after it saw it (api/live.py), so it is not missed.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import anyio
import structlog
from starlette.concurrency import run_in_threadpool

log = structlog.get_logger()

INTERVAL = 0.5  # seconds between reads of the counters, per process
COALESCE = 0.25  # seconds during which a process's further changes of one organization bump nothing


class LiveSignal:
    def __init__(
        self,
        *,
        bump: Callable[[int], None],
        read: Callable[[list[int]], dict[int, int]],
        streams_per_org: int,
        interval: float = INTERVAL,
        coalesce: float = COALESCE,
    ) -> None:
        self._bump, self._read = bump, read
        self.streams_per_org = streams_per_org
        self.interval, self._coalesce = interval, coalesce
        self._bumped: dict[int, float] = {}
        self._bump_lock = threading.Lock()
        self._streams: Counter[int] = Counter()
        self._versions: dict[int, int] = {}
        self._next_read = 0.0
        self._read_lock = anyio.Lock()

    def due(self, orq: int) -> bool:
        """Whether a change of `orq` now would bump its counter: at the door's peak most would not, and
        a scan then need not even schedule the call. `touched` decides again under its lock."""
        return time.monotonic() - self._bumped.get(orq, -self._coalesce) >= self._coalesce

    def touched(self, orq: int) -> None:
        """A change of `orq`'s dashboard has committed (called from a request's thread)."""
        with self._bump_lock:
            if not self.due(orq):
                return
            self._bumped[orq] = time.monotonic()
        try:
            self._bump(orq)
        except Exception:
            # The change itself is committed; the dashboards see it at their next full refresh.
            log.warning("live.bump_failed", orq=orq, exc_info=True)

    def has_room(self, orq: int) -> bool:
        return self._streams[orq] < self.streams_per_org

    @contextmanager
    def stream(self, orq: int) -> Iterator[bool]:
        """One of the organization's stream places in this process, for as long as a stream lasts.

        Yields False when there is none left (streams that began at the same moment took them).
        """
        if not self.has_room(orq):
            yield False
            return
        self._streams[orq] += 1
        try:
            yield True
        finally:
            self._streams[orq] -= 1
            if self._streams[orq] <= 0:
                del self._streams[orq]

    async def version(self, orq: int) -> int:
        """The organization's counter as of `interval` ago at most; one read serves every stream."""
        async with self._read_lock:
            if time.monotonic() >= self._next_read or orq not in self._versions:
                orqs = sorted(set(self._streams) | {orq})
                try:
                    self._versions = await run_in_threadpool(self._read, orqs)
                finally:
                    self._next_read = time.monotonic() + self.interval
        return self._versions.get(orq, 0)
