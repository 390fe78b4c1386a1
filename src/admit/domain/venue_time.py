"""Venue time: dates and times at the door are the organization's local ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# The dates the service works with. Far enough inside Python's year 1 to 9999 that a day's bounds, a
# cutoff of a year or a fortnight's alternatives never step outside them, wide enough for any venue.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)

MISSING_LOCAL_TIME = "does not exist in the venue's time zone that day (the clocks jump over it)"
AMBIGUOUS_LOCAL_TIME = "happens twice in the venue's time zone that day (the clocks go back over it)"


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


def is_supported_day(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def local_now(now: datetime, timezone: str) -> datetime:
    """`now` (aware) as a naive wall-clock time at the venue."""
    return now.astimezone(zone(timezone)).replace(tzinfo=None)


def local_time_problem(day: date, clock: time, timezone: str) -> str | None:
    """Why a wall-clock time cannot be a slot's start or end at the venue, or None if it can.

    On the night the clocks go forward an hour of wall-clock times never happens; on the night they go
    back an hour happens twice. Either way "02:30" names no single instant, so a slot there could not
    be told apart from its neighbours at the door, in the calendar file or in the expiry sweep.
    """
    tz = zone(timezone)
    first = datetime.combine(day, clock, tz)
    second = first.replace(fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    # A time in the gap does not come back as itself from UTC; one in the overlap does.
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != first.replace(tzinfo=None):
        return MISSING_LOCAL_TIME
    return AMBIGUOUS_LOCAL_TIME


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def slot_time_problems(day: date, start: time, end: time, timezone: str) -> dict[str, str]:
    """{field: why} for a slot's start or end that is not exactly one instant at the venue."""
    problems = {}
    for field, clock in (("start_time", start), ("end_time", end)):
        why = local_time_problem(day, clock, timezone)
        if why is not None:
            problems[field] = f"{clock.strftime('%H:%M')} on {day.isoformat()} {why}"
    return problems
