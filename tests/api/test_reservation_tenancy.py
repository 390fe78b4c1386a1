"""Booking never reveals another organization's slots: not their room, their start or their neighbours."""

from __future__ import annotations

import pytest

from tests.builders import Builders


@pytest.fixture
def zoo_slots(make: Builders) -> dict[str, int]:
    """Another organization's slots: one full, one already started, one closed, and one with room."""
    zoo = make.org("Zoo")
    slots = {
        "full": make.slot(zoo, capacity=1),
        "started": make.slot(zoo, day="2025-11-20", start="08:00", end="12:00"),
        "closed": make.slot(zoo, day="2025-11-21", start="14:00", end="15:00"),
    }
    make.slot(zoo, day="2025-11-22", capacity=5)  # room nearby: what SLOT_FULL would offer instead
    make.reservation(zoo, slots["full"])
    url = f"/api/reservation-slots/{slots['closed']}"
    make.client.patch(url, json={"status": "CLOSED"}, headers=make.admin(zoo).headers).raise_for_status()
    return slots


@pytest.mark.parametrize("kind", ["full", "started", "closed"])
def test_another_organizations_slot_is_not_found_whatever_its_state(
    make: Builders, zoo_slots: dict[str, int], kind: str
) -> None:
    """A holder of a museum ticket booking a zoo slot hears SLOT_NOT_FOUND, never the slot's state."""
    code = make.ticket(make.org("Museum"), "ACTIVATED")
    before = make.snapshot()

    response = make.reserve([code], zoo_slots[kind])

    assert (response.status_code, response.json()["error"]["code"]) == (404, "SLOT_NOT_FOUND")
    assert "alternatives" not in response.json()["error"]["details"]
    assert make.snapshot() == before


@pytest.mark.parametrize("kind", ["full", "started", "closed"])
def test_a_code_that_is_no_ticket_is_ticket_not_found_whatever_the_slot(
    make: Builders, zoo_slots: dict[str, int], kind: str
) -> None:
    """Without a real ticket nothing about any slot is told: the answer is TICKET_NOT_FOUND."""
    response = make.reserve(["0" * 20], zoo_slots[kind])

    assert (response.status_code, response.json()["error"]["code"]) == (404, "TICKET_NOT_FOUND")
