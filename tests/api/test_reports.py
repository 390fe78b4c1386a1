"""The venue's numbers over a range of days, checked against a small history with known answers."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from admit.clock import FrozenClock
from admit.context import AppContext
from admit.domain.roles import Role
from admit.services.expiry import expire_due
from tests.builders import Builders

# The pinned clock's day is Thursday 20 November 2025, 09:00 in Amsterdam.
RANGE = {"from": "2025-11-20", "to": "2025-11-21"}


def numbers(make: Builders, orq: int, params: dict[str, str] = RANGE) -> Any:
    manager = make.staff(orq, Role.MANAGER)
    response = make.client.get("/api/reports/numbers", params=params, headers=manager.headers)
    assert response.status_code == 200, response.text
    return response.json()


def ratio(figure: dict[str, Any]) -> tuple[int, int]:
    return figure["part"], figure["whole"]


def a_small_history(make: Builders, clock: FrozenClock) -> int:
    """Three pre-made tickets (two activated), two bought activated; three visits booked (one of them
    moved), four ticket checks on the visitor page; today's 10:00 visit: one admitted, one no-show."""
    orq = make.org()
    today, early, late = (
        make.slot(orq, day="2025-11-20", capacity=10),
        make.slot(orq, day="2025-11-21", capacity=4),
        make.slot(orq, day="2025-11-21", start="14:00", end="15:00", capacity=5),
    )
    admitted, premade_unbooked, _never_activated = (make.ticket(orq) for _ in range(3))
    for code in (admitted, premade_unbooked):
        assert make.client.post(f"/api/tickets/{code}/activate").status_code == 200
    no_show, moved = make.ticket(orq, "ACTIVATED"), make.ticket(orq, "ACTIVATED")
    for code in (admitted, no_show, moved, moved):  # one visitor checks their code twice
        assert make.client.post("/api/tickets/validate", json={"code": code}).status_code == 200
    for code, slot in ((admitted, today), (no_show, today), (moved, early)):
        assert make.reserve([code], slot).status_code == 201
    moved_id = make.client.get(f"/api/tickets/{moved}/status").json()["reservation"]["reservation_id"]
    assert make.client.put(f"/api/reservations/{moved_id}", json={"slot_id": late}).status_code == 200

    clock.advance(timedelta(hours=1, minutes=5))  # 10:05: the 10:00 visitors arrive, or not
    operator = make.staff(orq, Role.OPERATOR)
    scan = make.client.post(
        "/venue/scan", json={"code": admitted, "action": "admit"}, headers=operator.headers
    )
    assert scan.json()["verified_now"] is True
    clock.advance(timedelta(days=1))  # the next morning: yesterday's entry window has closed
    return orq


def test_each_rate_counts_what_the_stories_define_over_a_known_history(
    make: Builders, clock: FrozenClock, context: AppContext
) -> None:
    orq = a_small_history(make, clock)
    found = numbers(make, orq)

    assert (found["from"], found["to"]) == ("2025-11-20", "2025-11-21")
    assert ratio(found["activation_rate"]) == (2, 3)  # pre-made tickets activated within 30 days
    assert ratio(found["reservation_rate"]) == (3, 4)  # activated tickets booked within 7 days
    assert ratio(found["no_show_rate"]) == (1, 2)  # of the visits whose entry has closed
    assert ratio(found["conversion"]) == (3, 4)  # bookings (the move is not one) per ticket check
    assert found["conversion"]["rate"] == 0.75
    assert found["funnel"] == {"issued": 5, "activated": 4, "reserved": 3, "admitted": 1}
    assert [
        (d["date"], d["capacity"], d["booked"], d["admitted"], d["no_shows"], d["closed_reservations"])
        for d in found["days"]
    ] == [("2025-11-20", 10, 2, 1, 1, 2), ("2025-11-21", 9, 1, 0, 0, 0)]
    assert found["days"][0]["utilisation"] == 0.2
    assert [(c["weekday"], c["hour"], c["booked"], c["capacity"]) for c in found["weekday_hour"]] == [
        (3, 10, 2, 10),
        (4, 10, 0, 4),
        (4, 14, 1, 5),
    ]
    assert [(s["start_time"], ratio(s["no_shows"])) for s in found["no_shows_by_start"]] == [
        ("10:00", (1, 2))
    ]
    assert [(v["result"], v["reason"], v["scans"]) for v in found["validations"]] == [("GREEN", "VALID", 1)]

    # The sweep writes EXPIRED on the no-show's ticket: still a no-show, and nothing else moves.
    with context.sessions() as session:
        assert expire_due(session, now=clock.now()) == 1
    assert numbers(make, orq) == found


def test_a_range_without_the_days_counts_nothing_and_divides_by_nothing(
    make: Builders, clock: FrozenClock
) -> None:
    orq = a_small_history(make, clock)
    found = numbers(make, orq, {"from": "2025-12-01", "to": "2025-12-07"})
    assert found["activation_rate"] == {"part": 0, "whole": 0, "rate": None}
    assert (found["days"], found["validations"], found["no_shows_by_start"]) == ([], [], [])
    # Without a range: the 28 days up to the venue's today, which hold the history.
    recent = numbers(make, orq, {})
    assert (recent["from"], recent["to"]) == ("2025-10-25", "2025-11-21")
    assert ratio(recent["activation_rate"]) == (2, 3)


def test_another_venues_history_is_not_counted(make: Builders, clock: FrozenClock) -> None:
    a_small_history(make, clock)
    other = make.org("Other Museum")
    found = numbers(make, other)
    assert found["funnel"] == {"issued": 0, "activated": 0, "reserved": 0, "admitted": 0}
    assert found["days"] == []


def test_a_bad_range_is_refused_clearly_and_staff_below_manager_get_nothing(make: Builders) -> None:
    orq = make.org()
    manager, operator = make.staff(orq, Role.MANAGER), make.staff(orq, Role.OPERATOR)
    for params, field in (
        ({"from": "2025-11-21", "to": "2025-11-20"}, "from"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "to"),  # 367 days
    ):
        response = make.client.get("/api/reports/numbers", params=params, headers=manager.headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert field in response.json()["error"]["details"]["fields"]
    refused = make.client.get("/api/reports/numbers", headers=operator.headers)
    assert refused.status_code == 403
    assert make.client.get("/api/reports/numbers.csv").status_code == 401


def test_the_csv_has_a_row_a_day_with_the_same_figures(make: Builders, clock: FrozenClock) -> None:
    orq = a_small_history(make, clock)
    manager = make.staff(orq, Role.MANAGER)
    response = make.client.get("/api/reports/numbers.csv", params=RANGE, headers=manager.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="numbers-2025-11-20-2025-11-21.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["date"], r["booked"], r["utilisation"], r["no_shows"]) for r in rows] == [
        ("2025-11-20", "2", "0.2000", "1"),
        ("2025-11-21", "1", "0.1111", "0"),
    ]


def test_an_activation_after_thirty_days_is_not_counted_as_within(make: Builders, clock: FrozenClock) -> None:
    orq = make.org()
    late = make.ticket(orq)
    clock.advance(timedelta(days=30, minutes=1))
    assert make.client.post(f"/api/tickets/{late}/activate").status_code == 200
    start = datetime.fromisoformat("2025-11-20").date()
    found = numbers(make, orq, {"from": start.isoformat(), "to": (start + timedelta(days=31)).isoformat()})
    assert ratio(found["activation_rate"]) == (0, 1)
    assert found["funnel"]["activated"] == 1
