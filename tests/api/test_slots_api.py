"""Slots: creation, the unique (date, start, orq) rule, capacity changes, closing, availability levels."""

from __future__ import annotations

from typing import Any

import pytest

from admit.domain.roles import Role
from tests.builders import Builders

ONE = {"date": "2025-11-21", "start_time": "10:00", "end_time": "11:00", "total_capacity": 200}


def create(make: Builders, orq: int, body: dict[str, Any]) -> Any:
    return make.client.post(
        "/api/reservation-slots/create", json={"orq": orq, **body}, headers=make.admin(orq).headers
    )


def test_an_admin_creates_one_slot_with_all_its_counts(make: Builders) -> None:
    orq = make.org()
    response = create(make, orq, ONE)
    assert response.status_code == 201
    (slot,) = response.json()["slots"]
    assert {k: v for k, v in slot.items() if k != "slot_id"} == {
        "date": "2025-11-21",
        "start_time": "10:00",
        "end_time": "11:00",
        "total_capacity": 200,
        "booked_count": 0,
        "available_count": 200,
        "status": "ACTIVE",
    }


def test_a_slot_or_a_schedule_without_a_capacity_gets_200_places(make: Builders) -> None:
    orq = make.org()
    one = {k: v for k, v in ONE.items() if k != "total_capacity"}
    (slot,) = create(make, orq, one).json()["slots"]
    assert (slot["total_capacity"], slot["available_count"]) == (200, 200)
    schedule = {
        "from": "2025-11-24",
        "to": "2025-11-24",
        "weekdays": [0],
        "first_start": "09:00",
        "last_start": "10:00",
        "every_minutes": 60,
        "duration_minutes": 45,
    }
    made = create(make, orq, schedule).json()["slots"]
    assert [s["total_capacity"] for s in made] == [200, 200]


def test_the_admin_pages_schedule_form_offers_200_places(make: Builders) -> None:
    page = make.client.get("/admin").text
    assert 'name="total_capacity" type="number" min="0" max="100000" value="200"' in page


def test_a_second_slot_at_the_same_date_and_start_is_a_duplicate(make: Builders) -> None:
    orq = make.org()
    create(make, orq, ONE)
    before = make.snapshot()
    response = create(make, orq, {**ONE, "end_time": "12:00"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "DUPLICATE_SLOT")
    assert make.snapshot() == before
    other = make.org("Zoo")
    assert create(make, other, ONE).status_code == 201  # the rule is per organization


def test_a_weekly_schedule_makes_its_slots_and_skips_existing_ones(make: Builders) -> None:
    orq = make.org()
    create(make, orq, {**ONE, "date": "2025-11-24", "start_time": "09:00", "end_time": "10:00"})  # a Monday
    schedule = {
        "from": "2025-11-24",
        "to": "2025-11-30",
        "weekdays": [0, 2],  # Mondays and Wednesdays
        "first_start": "09:00",
        "last_start": "11:00",
        "every_minutes": 60,
        "duration_minutes": 45,
        "total_capacity": 50,
    }
    response = create(make, orq, schedule)
    assert response.status_code == 201
    body = response.json()
    made = [(s["date"], s["start_time"], s["end_time"]) for s in body["slots"]]
    assert made == [
        ("2025-11-24", "10:00", "10:45"),
        ("2025-11-24", "11:00", "11:45"),
        ("2025-11-26", "09:00", "09:45"),
        ("2025-11-26", "10:00", "10:45"),
        ("2025-11-26", "11:00", "11:45"),
    ]
    assert body["skipped_existing"] == 1


WEEKLY = {
    "from": "2025-11-24",  # a Monday
    "to": "2025-11-25",
    "weekdays": [0],
    "first_start": "09:00",
    "last_start": "11:00",
    "every_minutes": 60,
    "duration_minutes": 45,
    "total_capacity": 50,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": [5, 6]}, "weekdays"),  # Monday and Tuesday hold no Saturday or Sunday
        ({"to": "2025-11-23"}, "to"),
        ({"last_start": "08:00"}, "last_start"),
    ],
)
def test_a_schedule_that_would_make_no_slots_is_refused_naming_why(
    make: Builders, change: dict[str, Any], field: str
) -> None:
    orq = make.org()
    make.admin(orq)
    before = make.snapshot()
    response = create(make, orq, {**WEEKLY, **change})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    assert field in response.json()["error"]["details"]["fields"]
    assert make.snapshot() == before
    assert create(make, orq, WEEKLY).status_code == 201  # the same schedule on a Monday makes slots


