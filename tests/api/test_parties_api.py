"""Parties over HTTP: tickets booked together are read, moved and cancelled together; the order link."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from admit.clock import FrozenClock
from admit.domain.roles import Role
from tests.builders import Builders
from tests.pdf import pdf_pages


def _party(make: Builders, orq: int, slot: int, size: int) -> tuple[list[str], dict[str, Any]]:
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(size)]
    response = make.reserve(codes, slot)
    assert response.status_code == 201, response.text
    return codes, response.json()


def test_tickets_booked_together_share_one_party_page_with_a_qr_code_each(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq)
    codes, booked = _party(make, orq, slot, 3)
    assert booked["party_url"].endswith(f"/reserve/party/{booked['party_id']}")
    party = make.client.get(f"/api/parties/{booked['party_id']}").json()
    assert [member["ticket_code"] for member in party["reservations"]] == codes
    assert {member["status"] for member in party["reservations"]} == {"RESERVED"}
    assert len({member["qr_payload"] for member in party["reservations"]}) == 3  # one per person
    # A member's own page does not lead to the party: one forwarded QR link is not the whole family's.
    member = make.client.get(f"/api/reservations/{booked['reservations'][0]['reservation_id']}").json()
    assert booked["party_id"] not in str(member)


def test_a_party_moves_together_and_one_member_can_leave_it(make: Builders) -> None:
    orq = make.org()
    old, new = make.slot(orq, day="2025-11-25"), make.slot(orq, day="2025-11-26", capacity=3)
    codes, booked = _party(make, orq, old, 3)
    moved = make.client.put(f"/api/parties/{booked['party_id']}", json={"slot_id": new})
    assert moved.status_code == 200, moved.text
    assert {member["slot_id"] for member in moved.json()["reservations"]} == {new}
    assert make.slot_counts(old) == (0, 0, "ACTIVE")
    assert make.slot_counts(new) == (3, 3, "FULL")
    assert [row[0] for row in make.audit(codes[0])][-1] == "move"

    alone = booked["reservations"][2]["reservation_id"]
    assert make.client.delete(f"/api/reservations/{alone}").status_code == 200
    party = make.client.get(f"/api/parties/{booked['party_id']}").json()
    assert [member["status"] for member in party["reservations"]] == ["RESERVED", "RESERVED", "CANCELLED"]
    # Moving the party again moves the two still booked and leaves the cancelled one alone.
    back = make.client.put(f"/api/parties/{booked['party_id']}", json={"slot_id": old})
    assert back.status_code == 200, back.text
    assert make.slot_counts(old) == (2, 2, "ACTIVE")
    assert make.slot_counts(new) == (0, 0, "ACTIVE")
    assert make.status_of(codes[2]) == "ACTIVATED"


def test_a_party_that_does_not_fit_changes_nothing_and_is_offered_times_with_room_for_all(
    make: Builders,
) -> None:
    orq = make.org()
    old = make.slot(orq, day="2025-11-25")
    small = make.slot(orq, day="2025-11-26", start="10:00", end="11:00", capacity=2)
    make.slot(orq, day="2025-11-26", start="12:00", end="13:00", capacity=2)
    roomy = make.slot(orq, day="2025-11-26", start="14:00", end="15:00", capacity=3)
    _, booked = _party(make, orq, old, 3)
    before = make.snapshot()
    response = make.client.put(f"/api/parties/{booked['party_id']}", json={"slot_id": small})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "SLOT_FULL")
    offered = [slot["slot_id"] for slot in response.json()["error"]["details"]["alternatives"]]
    assert roomy in offered and small not in offered
    assert make.snapshot() == before


def test_cancelling_a_party_frees_every_place_at_once(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=4)
    codes, booked = _party(make, orq, slot, 4)
    cancelled = make.client.delete(f"/api/parties/{booked['party_id']}")
    assert cancelled.status_code == 200
    assert {member["status"] for member in cancelled.json()["reservations"]} == {"CANCELLED"}
    assert make.slot_counts(slot) == (0, 0, "ACTIVE")
    assert {make.status_of(code) for code in codes} == {"ACTIVATED"}
    again = make.client.delete(f"/api/parties/{booked['party_id']}")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "NOT_RESERVED")


def test_a_party_change_follows_the_venues_policy_for_every_member(make: Builders) -> None:
    orq = make.org()
    make.client.patch(
        f"/api/organizations/{orq}/policy",
        json={"reservation_changes": "none"},
        headers=make.admin(orq).headers,
    ).raise_for_status()
    old, new = make.slot(orq, day="2025-11-25"), make.slot(orq, day="2025-11-26")
    _, booked = _party(make, orq, old, 2)
    before = make.snapshot()
    moved = make.client.put(f"/api/parties/{booked['party_id']}", json={"slot_id": new})
    cancelled = make.client.delete(f"/api/parties/{booked['party_id']}")
    assert (moved.status_code, moved.json()["error"]["code"]) == (403, "CHANGES_NOT_ALLOWED")
    assert (cancelled.status_code, cancelled.json()["error"]["code"]) == (403, "CHANGES_NOT_ALLOWED")
    assert make.snapshot() == before


def _one_admitted(make: Builders, orq: int, slot: int) -> tuple[list[str], dict[str, Any]]:
    """A party of three booked into the slot (today's), the first of whom the door has let in."""
    codes, booked = _party(make, orq, slot, 3)
    door = make.staff(orq, Role.OPERATOR)
    verified = make.client.post("/api/operator/verify-ticket", json={"code": codes[0]}, headers=door.headers)
    assert verified.json()["code"] == "VALID", verified.text
    return codes, booked


def test_a_party_change_acts_on_the_members_not_yet_in_and_leaves_the_one_already_in(make: Builders) -> None:
    orq = make.org()
    # Changes until the visit starts: the two still to come may change their plans on the day.
    make.client.patch(
        f"/api/organizations/{orq}/policy", json={"change_cutoff_hours": 0}, headers=make.admin(orq).headers
    ).raise_for_status()
    today, later = make.slot(orq, day="2025-11-20", start="14:00", end="15:00"), make.slot(orq)
    codes, booked = _one_admitted(make, orq, today)
    ids = [member["reservation_id"] for member in booked["reservations"]]
    party = f"/api/parties/{booked['party_id']}"
    assert make.client.get(party).json()["still_booked"] == ids[1:]

    moved = make.client.put(party, json={"slot_id": later})
    assert moved.status_code == 200, moved.text
    members = moved.json()["reservations"]
    assert [(m["status"], m["slot_id"]) for m in members] == [
        ("VERIFIED", today),  # the one already in keeps the visit they made
        ("RESERVED", later),
        ("RESERVED", later),
    ]
    assert moved.json()["still_booked"] == ids[1:]
    assert make.slot_counts(later) == (2, 2, "ACTIVE")
    assert make.slot_counts(today) == (1, 1, "ACTIVE")
    assert [row[0] for row in make.audit(codes[0])][-1] == "verify"

    cancelled = make.client.delete(party)
    assert cancelled.status_code == 200, cancelled.text
    assert [m["status"] for m in cancelled.json()["reservations"]] == ["VERIFIED", "CANCELLED", "CANCELLED"]
    assert cancelled.json()["still_booked"] == []
    assert make.slot_counts(later) == (0, 0, "ACTIVE")
    assert [make.status_of(code) for code in codes] == ["VERIFIED", "ACTIVATED", "ACTIVATED"]

    # Nobody is left to change: the one member not cancelled says why.
    before = make.snapshot()
    for again in (make.client.put(party, json={"slot_id": today}), make.client.delete(party)):
        assert (again.status_code, again.json()["error"]["code"]) == (409, "ALREADY_VERIFIED")
    assert make.snapshot() == before


def test_a_party_change_on_the_day_is_refused_by_the_cutoff_of_those_still_booked(make: Builders) -> None:
    """The default policy closes changes a day before the visit: the two still to come are past it,
    and that is the answer, as the party's page says (not that one of them is in already)."""
    orq = make.org()
    today, later = make.slot(orq, day="2025-11-20", start="14:00", end="15:00"), make.slot(orq)
    _, booked = _one_admitted(make, orq, today)
    before = make.snapshot()
    party = f"/api/parties/{booked['party_id']}"
    for refused in (make.client.put(party, json={"slot_id": later}), make.client.delete(party)):
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "CHANGE_CUTOFF_PASSED")
    assert make.snapshot() == before


