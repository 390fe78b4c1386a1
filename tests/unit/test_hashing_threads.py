"""Password checks run behind the door: on their own threads, at a lower CPU priority, few at once."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import anyio
import pytest

from admit.security.hashing import NICENESS, HashingThreads

T = TypeVar("T")


def apart(work: Callable[[], T]) -> T:
    """`work` on a thread of its own, where no event loop runs (the browser tests' driver keeps one in
    the main thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work).result()


def _own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="a nice value of one thread alone is a Linux feature")
def test_checks_run_at_a_lower_priority_and_the_callers_thread_keeps_its_own() -> None:
    hashing = HashingThreads(1)
    try:

        def around() -> tuple[int, int | None, int]:
            return _own_niceness(), anyio.run(hashing.run, _own_niceness, 1.0), _own_niceness()

        before, inside, after = apart(around)
        assert inside == min(before + NICENESS, 19)
        assert after == before
    finally:
        hashing.close()


def test_a_check_that_gets_no_thread_in_time_is_not_run() -> None:
    hashing = HashingThreads(1)
    ran: list[str] = []

    async def both() -> tuple[str | None, str | None]:
        release = threading.Event()

        def slow() -> str:
            release.wait(5)
            return "first"

        def second() -> str:
            ran.append("second")
            return "second"

        results: list[str | None] = [None, None]

        async def first() -> None:
            results[0] = await hashing.run(slow, 1.0)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first)
            await anyio.sleep(0.05)
            results[1] = await hashing.run(second, 0.1)
            release.set()
        return results[0], results[1]

    try:
        assert apart(lambda: anyio.run(both)) == ("first", None)
        assert ran == []
    finally:
        hashing.close()