@pytest.mark.parametrize(
    "body",
    [
        {**ONE, "end_time": "10:00"},
        {**ONE, "end_time": "09:00"},
        {**ONE, "total_capacity": -1},
        {"date": "2025-11-21", "total_capacity": 5},
        {**ONE, "from": "2025-11-21"},
    ],
)
def test_slots_that_make_no_sense_are_refused_and_change_nothing(
    make: Builders, body: dict[str, Any]
) -> None:
    orq = make.org()
    make.admin(orq)
    before = make.snapshot()
    response = create(make, orq, body)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    assert make.snapshot() == before


def test_only_admins_of_the_organization_manage_slots(make: Builders) -> None:
    orq, other = make.org(), make.org("Zoo")
    slot = make.slot(orq)
    manager = make.staff(orq, Role.MANAGER)
    response = make.client.post(
        "/api/reservation-slots/create", json={"orq": orq, **ONE}, headers=manager.headers
    )
    assert response.status_code == 403
    assert (
        make.client.patch(
            f"/api/reservation-slots/{slot}", json={"status": "CLOSED"}, headers=manager.headers
        ).status_code
        == 403
    )
    foreign = make.client.patch(
        f"/api/reservation-slots/{slot}", json={"status": "CLOSED"}, headers=make.admin(other).headers
    )
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "SLOT_NOT_FOUND")
    assert make.slot_counts(slot) == (0, 0, "ACTIVE")


def test_capacity_never_goes_below_booked_and_the_status_follows_the_counts(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=3)
    make.reservation(orq, slot)
    make.reservation(orq, slot)
    headers = make.admin(orq).headers
    url = f"/api/reservation-slots/{slot}"

    below = make.client.patch(url, json={"total_capacity": 1}, headers=headers)
    assert (below.status_code, below.json()["error"]["code"]) == (409, "CAPACITY_BELOW_BOOKED")
    assert make.slot_counts(slot) == (2, 2, "ACTIVE")

    full = make.client.patch(url, json={"total_capacity": 2}, headers=headers).json()
    assert (full["total_capacity"], full["available_count"], full["status"]) == (2, 0, "FULL")
    roomy = make.client.patch(url, json={"total_capacity": 10}, headers=headers).json()
    assert roomy["status"] == "ACTIVE"


def test_a_misspelt_field_is_refused_naming_it_rather_than_ignored(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=3)
    headers = make.admin(orq).headers
    before = make.snapshot()
    for url, body in (
        (f"/api/reservation-slots/{slot}", {"capacity": 1}),  # the field is total_capacity
        ("/api/reservation-slots/create", {"orq": orq, **ONE, "capacity": 5}),
        ("/api/operator/login", {"username": "door", "password": "x", "remember_me": True}),
    ):
        response = make.client.request(
            "PATCH" if url.endswith(str(slot)) else "POST", url, json=body, headers=headers
        )
        assert response.status_code == 422, (url, response.text)
        fields = response.json()["error"]["details"]["fields"]
        assert set(fields) == set(body) - {"orq", *ONE, "username", "password"}, fields
    assert make.snapshot() == before


