"""Bookings reach the manager's live dashboard at once: booked, moved and cancelled, single and party.

The dashboard's stream is read from a real server (the test's own application, served by uvicorn in a
thread) while the visitor's requests book, move and cancel. The stream's periodic refresh is pushed out
of reach, so an event can only come from the change itself; it is awaited with a generous read
timeout, never timed against a target.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from admit.api import live as live_api
from admit.domain.roles import Role
from tests.builders import Builders
from tests.served import served as serving
from tests.sse import events

TODAY = "2025-11-20"  # by the pinned clock, 09:00 in Amsterdam


@pytest.fixture
def served(make: Builders, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test's application on a real port, with no periodic refresh or heartbeat on its streams."""
    monkeypatch.setattr(live_api, "REFRESH", 3600.0)
    monkeypatch.setattr(live_api, "HEARTBEAT", 3600.0)
    with serving(make.client.app) as base_url:
        yield base_url


def booked(stats: dict[str, Any]) -> dict[str, int]:
    return {slot["start_time"]: slot["booked_count"] for slot in stats["slots"]}


def test_the_dashboard_wakes_after_each_booking_move_and_cancel(make: Builders, served: str) -> None:
    orq = make.org()
    make.client.patch(
        f"/api/organizations/{orq}/policy", json={"change_cutoff_hours": 0}, headers=make.admin(orq).headers
    ).raise_for_status()
    morning = make.slot(orq, day=TODAY, start="10:00", end="11:00")
    noon = make.slot(orq, day=TODAY, start="12:00", end="13:00")
    single, *pair = (make.ticket(orq, "ACTIVATED") for _ in range(3))
    manager = make.staff(orq, Role.MANAGER)

    with (
        httpx.Client(base_url=served, timeout=httpx.Timeout(10, read=20)) as http,
        http.stream("GET", "/api/operator/stats/stream", headers=manager.headers) as stream,
    ):
        assert stream.status_code == 200
        received = events(stream)

        def next_counts() -> dict[str, int]:
            name, stats = next(received)
            assert name == "stats"
            return booked(stats)

        assert next_counts() == {"10:00": 0, "12:00": 0}

        made = make.reserve([single], morning)
        assert made.status_code == 201, made.text
        reservation = made.json()["reservations"][0]["reservation_id"]
        assert next_counts() == {"10:00": 1, "12:00": 0}

        made = make.reserve(pair, morning)
        assert made.status_code == 201, made.text
        party = made.json()["party_id"]
        assert next_counts() == {"10:00": 3, "12:00": 0}

        http.put(f"/api/reservations/{reservation}", json={"slot_id": noon}).raise_for_status()
        assert next_counts() == {"10:00": 2, "12:00": 1}

        http.put(f"/api/parties/{party}", json={"slot_id": noon}).raise_for_status()
        assert next_counts() == {"10:00": 0, "12:00": 3}

        http.delete(f"/api/reservations/{reservation}").raise_for_status()
        assert next_counts() == {"10:00": 0, "12:00": 2}

        http.delete(f"/api/parties/{party}").raise_for_status()
        assert next_counts() == {"10:00": 0, "12:00": 0}
