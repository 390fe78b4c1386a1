"""Venue time: dates and times at the door are the organization's local ones."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def is_known_timezone(name: str) -> bool:
    if name not in _known_zones():
        return False
    try:
        zone(name)
    except ZoneInfoNotFoundError:
        return False
    return True


def local_now(now: datetime, timezone: str) -> datetime:
    """`now` (aware) as a naive wall-clock time at the venue."""
    return now.astimezone(zone(timezone)).replace(tzinfo=None)


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())
