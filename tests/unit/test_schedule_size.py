"""A weekly schedule is counted by arithmetic before it is made; the count is the made list's length."""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from admit.domain.calendar import schedule_size, schedule_starts

days = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))
clocks = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(
    first=days,
    length=st.integers(min_value=-3, max_value=60),
    weekdays=st.sets(st.integers(min_value=0, max_value=6)),
    first_start=clocks,
    last_start=clocks,
    every=st.integers(min_value=5, max_value=24 * 60).map(lambda minutes: timedelta(minutes=minutes)),
)
def test_the_counted_size_of_a_schedule_is_the_number_of_its_starts(
    first: date, length: int, weekdays: set[int], first_start: time, last_start: time, every: timedelta
) -> None:
    last = first + timedelta(days=length)
    made = schedule_starts(
        first=first, last=last, weekdays=weekdays, first_start=first_start, last_start=last_start, every=every
    )
    counted = schedule_size(
        first=first, last=last, weekdays=weekdays, first_start=first_start, last_start=last_start, every=every
    )
    assert counted == len(made)


def test_a_century_of_slots_every_five_minutes_is_counted_without_making_them() -> None:
    size = schedule_size(
        first=date(2026, 1, 1),
        last=date(2125, 12, 31),
        weekdays=set(range(7)),
        first_start=time(0, 0),
        last_start=time(23, 55),
        every=timedelta(minutes=5),
    )
    assert size == ((date(2125, 12, 31) - date(2026, 1, 1)).days + 1) * 288
