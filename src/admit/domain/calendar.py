"""Slots and the availability calendar: status, day levels, what is still on offer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from admit.domain.rules import PY, Ops

# A slot's places when its creator names none (US-015's schema: `total_capacity INT DEFAULT 200`).
DEFAULT_CAPACITY = 200


class SlotStatus(StrEnum):
    ACTIVE = "ACTIVE"
    FULL = "FULL"
    CLOSED = "CLOSED"


class DayLevel(StrEnum):
    AVAILABLE = "available"  # more than half free
    LIMITED = "limited"  # 10-50 % free
    FULL = "full"  # under 10 % free, or nothing


def slot_status_rule(ops: Ops, *, current: Any, booked: Any, total: Any) -> Any:
    """A closed slot stays closed; otherwise it is FULL exactly when no place is left.

    The one definition of a slot's status after `booked_count` changes: `status_after_booking` in
    Python, and the conditional UPDATE that takes places (services.capacity) in SQL.
    """
    return ops.first(
        (current == SlotStatus.CLOSED, current),
        (booked >= total, SlotStatus.FULL),
        otherwise=SlotStatus.ACTIVE,
    )


def status_after_booking(current: SlotStatus, *, booked: int, total: int) -> SlotStatus:
    status: SlotStatus = slot_status_rule(PY, current=current, booked=booked, total=total)
    return status


def room_rule(ops: Ops, *, status: Any, booked: Any, total: Any, places: Any) -> Any:
    """A slot takes `places` more while it is not closed and they fit in its capacity.

    Capacity is a hard limit: the conditional UPDATE that takes places (services.capacity) decides
    with this rule in SQL, under the row's lock; `has_room` is the early check on the row as read.
    """
    return ops.all(status != SlotStatus.CLOSED, booked + places <= total)


def has_room(status: SlotStatus, *, booked: int, total: int, places: int) -> bool:
    return bool(room_rule(PY, status=status, booked=booked, total=total, places=places))


@dataclass(frozen=True)
class SlotTimes:
    date: date
    start_time: time
    end_time: time

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.date, self.start_time)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.date, self.end_time)


def has_started(slot: SlotTimes, now_local: datetime) -> bool:
    """A slot is bookable until it starts, in the venue's own time."""
    return now_local >= slot.starts_at


def day_level(capacities: Iterable[tuple[int, int]]) -> DayLevel:
    """The level of a day from its slots' (total_capacity, booked_count)."""
    total = booked = 0
    for capacity, taken in capacities:
        total += capacity
        booked += taken
    free = total - booked
    if total <= 0 or free * 10 < total:
        return DayLevel.FULL
    if free * 2 > total:
        return DayLevel.AVAILABLE
    return DayLevel.LIMITED


DEFAULT_RANGE_DAYS = 90
MAX_RANGE_DAYS = 366


def schedule_size(
    *, first: date, last: date, weekdays: set[int], first_start: time, last_start: time, every: timedelta
) -> int:
    """How many slots `schedule_starts` would give, counted without making them (a century is cheap)."""
    if last < first or last_start < first_start:
        return 0
    weeks, extra_days = divmod((last - first).days + 1, 7)
    days = weeks * len(weekdays) + sum((first.weekday() + i) % 7 in weekdays for i in range(extra_days))
    span = datetime.combine(first, last_start) - datetime.combine(first, first_start)
    return days * (span // every + 1)


def schedule_starts(
    *, first: date, last: date, weekdays: set[int], first_start: time, last_start: time, every: timedelta
) -> list[tuple[date, time]]:
    """(date, start) pairs of a weekly schedule; weekdays are 0 = Monday … 6 = Sunday."""
    starts: list[tuple[date, time]] = []
    day = first
    while day <= last:
        if day.weekday() in weekdays:
            moment = datetime.combine(day, first_start)
            while moment.time() <= last_start and moment.date() == day:
                starts.append((day, moment.time()))
                moment += every
        day += timedelta(days=1)
    return starts
