"""The threads password checks run on: few of them, and behind the door in the CPU's queue."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio

T = TypeVar("T")

# A check takes tens of milliseconds of a core. At this nice value a busy core gives the door's
# threads and the database about ten times the CPU time of a check.
NICENESS = 10


class HashingThreads:
    def __init__(self, threads: int) -> None:
        self.slots = anyio.CapacityLimiter(threads)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="hashing", initializer=_behind_the_door)

    async def run(self, work: Callable[[], T], wait_seconds: float) -> T | None:
        """`work()` on a hashing thread, or None when none frees up within `wait_seconds`.

        Once started, the work runs to its end: a timeout only ends the wait for a thread.
        """
        acquired = False
        with anyio.move_on_after(wait_seconds):
            await self.slots.acquire()
            acquired = True
        if not acquired:
            return None
        try:
            with anyio.CancelScope(shield=True):
                result = await asyncio.get_running_loop().run_in_executor(self._pool, work)
        finally:
            self.slots.release()
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def _behind_the_door() -> None:
    # On Linux a nice value belongs to one thread, so only the hashing threads are lowered.
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
