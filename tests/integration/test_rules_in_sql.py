"""Each rule that runs both in Python and in the database gives the same answer in both, on each database.

The SQL form is evaluated by the database itself, over values bound with the columns' own types, so
that SQLite's text dates and times and PostgreSQL's native ones are both exercised.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine, literal, select

from admit.db.models import ReservationSlot, Ticket
from admit.db.rules import SQL
from admit.domain.calendar import (
    SlotStatus,
    SlotTimes,
    has_room,
    room_rule,
    slot_status_rule,
    status_after_booking,
)
from admit.domain.entry import entry_closed, entry_closed_rule
from admit.domain.lifecycle import validity_passed, validity_passed_rule
from admit.domain.policy import EntryWindow

DAY = date(2025, 11, 20)
EXAMPLES = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def connection(database_url: str) -> Iterator[Connection]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def in_sql(connection: Connection, expression: Any) -> Any:
    return connection.execute(select(expression)).scalar_one()


days = st.integers(min_value=-3, max_value=3).map(lambda n: DAY + timedelta(days=n))
minutes = st.integers(min_value=0, max_value=24 * 60 - 1).map(lambda n: time(n // 60, n % 60))
moments = st.builds(
    lambda day, clock, micro: datetime.combine(day, clock).replace(microsecond=micro),
    days,
    minutes,
    st.sampled_from([0, 1, 999_999]),  # just after a minute, and a hair before the next
)
windows = st.one_of(
    st.just(EntryWindow()),
    st.builds(
        EntryWindow,
        minutes_before_start=st.integers(min_value=0, max_value=120),
        minutes_after_end=st.one_of(st.none(), st.integers(min_value=0, max_value=3 * 24 * 60)),
    ),
)


@EXAMPLES
@given(
    current=st.sampled_from(SlotStatus),
    booked=st.integers(min_value=0, max_value=60),
    total=st.integers(min_value=0, max_value=50),
)
def test_slot_status_after_a_booking_change_is_the_same_in_sql(
    connection: Connection, current: SlotStatus, booked: int, total: int
) -> None:
    expected = status_after_booking(current, booked=booked, total=total)
    sql = slot_status_rule(
        SQL,
        current=literal(current, ReservationSlot.status.type),
        booked=literal(booked),
        total=literal(total),
    )
    assert SlotStatus(in_sql(connection, sql)) is expected


@EXAMPLES
@given(
    status=st.sampled_from(SlotStatus),
    booked=st.integers(min_value=0, max_value=50),
    total=st.integers(min_value=0, max_value=50),
    places=st.integers(min_value=1, max_value=50),
)
def test_room_for_more_places_is_the_same_in_sql(
    connection: Connection, status: SlotStatus, booked: int, total: int, places: int
) -> None:
    expected = has_room(status, booked=booked, total=total, places=places)
    sql = room_rule(
        SQL,
        status=literal(status, ReservationSlot.status.type),
        booked=literal(booked),
        total=literal(total),
        places=literal(places),
    )
    assert bool(in_sql(connection, sql)) is expected


@EXAMPLES
@given(slot_day=days, slot_end=minutes, now_local=moments, window=windows)
def test_entry_window_closed_is_the_same_in_sql(
    connection: Connection, slot_day: date, slot_end: time, now_local: datetime, window: EntryWindow
) -> None:
    slot = SlotTimes(slot_day, time(0, 0), slot_end)
    expected = entry_closed(slot, window, now_local)
    sql = entry_closed_rule(
        SQL,
        slot_date=literal(slot_day, ReservationSlot.date.type),
        slot_end=literal(slot_end, ReservationSlot.end_time.type),
        now_local=now_local,
        window=window,
    )
    assert bool(in_sql(connection, sql)) is expected


@EXAMPLES
@given(valid_until=st.one_of(st.none(), days), today=days)
def test_product_validity_passed_is_the_same_in_sql(
    connection: Connection, valid_until: date | None, today: date
) -> None:
    expected = validity_passed(valid_until, today)
    sql = validity_passed_rule(SQL, valid_until=literal(valid_until, Ticket.valid_until.type), today=today)
    # NULL, for a ticket without a validity, is not "passed": a WHERE keeps only true.
    assert bool(in_sql(connection, sql)) is expected


def test_entry_closes_at_the_end_of_the_reserved_day_under_the_day_window() -> None:
    slot = SlotTimes(DAY, time(10, 0), time(11, 0))
    assert not entry_closed(slot, EntryWindow(), datetime.combine(DAY, time(23, 59, 59)))
    assert entry_closed(slot, EntryWindow(), datetime.combine(DAY + timedelta(days=1), time(0, 0)))


def test_entry_closes_minutes_after_the_slot_ends_even_past_midnight() -> None:
    slot = SlotTimes(DAY, time(23, 0), time(23, 30))
    window = EntryWindow(minutes_before_start=15, minutes_after_end=45)
    assert not entry_closed(slot, window, datetime.combine(DAY + timedelta(days=1), time(0, 14)))
    assert entry_closed(slot, window, datetime.combine(DAY + timedelta(days=1), time(0, 15)))
