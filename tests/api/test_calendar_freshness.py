"""The calendar is kept as written between changes, and every change shows in the very next read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.settings import Settings
from tests.builders import Builders

TOMORROW = "2025-11-21"  # by the pinned clock, Thursday 20 November 09:00 in Amsterdam


def calendar(client: TestClient, orq: int) -> dict[str, dict[str, Any]]:
    """Each listed slot's JSON by its start, as `date start`."""
    response = client.get(f"/api/reservation-slots/available?orq={orq}")
    assert response.status_code == 200, response.text
    return {
        f"{slot['date']} {slot['start_time']}": slot
        for day in response.json()["days"]
        for slot in day["slots"]
    }


def counts(client: TestClient, orq: int, start: str) -> tuple[int, int, str]:
    slot = calendar(client, orq)[start]
    return slot["booked_count"], slot["total_capacity"], slot["status"]


def test_a_booking_shows_in_the_next_calendar_read(make: Builders) -> None:
    orq = make.org()
    slot_id = make.slot(orq, TOMORROW, capacity=2)
    assert counts(make.client, orq, f"{TOMORROW} 10:00") == (0, 2, "ACTIVE")
    assert counts(make.client, orq, f"{TOMORROW} 10:00") == (0, 2, "ACTIVE")  # read again, unchanged
    make.reservation(orq, slot_id)
    assert counts(make.client, orq, f"{TOMORROW} 10:00") == (1, 2, "ACTIVE")
    make.reservation(orq, slot_id)
    assert counts(make.client, orq, f"{TOMORROW} 10:00") == (2, 2, "FULL")


def test_a_move_and_a_cancel_show_in_the_next_calendar_read(make: Builders) -> None:
    orq = make.org()
    first = make.slot(orq, TOMORROW)
    second = make.slot(orq, "2025-11-22", "14:00", "15:00")
    _, reservation_id = make.reservation(orq, first)
    assert counts(make.client, orq, f"{TOMORROW} 10:00")[0] == 1
    moved = make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": second})
    assert moved.status_code == 200, moved.text
    assert counts(make.client, orq, f"{TOMORROW} 10:00")[0] == 0
    assert counts(make.client, orq, "2025-11-22 14:00")[0] == 1
    cancelled = make.client.delete(f"/api/reservations/{reservation_id}")
    assert cancelled.status_code == 200, cancelled.text
    assert counts(make.client, orq, "2025-11-22 14:00")[0] == 0


def test_a_slot_edit_and_a_new_slot_show_in_the_next_calendar_read(make: Builders) -> None:
    orq = make.org()
    slot_id = make.slot(orq, TOMORROW, capacity=10)
    assert counts(make.client, orq, f"{TOMORROW} 10:00") == (0, 10, "ACTIVE")
    headers = make.admin(orq).headers
    patched = make.client.patch(
        f"/api/reservation-slots/{slot_id}", json={"total_capacity": 4}, headers=headers
    )
    assert patched.status_code == 200, patched.text
    assert counts(make.client, orq, f"{TOMORROW} 10:00") == (0, 4, "ACTIVE")
    make.slot(orq, TOMORROW, "12:00", "13:00")
    assert set(calendar(make.client, orq)) == {f"{TOMORROW} 10:00", f"{TOMORROW} 12:00"}
    closed = make.client.patch(
        f"/api/reservation-slots/{slot_id}", json={"status": "CLOSED"}, headers=headers
    )
    assert closed.status_code == 200, closed.text
    assert set(calendar(make.client, orq)) == {f"{TOMORROW} 12:00"}


def test_a_slot_of_today_leaves_the_calendar_when_it_starts(make: Builders, clock: FrozenClock) -> None:
    orq = make.org()
    make.slot(orq, "2025-11-20", "09:30", "10:30")
    make.slot(orq, "2025-11-20", "11:00", "12:00")
    assert set(calendar(make.client, orq)) == {"2025-11-20 09:30", "2025-11-20 11:00"}
    clock.advance(timedelta(minutes=29))  # 09:29: nothing has started yet
    assert set(calendar(make.client, orq)) == {"2025-11-20 09:30", "2025-11-20 11:00"}
    clock.advance(timedelta(minutes=1))  # 09:30: nothing changed in the database, but a slot started
    assert set(calendar(make.client, orq)) == {"2025-11-20 11:00"}


def test_a_slot_of_tomorrow_leaves_the_calendar_when_it_starts_tomorrow(
    make: Builders, clock: FrozenClock
) -> None:
    orq = make.org()
    make.slot(orq, TOMORROW, "08:00", "09:00")
    make.slot(orq, TOMORROW, "10:00", "11:00")
    read = f"/api/reservation-slots/available?orq={orq}&from={TOMORROW}&to={TOMORROW}"
    assert len(make.client.get(read).json()["days"][0]["slots"]) == 2
    clock.advance(timedelta(hours=24))  # 21 November, 09:00: the 08:00 slot has started
    (day,) = make.client.get(read).json()["days"]
    assert [slot["start_time"] for slot in day["slots"]] == ["10:00"]


@pytest.fixture
def second_server(settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    """Another server process on the same database, with calendars of its own."""
    app = create_app(settings, clock=clock)
    with TestClient(app) as other:
        yield other
    context_of(app).engine.dispose()


def test_a_booking_through_one_server_shows_in_the_next_read_from_another(
    make: Builders, second_server: TestClient
) -> None:
    orq = make.org()
    slot_id = make.slot(orq, TOMORROW, capacity=3)
    assert counts(second_server, orq, f"{TOMORROW} 10:00") == (0, 3, "ACTIVE")
    make.reservation(orq, slot_id)
    assert counts(second_server, orq, f"{TOMORROW} 10:00") == (1, 3, "ACTIVE")


def test_a_tickets_calendar_follows_bookings_too(make: Builders) -> None:
    orq = make.org()
    slot_id = make.slot(orq, TOMORROW, capacity=5)
    code = make.ticket(orq, "ACTIVATED")
    read = f"/api/tickets/{code}/availability"
    assert make.client.get(read).json()["days"][0]["slots"][0]["booked_count"] == 0
    make.reservation(orq, slot_id)
    assert make.client.get(read).json()["days"][0]["slots"][0]["booked_count"] == 1
