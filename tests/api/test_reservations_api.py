"""Reservations over HTTP: booking, batches, eligibility, contact rules, moves and cancels by policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from admit.clock import FrozenClock
from tests.builders import CONTACT, Builders


def policy(make: Builders, orq: int, **changes: Any) -> None:
    url = f"/api/organizations/{orq}/policy"
    make.client.patch(url, json=changes, headers=make.admin(orq).headers).raise_for_status()


def test_reserving_an_activated_ticket_takes_a_place_and_marks_it_reserved(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=200)
    code = make.ticket(orq, "ACTIVATED")
    response = make.client.post(
        "/api/reservations/create", json={"ticket_code": code, "slot_id": slot, **CONTACT}
    )
    assert response.status_code == 201
    (made,) = response.json()["reservations"]
    assert made["ticket_code"] == code
    assert (made["slot_id"], made["date"], made["start_time"], made["end_time"]) == (
        slot,
        "2025-11-21",
        "10:00",
        "11:00",
    )
    assert made["status"] == "RESERVED"
    assert made["qr_code_url"].endswith(f"/api/reservations/{made['reservation_id']}/qr.png")
    assert made["calendar_url"].endswith(f"/api/reservations/{made['reservation_id']}/calendar.ics")
    assert len(made["reservation_id"]) >= 22  # 128 random bits

    assert make.slot_counts(slot) == (1, 1, "ACTIVE")
    status = make.client.get(f"/api/tickets/{code}/status").json()
    assert status["status"] == "RESERVED"
    assert status["reservation"] == {
        "reservation_id": made["reservation_id"],
        "slot_id": slot,
        "date": "2025-11-21",
        "start_time": "10:00",
        "end_time": "11:00",
        "status": "RESERVED",
    }


def test_a_reservation_is_read_back_by_its_id_with_slot_ticket_and_contact(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq)
    code, reservation_id = make.reservation(orq, slot)
    body = make.client.get(f"/api/reservations/{reservation_id}").json()
    assert body["ticket"] == {"code": code, "status": "RESERVED"}
    assert body["slot"]["slot_id"] == slot
    assert (body["customer_email"], body["customer_phone"]) == ("visitor@example.com", "+31201234567")
    assert body["venue"] == {"name": "Museum", "timezone": "Europe/Amsterdam"}
    missing = make.client.get("/api/reservations/not-a-reservation")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "RESERVATION_NOT_FOUND")


def test_a_batch_books_all_tickets_into_one_slot(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=3)
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(3)]
    response = make.reserve(codes, slot)
    assert response.status_code == 201
    assert [r["ticket_code"] for r in response.json()["reservations"]] == codes
    assert make.slot_counts(slot) == (3, 3, "FULL")


def test_a_batch_is_all_or_nothing_when_one_ticket_cannot_reserve(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq)
    good = [make.ticket(orq, "ACTIVATED") for _ in range(2)]
    inactive = make.ticket(orq, "INACTIVE")
    before = make.snapshot()
    response = make.reserve([*good, inactive], slot)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "NOT_ACTIVATED")
    assert make.snapshot() == before


def test_a_batch_larger_than_the_room_left_is_slot_full_with_alternatives_that_fit_it(
    make: Builders,
) -> None:
    orq = make.org()
    wanted = make.slot(orq, day="2025-11-22", start="12:00", end="13:00", capacity=2)
    make.reservation(orq, wanted)
    too_small = make.slot(orq, day="2025-11-22", start="13:00", end="14:00", capacity=2)
    make.reservation(orq, too_small)  # one place left: not enough for two
    near = [
        make.slot(orq, day="2025-11-22", start=f"{h:02d}:00", end=f"{h:02d}:30", capacity=5)
        for h in (9, 10, 11, 14, 15, 16, 17)
    ]
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(2)]
    before = make.snapshot()
    response = make.reserve(codes, wanted)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "SLOT_FULL"
    offered = [(a["start_time"], a["available_count"]) for a in error["details"]["alternatives"]]
    # The five nearest with room for both, nearest first (earlier wins a tie); 13:00 has too little room.
    assert offered == [("11:00", 5), ("10:00", 5), ("14:00", 5), ("09:00", 5), ("15:00", 5)]
    assert {a["slot_id"] for a in error["details"]["alternatives"]} <= set(near)
    assert make.snapshot() == before


@pytest.mark.parametrize(
    ("state", "error"),
    [
        ("INACTIVE", "NOT_ACTIVATED"),
        ("PENDING_PAYMENT", "PAYMENT_PENDING"),
        ("VOID", "VOID"),
    ],
)
def test_only_activated_tickets_may_reserve(make: Builders, state: str, error: str) -> None:
    orq = make.org()
    slot = make.slot(orq)
    response = make.reserve([make.ticket(orq, state)], slot)
    assert (response.status_code, response.json()["error"]["code"]) == (409, error)
    assert make.slot_counts(slot) == (0, 0, "ACTIVE")


def test_a_ticket_holds_one_live_reservation(make: Builders) -> None:
    orq = make.org()
    first, second = make.slot(orq), make.slot(orq, start="12:00", end="13:00")
    code, _ = make.reservation(orq, first)
    response = make.reserve([code], second)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "ALREADY_RESERVED")
    assert make.slot_counts(second) == (0, 0, "ACTIVE")


@pytest.mark.parametrize(
    ("contact", "fields"),
    [
        ({"customer_email": "not-an-email"}, {"customer_email"}),
        ({"customer_phone": "020 12"}, {"customer_phone"}),  # too short for a Dutch number
        ({"customer_phone": "+1 555"}, {"customer_phone"}),
        ({"customer_email": "a@b", "customer_phone": "12"}, {"customer_email", "customer_phone"}),
    ],
)
def test_contact_details_are_validated_and_the_wrong_fields_named(
    make: Builders, contact: dict[str, str], fields: set[str]
) -> None:
    orq = make.org()
    slot = make.slot(orq)
    code = make.ticket(orq, "ACTIVATED")
    before = make.snapshot()
    response = make.reserve([code], slot, **contact)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_CONTACT"
    assert set(error["details"]["fields"]) == fields
    assert make.snapshot() == before


def test_a_slot_of_another_organization_is_not_found(make: Builders) -> None:
    orq, other = make.org(), make.org("Zoo")
    foreign = make.slot(other)
    response = make.reserve([make.ticket(orq, "ACTIVATED")], foreign)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "SLOT_NOT_FOUND")
    assert make.slot_counts(foreign) == (0, 0, "ACTIVE")


def test_a_slot_that_has_started_cannot_be_booked(make: Builders) -> None:
    orq = make.org()
    started = make.slot(orq, day="2025-11-20", start="08:30", end="09:30")  # it is 09:00 there
    response = make.reserve([make.ticket(orq, "ACTIVATED")], started)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "SLOT_IN_PAST")


def test_moving_takes_the_new_place_and_frees_the_old_one(make: Builders) -> None:
    orq = make.org()
    old = make.slot(orq, day="2025-11-25")
    new = make.slot(orq, day="2025-11-26", capacity=1)
    code, reservation_id = make.reservation(orq, old)
    response = make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": new})
    assert response.status_code == 200
    assert (response.json()["reservation_id"], response.json()["slot_id"]) == (reservation_id, new)
    assert make.slot_counts(old) == (0, 0, "ACTIVE")
    assert make.slot_counts(new) == (1, 1, "FULL")
    assert make.status_of(code) == "RESERVED"
    assert [row[0] for row in make.audit(code)][-1] == "move"


def test_a_move_into_a_full_slot_changes_nothing(make: Builders) -> None:
    orq = make.org()
    old, full = make.slot(orq, day="2025-11-25"), make.slot(orq, day="2025-11-26", capacity=1)
    make.reservation(orq, full)
    _, reservation_id = make.reservation(orq, old)
    before = make.snapshot()
    response = make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": full})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "SLOT_FULL")
    assert make.snapshot() == before


def test_cancelling_frees_the_place_and_the_ticket_may_book_again(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, day="2025-11-25", capacity=1)
    code, reservation_id = make.reservation(orq, slot)
    response = make.client.delete(f"/api/reservations/{reservation_id}")
    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert make.status_of(code) == "ACTIVATED"
    assert make.slot_counts(slot) == (0, 0, "ACTIVE")
    again = make.client.delete(f"/api/reservations/{reservation_id}")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "NOT_RESERVED")
    assert make.reserve([code], slot).status_code == 201


def test_under_the_no_changes_policy_reservations_are_fixed(make: Builders) -> None:
    orq = make.org()
    policy(make, orq, reservation_changes="none")
    old, new = make.slot(orq, day="2025-11-25"), make.slot(orq, day="2025-11-26")
    _, reservation_id = make.reservation(orq, old)
    before = make.snapshot()
    moved = make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": new})
    cancelled = make.client.delete(f"/api/reservations/{reservation_id}")
    assert (moved.status_code, moved.json()["error"]["code"]) == (403, "CHANGES_NOT_ALLOWED")
    assert (cancelled.status_code, cancelled.json()["error"]["code"]) == (403, "CHANGES_NOT_ALLOWED")
    assert make.snapshot() == before


def test_changes_close_at_the_cutoff_before_the_slot_starts(make: Builders, clock: FrozenClock) -> None:
    orq = make.org()
    policy(make, orq, change_cutoff_hours=24)
    old = make.slot(orq, day="2025-11-22", start="10:00", end="11:00")
    new = make.slot(orq, day="2025-11-23")
    _, reservation_id = make.reservation(orq, old)
    clock.set(clock.now().replace(day=21, hour=8, minute=59))  # 09:59 in Amsterdam: 24 h and 1 min before
    assert make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": new}).status_code == 200
    make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": old}).raise_for_status()
    clock.advance(timedelta(minutes=1))  # exactly 24 h before 10:00 on the 22nd
    response = make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": new})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "CHANGE_CUTOFF_PASSED")
    cancel = make.client.delete(f"/api/reservations/{reservation_id}")
    assert cancel.json()["error"]["code"] == "CHANGE_CUTOFF_PASSED"


def test_when_cancellation_is_not_allowed_a_move_still_is(make: Builders) -> None:
    orq = make.org()
    policy(make, orq, cancellation_allowed=False)
    old, new = make.slot(orq, day="2025-11-25"), make.slot(orq, day="2025-11-26")
    _, reservation_id = make.reservation(orq, old)
    cancel = make.client.delete(f"/api/reservations/{reservation_id}")
    assert (cancel.status_code, cancel.json()["error"]["code"]) == (403, "CANCELLATION_NOT_ALLOWED")
    assert make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": new}).status_code == 200


def test_voiding_a_reserved_ticket_frees_its_place(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=1)
    code, reservation_id = make.reservation(orq, slot)
    make.client.post(f"/api/tickets/{code}/void", headers=make.admin(orq).headers).raise_for_status()
    assert make.slot_counts(slot) == (0, 0, "ACTIVE")
    assert make.client.get(f"/api/reservations/{reservation_id}").json()["status"] == "CANCELLED"


def test_the_qr_code_and_calendar_are_served_for_the_reservation(make: Builders) -> None:
    orq = make.org()
    code, reservation_id = make.reservation(orq, make.slot(orq))
    png = make.client.get(f"/api/reservations/{reservation_id}/qr.png")
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["cache-control"] == "private, no-store"
    svg = make.client.get(f"/api/reservations/{reservation_id}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content and code.encode() in svg.content  # the title names the ticket
    ics = make.client.get(f"/api/reservations/{reservation_id}/calendar.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert b"DTSTART;TZID=Europe/Amsterdam:20251121T100000" in ics.content
    assert f"UID:{reservation_id}@admit".encode() in ics.content
