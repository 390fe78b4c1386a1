"""The one source of "now"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Real time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that stands still until moved; for demos (ADMIT_FROZEN_NOW) and tests."""

    def __init__(self, at: datetime) -> None:
        self.set(at)

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a frozen time needs a UTC offset")
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def now(self) -> datetime:
        return self._at


def clock_for(frozen_now: datetime | None) -> Clock:
    return FrozenClock(frozen_now) if frozen_now is not None else Clock()