def test_a_party_change_leaves_a_member_whose_visit_expired_as_it_was_and_its_answer_says_so(
    make: Builders, clock: FrozenClock
) -> None:
    """One of three moved alone to this afternoon and did not come: tomorrow their visit has expired.
    The party's answer names them EXPIRED and leaves them out of `still_booked`, which is what its page
    tells the visitor, and a move or cancel of the party acts on the other two only."""
    orq = make.org()
    make.client.patch(
        f"/api/organizations/{orq}/policy", json={"change_cutoff_hours": 0}, headers=make.admin(orq).headers
    ).raise_for_status()
    afternoon = make.slot(orq, day="2025-11-20", start="14:00", end="15:00")
    tomorrow, later = (
        make.slot(orq, day="2025-11-21", start="14:00", end="15:00"),
        make.slot(orq, day="2025-11-22"),
    )
    codes, booked = _party(make, orq, tomorrow, 3)
    ids = [member["reservation_id"] for member in booked["reservations"]]
    alone = make.client.put(f"/api/reservations/{ids[0]}", json={"slot_id": afternoon})
    assert alone.status_code == 200, alone.text
    clock.advance(timedelta(days=1))  # Friday 09:00: Thursday's visit was never made

    party = f"/api/parties/{booked['party_id']}"
    answer = make.client.get(party).json()
    assert [m["status"] for m in answer["reservations"]] == ["EXPIRED", "RESERVED", "RESERVED"]
    assert answer["still_booked"] == ids[1:]

    moved = make.client.put(party, json={"slot_id": later})
    assert moved.status_code == 200, moved.text
    assert [(m["status"], m["slot_id"]) for m in moved.json()["reservations"]] == [
        ("EXPIRED", afternoon),
        ("RESERVED", later),
        ("RESERVED", later),
    ]
    assert moved.json()["still_booked"] == ids[1:]
    cancelled = make.client.delete(party)
    assert cancelled.status_code == 200, cancelled.text
    assert [m["status"] for m in cancelled.json()["reservations"]] == ["EXPIRED", "CANCELLED", "CANCELLED"]
    assert [make.status_of(code) for code in codes] == ["EXPIRED", "ACTIVATED", "ACTIVATED"]
    assert make.slot_counts(afternoon) == (1, 1, "ACTIVE")  # an expired visit keeps its place


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_an_unknown_party_is_not_found(make: Builders, method: str) -> None:
    orq = make.org()
    slot = make.slot(orq)
    kwargs: dict[str, Any] = {"json": {"slot_id": slot}} if method == "put" else {}
    response = make.client.request(method, "/api/parties/AAAAAAAAAAAAAAAAAAAAAA", **kwargs)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "PARTY_NOT_FOUND")


