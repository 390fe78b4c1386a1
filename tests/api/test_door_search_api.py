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


def suffixes(make: Builders, staff: Staff, q: str) -> list[str]:
    """The ends of the codes found (the answer holds no whole code)."""
    return [found["code_suffix"] for found in search(make, staff, q).json()["results"]]


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
    assert sorted(r["code_suffix"] for r in body["results"]) == sorted(code[-4:] for code in codes)
    first = body["results"][0]
    assert first["ref_expires_at"] == "2025-11-20T09:15:00+01:00"  # a quarter of an hour to tap it
    assert {k: v for k, v in first.items() if k not in ("ref", "ref_expires_at", "code_suffix")} == {
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
        assert suffixes(make, operator, typed) == [code[-4:]], typed


def test_a_ticket_is_found_by_the_last_characters_of_its_code_as_typed(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    slot = make.slot(orq, day=TOMORROW)
    [code] = book(make, orq, slot, "a@example.com")
    book(make, orq, slot, "b@example.com")
    tail = code[-6:]
    typed = f"{tail[:2]}-{tail[2:]}".lower()
    assert suffixes(make, operator, typed) == [code[-4:]]
    assert suffixes(make, operator, code[-4:]) == [code[-4:]]
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


def test_the_answer_holds_no_whole_ticket_code(make: Builders, door: tuple[int, Staff]) -> None:
    """A code is its holder's bearer credential: staff see its last four characters, never all of it."""
    orq, operator = door
    codes = book(make, orq, make.slot(orq, day=TODAY), "family@example.com", n=3)
    for q in ("family@", codes[0][-6:], "5678"):
        answer = search(make, operator, q)
        assert answer.json()["results"], q
        assert not [code for code in codes if code in answer.text or code.lower() in answer.text.lower()]


def scan(make: Builders, staff: Staff, url: str = "/api/operator/validate-ticket", **body: Any) -> Any:
    return make.client.post(url, json=body, headers=staff.headers)


def test_a_found_visitors_ref_scans_exactly_as_their_code(make: Builders, door: tuple[int, Staff]) -> None:
    orq, operator = door
    [code] = book(make, orq, make.slot(orq, day=TODAY), "walk.in@example.com")
    [found] = search(make, operator, "walk.in").json()["results"]

    by_ref = scan(make, operator, ref=found["ref"]).json()
    by_code = scan(make, operator, code=code).json()
    assert by_ref == by_code
    assert (by_ref["result"], by_ref["ticket"]["code_suffix"]) == ("GREEN", code[-4:])
    assert make.status_of(code) == "RESERVED"  # validating changes nothing

    admitted = scan(make, operator, "/venue/scan", ref=found["ref"], action="admit").json()
    assert (admitted["result"], admitted["verified_now"]) == ("GREEN", True)
    assert make.status_of(code) == "VERIFIED"
    assert search(make, operator, "walk.in").json()["results"][0]["status"] == "VERIFIED"
    again = scan(make, operator, "/api/operator/verify-ticket", ref=found["ref"]).json()
    assert (again["code"], again["verified_now"]) == ("ALREADY_VERIFIED", False)


def test_mark_as_verified_takes_the_ref_too(make: Builders, door: tuple[int, Staff]) -> None:
    orq, operator = door
    [code] = book(make, orq, make.slot(orq, day=TODAY), "walk.in@example.com")
    [found] = search(make, operator, "walk.in").json()["results"]
    verified = scan(make, operator, "/api/operator/verify-ticket", ref=found["ref"], nonce="tap-1")
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified_now"] is True
    assert make.status_of(code) == "VERIFIED"
    # The same tap sent again gets its first answer, as a scan by code does.
    repeated = scan(make, operator, "/api/operator/verify-ticket", ref=found["ref"], nonce="tap-1")
    assert repeated.json() == verified.json()


def history(make: Builders, manager: Staff) -> list[Any]:
    events: list[Any] = make.client.get("/api/operators/scan-history", headers=manager.headers).json()[
        "events"
    ]
    return events


def test_an_altered_or_made_up_ref_is_refused_and_changes_nothing(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    manager = make.staff(orq, Role.MANAGER)
    [code] = book(make, orq, make.slot(orq, day=TODAY), "walk.in@example.com")
    ref = search(make, operator, "walk.in").json()["results"][0]["ref"]
    middle = len(ref) // 2
    altered = ref[:middle] + ("A" if ref[middle] != "A" else "B") + ref[middle + 1 :]
    for forged in (altered, ref[:-2], ref + "AA", "A" * len(ref), "x", code):
        for url, extra in (
            ("/api/operator/validate-ticket", {}),
            ("/api/operator/verify-ticket", {}),
            ("/venue/scan", {"action": "admit"}),
        ):
            refused = scan(make, operator, url, ref=forged, **extra)
            assert refused.status_code == 422, (forged, url, refused.text)
            error = refused.json()["error"]
            assert error["code"] == "INVALID_SEARCH_REF"
            assert error["message"] == (
                "This is not a search result of yours: find the visitor again, or scan their ticket."
            )
    assert make.status_of(code) == "RESERVED"
    assert history(make, manager) == []  # not even a scan was recorded


def test_a_ref_is_for_the_operator_who_searched_only(make: Builders, door: tuple[int, Staff]) -> None:
    orq, operator = door
    colleague = make.staff(orq, Role.OPERATOR)
    other_orq = make.org("Other museum")
    stranger = make.staff(other_orq, Role.OPERATOR)
    [code] = book(make, orq, make.slot(orq, day=TODAY), "walk.in@example.com")
    ref = search(make, operator, "walk.in").json()["results"][0]["ref"]
    for someone in (colleague, stranger):
        refused = scan(make, someone, "/venue/scan", ref=ref, action="admit")
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "INVALID_SEARCH_REF")
    assert make.status_of(code) == "RESERVED"


def test_a_ref_expires_a_quarter_of_an_hour_after_the_search(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    orq, operator = door
    [code] = book(make, orq, make.slot(orq, day=TODAY), "walk.in@example.com")
    ref = search(make, operator, "walk.in").json()["results"][0]["ref"]
    clock.set(clock.now() + timedelta(minutes=14, seconds=59))
    assert scan(make, operator, ref=ref).json()["result"] == "GREEN"
    clock.set(clock.now() + timedelta(seconds=1))
    late = scan(make, operator, "/venue/scan", ref=ref, action="admit")
    assert late.status_code == 410
    assert late.json()["error"] == {
        "code": "SEARCH_REF_EXPIRED",
        "message": "This search result has expired: find the visitor again.",
        "details": {},
    }
    assert make.status_of(code) == "RESERVED"
    fresh = search(make, operator, "walk.in").json()["results"][0]["ref"]  # searching again gives a new one
    assert scan(make, operator, "/venue/scan", ref=fresh, action="admit").json()["verified_now"] is True


def test_a_scan_takes_a_code_or_a_ref_never_both_nor_neither(make: Builders, door: tuple[int, Staff]) -> None:
    orq, operator = door
    [code] = book(make, orq, make.slot(orq, day=TODAY), "walk.in@example.com")
    ref = search(make, operator, "walk.in").json()["results"][0]["ref"]
    for body in ({"code": code, "ref": ref}, {}, {"nonce": "n-1"}):
        for url in ("/api/operator/validate-ticket", "/api/operator/verify-ticket", "/venue/scan"):
            refused = scan(make, operator, url, **body)
            assert refused.status_code == 422, (body, url)
            error = refused.json()["error"]
            assert error["code"] == "VALIDATION_ERROR"
            assert (
                "give the ticket's code or a search result's ref, not both"
                in error["details"]["fields"]["body"]
            )
    assert make.status_of(code) == "RESERVED"
