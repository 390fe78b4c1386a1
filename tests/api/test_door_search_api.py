"""Finding a visitor without their QR: today's and tomorrow's bookings by e-mail, phone or code's end."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from admit.clock import FrozenClock
from admit.domain.roles import Role
from tests.builders import Builders, Staff

# The pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
TODAY, TOMORROW, DAY_AFTER = "2025-11-20", "2025-11-21", "2025-11-22"


def search(make: Builders, staff: Staff, q: str) -> Any:
    return make.client.get("/api/operator/search", params={"q": q}, headers=staff.headers)


def book(
    make: Builders, orq: int, slot: int, email: str, phone: str = "+31 6 1234 5678", n: int = 1
) -> list[str]:
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(n)]
    response = make.reserve(codes, slot, customer_email=email, customer_phone=phone)
    assert response.status_code == 201, response.text
    return codes


@pytest.fixture
def door(make: Builders) -> tuple[int, Staff]:
    orq = make.org()
    return orq, make.staff(orq, Role.OPERATOR)


def test_a_visitor_is_found_by_part_of_their_email_whatever_its_case_with_contact_masked(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    slot = make.slot(orq, day=TODAY, start="10:00", end="11:00")
    codes = book(make, orq, slot, "Jane.Smith@example.com", n=2)
    book(make, orq, slot, "someone@example.org")

    answer = search(make, operator, "jane.SMITH")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["more"] is False
    assert sorted(r["code"] for r in body["results"]) == sorted(codes)
    first = body["results"][0]
    assert first["code_suffix"] == first["code"][-4:]
    assert {k: v for k, v in first.items() if k not in ("code", "code_suffix")} == {
        "date": TODAY,
        "day": "today",
        "start_time": "10:00",
        "end_time": "11:00",
        "party": 2,
        "email": "Ja…@example.com",
        "phone": "…5678",
        "status": "RESERVED",
    }


def test_a_phone_number_is_matched_on_its_digits_however_it_is_typed(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    slot = make.slot(orq, day=TODAY)
    [code] = book(make, orq, slot, "a@example.com", phone="+31 6 1234 5678")
    book(make, orq, slot, "b@example.com", phone="+44 20 7946 0958")
    for typed in ("+31 6 1234 5678", "06 1234 5678", "0031-6-12345678", "5678"):
        assert [r["code"] for r in search(make, operator, typed).json()["results"]] == [code], typed


def test_a_ticket_is_found_by_the_last_characters_of_its_code_as_typed(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    slot = make.slot(orq, day=TOMORROW)
    [code] = book(make, orq, slot, "a@example.com")
    book(make, orq, slot, "b@example.com")
    tail = code[-6:]
    typed = f"{tail[:2]}-{tail[2:]}".lower()
    assert [r["code"] for r in search(make, operator, typed).json()["results"]] == [code]
    assert [r["code"] for r in search(make, operator, code[-4:]).json()["results"]] == [code]
    # The same last four after other characters is not this ticket's end.
    wrong = ("Y" if code[-5] != "Y" else "Z") + code[-4:]
    assert search(make, operator, wrong).json()["results"] == []


def test_only_today_and_tomorrow_are_searched_in_the_venues_time(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    orq, operator = door
    clock.set(clock.now() - timedelta(days=2))  # 18 Nov: yesterday's slot can still be booked
    for day in ("2025-11-19", TODAY, TOMORROW, DAY_AFTER):
        book(make, orq, make.slot(orq, day=day), "same@example.com")
    clock.set(clock.now() + timedelta(days=2))

    found = search(make, operator, "same@example").json()["results"]
    assert [(r["date"], r["day"]) for r in found] == [(TODAY, "today"), (TOMORROW, "tomorrow")]

    # 00:30 on the 21st at the venue is still the 20th in UTC: the venue's day is the one searched.
    clock.set(datetime.fromisoformat("2025-11-21T00:30:00+01:00"))
    operator.headers = make.login(operator.username)  # a new shift: the morning's token has expired
    assert [r["date"] for r in search(make, operator, "same@example").json()["results"]] == [
        TOMORROW,
        DAY_AFTER,
    ]


def test_another_organizations_visitors_and_cancelled_bookings_are_never_found(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    other = make.org("Other museum")
    book(make, other, make.slot(other, day=TODAY), "shared@example.com")
    code = make.ticket(orq, "ACTIVATED")
    booked = make.reserve([code], make.slot(orq, day=TOMORROW), customer_email="shared@example.com")
    reservation_id = booked.json()["reservations"][0]["reservation_id"]
    assert len(search(make, operator, "shared@").json()["results"]) == 1
    make.client.delete(f"/api/reservations/{reservation_id}").raise_for_status()
    assert search(make, operator, "shared@").json()["results"] == []


def test_results_are_limited_and_say_that_there_are_more(make: Builders, door: tuple[int, Staff]) -> None:
    orq, operator = door
    slot = make.slot(orq, day=TODAY, capacity=30)
    for n in range(21):
        book(make, orq, slot, f"guest{n:02d}@example.com")
    body = search(make, operator, "guest").json()
    assert len(body["results"]) == 20 and body["more"] is True
    assert len(search(make, operator, "guest1").json()["results"]) == 10


def test_a_query_under_four_characters_or_with_control_characters_is_refused_saying_so(
    make: Builders, door: tuple[int, Staff]
) -> None:
    _, operator = door
    for typed in ("abc", "  ab  ", ""):
        refused = search(make, operator, typed)
        assert refused.status_code == 422, typed
        error = refused.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert "at least 4 characters" in error["details"]["fields"]["q"]
    for typed in ("jane\x00doe", "jane\tdoe"):  # NUL cannot even reach PostgreSQL
        refused = search(make, operator, typed)
        assert refused.status_code == 422, typed
        assert "printable characters only" in refused.json()["error"]["details"]["fields"]["q"]
    assert make.client.get("/api/operator/search", params={"q": "jane"}).status_code == 401


def test_each_search_is_logged_with_its_length_and_count_never_what_was_typed(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    book(make, orq, make.slot(orq, day=TODAY), "private.person@example.com")
    with capture_logs() as logs:
        search(make, operator, "private.person")
    [event] = [e for e in logs if e["event"] == "door.visitor_search"]
    assert event == {
        "event": "door.visitor_search",
        "log_level": "info",
        "orq": orq,
        "operator_id": operator.id,
        "query_length": 14,
        "results": 1,
        "more": False,
    }
    assert "private" not in repr(logs)


def test_a_found_visitors_code_is_what_the_scan_takes_and_admits(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    book(make, orq, make.slot(orq, day=TODAY), "walk.in@example.com")
    [found] = search(make, operator, "walk.in").json()["results"]
    admitted = make.client.post(
        "/venue/scan", json={"code": found["code"], "action": "admit"}, headers=operator.headers
    ).json()
    assert (admitted["result"], admitted["verified_now"]) == ("GREEN", True)
    assert search(make, operator, "walk.in").json()["results"][0]["status"] == "VERIFIED"