def test_a_closed_slot_takes_no_bookings_until_reopened(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=1)
    headers = make.admin(orq).headers
    closed = make.client.patch(f"/api/reservation-slots/{slot}", json={"status": "CLOSED"}, headers=headers)
    assert closed.json()["status"] == "CLOSED"
    code = make.ticket(orq, "ACTIVATED")
    refused = make.reserve([code], slot)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "SLOT_CLOSED")
    assert make.status_of(code) == "ACTIVATED"
    days = make.client.get(f"/api/reservation-slots/available?orq={orq}").json()["days"]
    assert days == []  # a closed slot is not offered

    make.client.patch(f"/api/reservation-slots/{slot}", json={"status": "ACTIVE"}, headers=headers)
    assert make.reserve([code], slot).status_code == 201
    assert make.slot_counts(slot) == (1, 1, "FULL")


def test_availability_needs_the_organization(make: Builders) -> None:
    response = make.client.get("/api/reservation-slots/available")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "MISSING_PARAMETER")


def test_day_levels_follow_the_share_of_free_places(make: Builders) -> None:
    orq = make.org()
    # 21 Nov: 10 of 10 free → available; 22 Nov: 5 of 10 free → limited; 23 Nov: 0 of 10 → full.
    # 24 Nov: 1 of 10 free (10 %) → limited; 25 Nov: 6 of 10 free → available.
    free = {"2025-11-21": 10, "2025-11-22": 5, "2025-11-23": 0, "2025-11-24": 1, "2025-11-25": 6}
    for day, places in free.items():
        slot = make.slot(orq, day=day, capacity=10)
        if places < 10:
            make.reserve([make.ticket(orq, "ACTIVATED") for _ in range(10 - places)], slot).raise_for_status()
    days = make.client.get(f"/api/reservation-slots/available?orq={orq}&to=2025-11-30").json()["days"]
    levels = {d["date"]: d["level"] for d in days}
    assert levels == {
        "2025-11-21": "available",
        "2025-11-22": "limited",
        "2025-11-23": "full",
        "2025-11-24": "limited",
        "2025-11-25": "available",
    }


def test_availability_lists_days_in_order_with_the_venue_time_zone(make: Builders) -> None:
    orq = make.org(timezone="Europe/Lisbon")
    make.slot(orq, day="2025-11-22", start="14:00", end="15:00")
    make.slot(orq, day="2025-11-22", start="09:00", end="10:00")
    make.slot(orq, day="2025-11-21")
    make.slot(orq, day="2026-03-01")  # beyond the default 90 days
    body = make.client.get(f"/api/reservation-slots/available?orq={orq}").json()
    assert body["orq"] == orq
    assert body["timezone"] == "Europe/Lisbon"
    assert [(d["date"], [s["start_time"] for s in d["slots"]]) for d in body["days"]] == [
        ("2025-11-21", ["10:00"]),
        ("2025-11-22", ["09:00", "14:00"]),
    ]
    wide = make.client.get(f"/api/reservation-slots/available?orq={orq}&from=2025-11-01&to=2026-03-31").json()
    assert [d["date"] for d in wide["days"]][-1] == "2026-03-01"


def test_a_tickets_availability_is_its_organizations_calendar(make: Builders) -> None:
    orq, other = make.org(), make.org("Zoo")
    make.slot(orq)
    make.slot(other, day="2025-11-25")
    code = make.ticket(orq, "ACTIVATED")
    days = make.client.get(f"/api/tickets/{code}/availability").json()["days"]
    assert [d["date"] for d in days] == ["2025-11-21"]
    missing = make.client.get("/api/tickets/ABCDEFGHJKMNPQRSTVWX/availability")
    assert missing.json()["error"]["code"] == "TICKET_NOT_FOUND"


def test_a_range_ending_before_it_starts_is_refused(make: Builders) -> None:
    orq = make.org()
    response = make.client.get(f"/api/reservation-slots/available?orq={orq}&from=2025-12-10&to=2025-12-01")
    assert (response.status_code, response.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