def test_the_party_printout_has_a_page_per_member_still_booked(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq)
    codes, booked = _party(make, orq, slot, 3)
    make.client.delete(f"/api/reservations/{booked['reservations'][0]['reservation_id']}").raise_for_status()
    party = make.client.get(f"/api/parties/{booked['party_id']}").json()
    assert party["pdf_url"].endswith(f"/api/parties/{booked['party_id']}/tickets.pdf")
    pdf = make.client.get(f"/api/parties/{booked['party_id']}/tickets.pdf")
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    payloads = {member["ticket_code"]: member["qr_payload"] for member in party["reservations"][1:]}
    assert [qr for _, qr in pdf_pages(pdf.content)] == [payloads[code] for code in codes[1:]]


def test_the_order_link_lists_the_orders_tickets_for_its_buyer_to_book(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq)
    order = make.order(orq, quantity=3, mode="pre_made", customer_email="buyer@example.org")
    token = order["order_url"].rsplit("order=", 1)[1]
    assert len(token) >= 22 and order["order_id"] not in order["order_url"]
    codes = [ticket["code"] for ticket in order["tickets"]]
    for code in codes[:2]:
        make.client.post(f"/api/tickets/{code}/activate").raise_for_status()
    booked = make.reserve(codes[:2], slot).json()
    make.client.post(f"/api/tickets/{codes[2]}/void", headers=make.admin(orq).headers).raise_for_status()

    listed = make.client.get(f"/api/order-links/{token}")
    assert listed.status_code == 200
    body = listed.json()
    assert (body["orq"], body["venue"]["name"], body["paid"]) == (orq, "Museum", True)
    assert [ticket["code"] for ticket in body["tickets"]] == codes[:2]  # the voided one is left out
    assert {ticket["status"] for ticket in body["tickets"]} == {"RESERVED"}
    assert {ticket["reservation"]["party_id"] for ticket in body["tickets"]} == {booked["party_id"]}


def test_an_unknown_order_link_is_not_found(make: Builders) -> None:
    response = make.client.get("/api/order-links/AAAAAAAAAAAAAAAAAAAAAA")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "ORDER_NOT_FOUND")
