"""Values kept in the process for a few seconds, so that hot paths do not re-read rows that rarely change."""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """A value is served for `seconds` after it was put, then read again by its owner."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        found = self._values.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, key: K, value: V) -> V:
        self._values[key] = (time.monotonic() + self.seconds, value)
        return value

    def forget(self, key: K) -> None:
        self._values.pop(key, None)
