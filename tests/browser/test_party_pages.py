"""Whole parties in a browser: an order's link books its tickets together, the party's page shows
everyone's QR code and moves or cancels them together, and each member's own page changes one alone.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from admit.domain.lifecycle import ActivationMode
from admit.domain.roles import Role
from admit.services.issuance import create_order
from admit.services.reservations import Contact, move_reservation, reserve
from admit.services.slots import NewSlot, create_slot
from tests.browser.conftest import CONTACT, Seed, Shot, docs_shot, hours, log_events
from tests.browser.test_accessibility import serious_violations
from tests.qr import read_qr

pytestmark = pytest.mark.browser


def server_env(_: Path) -> dict[str, str]:
    """The server logs JSON lines, as in production, for the test that reads what it logged."""
    return {"ADMIT_LOG_FORMAT": "json"}


def order(seed: Seed, orq: int, quantity: int, mode: str) -> tuple[str, list[str]]:
    """(the order link's path, the codes) of a fresh paid order."""
    body = {"orq": orq, "quantity": quantity, "activation_mode": mode, "paid": True}
    made = seed.call("POST", "/api/orders", seed.admin(orq), json=body)
    path = "/reserve?" + str(made["order_url"]).split("?", 1)[1]
    return path, [ticket["code"] for ticket in made["tickets"]]


def free_places(seed: Seed, code: str, day: str) -> dict[int, int]:
    """Each of the day's slots and its free places, as the API tells a ticket's holder."""
    answer = seed.call("GET", f"/api/tickets/{code}/availability", params={"from": day, "to": day})
    return {slot["slot_id"]: slot["available_count"] for found in answer["days"] for slot in found["slots"]}


def book_through_the_steps(page: Page, day: str, start: str, end: str) -> None:
    """The same calendar → time → contact → confirm steps a single ticket goes through."""
    page.locator(f'#calendar [data-date="{day}"]').click()
    page.locator("#calendar button.slot").filter(has_text=hours(start, end)).click()
    page.get_by_label("E-mail").fill(CONTACT["customer_email"])
    page.get_by_label("Phone").fill(CONTACT["customer_phone"])
    page.get_by_role("button", name="Continue").click()


def test_a_party_of_four_is_booked_from_its_order_link_moved_together_and_one_cancelled_alone(
    page: Page, seed: Seed, shot: Shot, viewport: str
) -> None:
    orq = seed.org()
    first = seed.slot(orq, day="2025-11-25", start="10:00", end="11:00", capacity=10)
    later = seed.slot(orq, day="2025-11-26", start="14:00", end="15:00", capacity=10)
    link, codes = order(seed, orq, 4, "pre_made")
    for code in codes[:3]:  # the buyer activated three already; the fourth waits
        seed.call("POST", f"/api/tickets/{code}/activate")

    # The order's page: the venue, each ticket's state, all of them chosen; one still to activate.
    page.goto(link)
    expect(page.locator("#order-venue")).to_have_text("Your tickets for City Museum.")
    tickets = page.locator("#order-list li")
    expect(tickets).to_have_count(4)
    expect(tickets.filter(has_text="Ready to book")).to_have_count(3)
    waiting = tickets.filter(has_text="Not activated yet")
    expect(waiting.locator(".ticket-code")).to_have_text("-".join(re.findall("....", codes[3])))
    expect(page.locator("#order-list input[type=checkbox]:checked")).to_have_count(4)
    expect(page.locator("#order-activate")).to_contain_text("Activating a ticket is permanent")
    continue_button = page.locator("#ticket-continue")
    expect(continue_button).to_be_disabled()
    shot(page, "order")
    if viewport == "phone":
        docs_shot(page, seed.server, "order-link-phone")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Activate 1 ticket").click()
    expect(tickets.filter(has_text="Ready to book")).to_have_count(4)
    expect(page.locator("#order-activate")).to_be_hidden()
    expect(continue_button).to_have_text("Continue with 4 tickets")
    continue_button.click()

    book_through_the_steps(page, "2025-11-25", "10:00", "11:00")
    expect(page.locator("#sum-tickets .ticket-code")).to_have_count(4)
    page.get_by_role("button", name="Confirm").click()
    booked = "Tuesday, 25 November 2025, " + hours("10:00", "11:00")
    expect(page.locator("#done-party")).to_have_text(
        f"4 people are booked for {booked}. See, move or cancel the whole group"
    )
    expect(page.get_by_role("link", name="Back to your order")).to_have_attribute("href", link)
    page.get_by_role("link", name="See, move or cancel the whole group").click()

    # The party's page: the time, four people, four QR codes, each one a member's own.
    expect(page).to_have_url(re.compile(r"/reserve/party/[A-Za-z0-9_-]+$"))
    party_id = page.url.rsplit("/", 1)[1]
    party: dict[str, Any] = seed.call("GET", f"/api/parties/{party_id}")
    expect(page.locator("#party-date")).to_have_text("Tuesday, 25 November 2025")
    expect(page.locator("#party-counts")).to_have_text("4 booked")
    qr_codes = page.locator("#member-list img.qr")
    expect(qr_codes).to_have_count(4)
    expect(page.locator("#member-list .ticket-code")).to_have_count(4)
    png = seed.http.get(str(qr_codes.nth(2).get_attribute("src"))).content
    assert read_qr(png) in {member["qr_payload"] for member in party["reservations"]}
    assert read_qr(png) == party["reservations"][2]["qr_payload"]
    expect(page.get_by_role("link", name="Printable tickets (PDF)")).to_have_attribute(
        "href", party["pdf_url"]
    )
    shot(page, "party")
    if viewport == "phone":
        docs_shot(page, seed.server, "party-phone")
    assert serious_violations(page) == []

    # Everyone to another time, in one move.
    page.get_by_role("button", name="Move everyone to another time").click()
    book_day = page.locator('#calendar [data-date="2025-11-26"]')
    book_day.click()
    page.locator("#calendar button.slot").filter(has_text=hours("14:00", "15:00")).click()
    moved = "Wednesday, 26 November 2025, " + hours("14:00", "15:00")
    expect(page.locator("#move-question")).to_have_text(
        f"Move the visit of all 4 people from {booked} to {moved}?"
    )
    page.get_by_role("button", name="Move everyone", exact=True).click()
    expect(page.locator("#details-message")).to_have_text(
        f"Everyone is moved to {moved}. Your QR codes stay the same."
    )
    expect(page.locator("#party-date")).to_have_text("Wednesday, 26 November 2025")
    assert free_places(seed, codes[0], "2025-11-25")[first] == 10
    assert free_places(seed, codes[0], "2025-11-26")[later] == 6

    # One person cancels alone, from their own page; the party's page then shows who is left.
    page.locator("#member-list li").nth(1).get_by_role("link", name="Move or cancel just this person").click()
    page.get_by_role("button", name="Cancel reservation").click()
    page.get_by_role("button", name="Yes, cancel").click()
    expect(page.locator("#details-message")).to_contain_text("Your reservation is cancelled")
    page.goto(f"/reserve/party/{party_id}")
    expect(page.locator("#party-counts")).to_have_text("3 booked and 1 cancelled")
    expect(qr_codes).to_have_count(3)
    expect(page.locator("#member-list .status-pill.CANCELLED")).to_have_count(1)
    shot(page, "one-cancelled")
    assert free_places(seed, codes[0], "2025-11-26")[later] == 7
    statuses = [member["status"] for member in seed.call("GET", f"/api/parties/{party_id}")["reservations"]]
    assert sorted(statuses) == ["CANCELLED", "RESERVED", "RESERVED", "RESERVED"]


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_an_unknown_order_link_says_so_and_offers_the_ticket_code(page: Page) -> None:
    page.goto("/reserve?order=no-such-order")
    expect(page.locator("#ticket-message")).to_contain_text("We could not find this order.")
    expect(page.get_by_label("Ticket code")).to_be_visible()
    # The switcher keeps the order's link: the same answer, in Dutch.
    page.get_by_label("Language").select_option("nl")
    expect(page.locator("#ticket-message")).to_contain_text("We konden deze bestelling niet vinden.")
    assert "order=no-such-order" in page.url


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_party_too_big_for_the_time_left_is_offered_times_with_room_for_all(page: Page, seed: Seed) -> None:
    orq = seed.org()
    day = "2025-11-27"
    chosen = seed.slot(orq, day=day, start="10:00", end="11:00", capacity=5)
    seed.book(orq, 2, chosen)
    seed.book(orq, 8, seed.slot(orq, day=day, start="12:00", end="13:00", capacity=10))  # room for 2
    seed.slot(orq, day=day, start="14:00", end="15:00", capacity=10)
    link, _ = order(seed, orq, 4, "immediate")

    # Three of the order's four come this time.
    page.goto(link)
    left_out = page.get_by_role("checkbox").nth(3)
    left_out.uncheck()
    expect(left_out).to_be_focused()
    page.get_by_role("button", name="Continue with 3 tickets").click()
    book_through_the_steps(page, day, "10:00", "11:00")
    seed.book(orq, 1, chosen)  # someone else takes a place meanwhile: 2 left, for a party of 3
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#summary-message")).to_contain_text("this time has just been fully booked")
    offered = page.locator("#alternatives-list button")
    expect(offered).to_have_count(1)
    expect(offered).to_contain_text(hours("14:00", "15:00"))
    offered.click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#done-party")).to_contain_text(
        "3 people are booked for Thursday, 27 November 2025, " + hours("14:00", "15:00")
    )
    page.get_by_role("link", name="Back to your order").click()
    tickets = page.locator("#order-list li")
    expect(tickets.filter(has_text="Booked for Thursday, 27 November 2025")).to_have_count(3)
    expect(tickets.filter(has_text="Ready to book")).to_have_count(1)
    tickets.first.get_by_role("link", name="See or change this booking").click()
    # On the party page before choosing: a choice made while the order page is still shown is lost.
    expect(page.get_by_role("heading", name="Your group's visit")).to_be_visible()
    page.get_by_label("Language").select_option("de")
    expect(page.get_by_role("heading", name="Der Besuch Ihrer Gruppe")).to_be_visible()
    expect(page.locator("#party-counts")).to_have_text("3 gebucht")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_party_page_says_why_the_policy_refuses_in_its_language(page: Page, seed: Seed) -> None:
    strict = seed.org("Strict Museum", reservation_changes="none", cancellation_allowed=False)
    slot = seed.slot(strict, day="2025-11-25")
    body = {"ticket_codes": seed.tickets(strict, 2), "slot_id": slot, **CONTACT}
    party_id = seed.call("POST", "/api/reservations", json=body)["party_id"]

    page.goto(f"/reserve/party/{party_id}?lang=nl")
    expect(page.locator("#change-refusal")).to_have_text(
        "Verzetten is niet mogelijk: Bij deze locatie kun je een reservering niet wijzigen."
    )
    expect(page.locator("#cancel-refusal")).to_contain_text(
        "Bij deze locatie kun je een reservering niet annuleren."
    )
    expect(page.get_by_role("button", name="Iedereen naar een andere tijd verzetten")).to_be_hidden()
    expect(page.get_by_role("button", name="Voor iedereen annuleren")).to_be_hidden()

    response = page.goto("/reserve/party/no-such-party?lang=en")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Booking not found")).to_be_visible()


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_with_one_of_the_party_in_the_page_moves_and_cancels_the_others_and_says_so(
    page: Page, seed: Seed, shot: Shot
) -> None:
    """One of three let in at the door: the other two may still move or cancel their visit, and the
    page says that a change is theirs alone before it asks."""
    orq = seed.org("Late Museum", change_cutoff_hours=0)  # changes until the visit starts
    today = seed.slot(orq, start="14:00", end="15:00", capacity=10)
    tomorrow = seed.slot(orq, day="2025-11-21", start="14:00", end="15:00", capacity=10)
    codes = seed.tickets(orq, 3)
    party_id = seed.call(
        "POST", "/api/reservations", json={"ticket_codes": codes, "slot_id": today, **CONTACT}
    )["party_id"]
    seed.call("POST", "/api/operator/verify-ticket", seed.staff(orq, Role.OPERATOR), json={"code": codes[0]})

    page.goto(f"/reserve/party/{party_id}")
    expect(page.locator("#party-counts")).to_have_text("2 booked and 1 used for entry")
    scope = "2 of 3 not yet in: moving or cancelling applies to them only, not to those already in."
    expect(page.locator("#party-scope")).to_have_text(scope)
    shot(page, "one-in")
    assert serious_violations(page) == []

    page.get_by_role("button", name="Move everyone to another time").click()
    page.locator('#calendar [data-date="2025-11-21"]').click()
    page.locator("#calendar button.slot").filter(has_text=hours("14:00", "15:00")).click()
    booked = "today, Thursday, 20 November 2025, " + hours("14:00", "15:00")
    moved = "tomorrow, Friday, 21 November 2025, " + hours("14:00", "15:00")
    expect(page.locator("#move-question")).to_have_text(
        f"Move the visit of the 2 people not yet in from {booked} to {moved}?"
    )
    page.get_by_role("button", name="Move everyone", exact=True).click()
    expect(page.locator("#details-message")).to_have_text(
        f"The 2 people not yet in are moved to {moved}. Your QR codes stay the same."
    )
    members = page.locator("#member-list li")
    expect(members.nth(0).locator(".status-pill")).to_have_text("Used for entry")
    expect(members.nth(0).locator(".member-when")).to_contain_text(booked)  # the visit they made
    expect(page.locator("#member-list img.qr")).to_have_count(2)
    after_move = [
        (m["status"], m["slot_id"]) for m in seed.call("GET", f"/api/parties/{party_id}")["reservations"]
    ]
    assert after_move == [("VERIFIED", today), ("RESERVED", tomorrow), ("RESERVED", tomorrow)]

    page.get_by_role("button", name="Cancel everyone").click()
    expect(page.locator("#cancel-question")).to_have_text(
        "Cancel the visit of the 2 people not yet in? Their places are given back and the tickets can be"
        " booked for another time."
    )
    page.get_by_role("button", name="Yes, cancel").click()
    expect(page.locator("#details-message")).to_have_text(
        "The visit is cancelled for the 2 people not yet in. The tickets can be booked for another time."
    )
    expect(page.locator("#party-counts")).to_have_text("1 used for entry and 2 cancelled")
    expect(page.locator("#party-scope")).to_be_hidden()
    expect(page.get_by_role("button", name="Cancel everyone")).to_be_hidden()
    after_cancel = [m["status"] for m in seed.call("GET", f"/api/parties/{party_id}")["reservations"]]
    assert after_cancel == ["VERIFIED", "CANCELLED", "CANCELLED"]


YESTERDAY = datetime(2025, 11, 19, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


def party_with_one_expired(seed: Seed, orq: int, tomorrow: int) -> tuple[str, list[str]]:
    """(party id, codes) of three booked yesterday for tomorrow, the first of whom moved alone to
    yesterday afternoon and did not come: by today's clock that visit has expired."""
    with seed.context.sessions() as session:
        codes = [
            ticket.code
            for ticket in create_order(
                session,
                orq=orq,
                quantity=3,
                activation_mode=ActivationMode.IMMEDIATE,
                paid=True,
                customer_email=None,
                valid_until=None,
                keys=seed.context.keys,
                actor_id=seed.admin(orq).id,
                now=YESTERDAY,
            ).tickets
        ]
    with seed.context.sessions() as session:
        afternoon = create_slot(
            session, orq=orq, slot=NewSlot(date(2025, 11, 19), time(14), time(15)), capacity=10, now=YESTERDAY
        ).id
    contact = Contact(CONTACT["customer_email"], "+31201234567")
    with seed.context.sessions() as session:
        booked = reserve(
            session,
            ticket_codes=codes,
            slot_id=tomorrow,
            contact=contact,
            keys=seed.context.keys,
            now=YESTERDAY,
        )
    with seed.context.sessions() as session:
        move_reservation(
            session,
            reservation_id=booked[0].reservation_id,
            slot_id=afternoon,
            keys=seed.context.keys,
            now=YESTERDAY,
        )
    return booked[0].party_id, codes


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_member_whose_visit_expired_is_told_apart_and_left_out_of_the_groups_move_and_cancel(
    page: Page, seed: Seed, shot: Shot
) -> None:
    orq = seed.org("Harbour Museum", change_cutoff_hours=0)
    tomorrow = seed.slot(orq, day="2025-11-21", start="14:00", end="15:00", capacity=10)
    later = seed.slot(orq, day="2025-11-22", start="14:00", end="15:00", capacity=10)
    party_id, codes = party_with_one_expired(seed, orq, tomorrow)

    page.goto(f"/reserve/party/{party_id}")
    expect(page.locator("#party-counts")).to_have_text("2 booked and 1 expired")
    first = page.locator("#member-list li").nth(0)
    expect(first.locator(".status-pill")).to_have_text("Expired")
    expect(first.locator(".member-expired")).to_have_text(
        "This person's visit has expired: its time passed without the ticket being used. Moving or"
        " cancelling the group leaves them out."
    )
    expect(page.locator("#party-scope")).to_have_text(
        "2 of 3 still booked: moving or cancelling applies to them only, not to the others (1 expired)."
    )
    shot(page, "one-expired")
    assert serious_violations(page) == []

    page.get_by_role("button", name="Move everyone to another time").click()
    page.locator('#calendar [data-date="2025-11-22"]').click()
    page.locator("#calendar button.slot").filter(has_text=hours("14:00", "15:00")).click()
    booked = "tomorrow, Friday, 21 November 2025, " + hours("14:00", "15:00")
    moved = "Saturday, 22 November 2025, " + hours("14:00", "15:00")
    expect(page.locator("#move-question")).to_have_text(
        f"Move the visit of the 2 people still booked from {booked} to {moved}?"
    )
    page.get_by_role("button", name="Move everyone", exact=True).click()
    expect(page.locator("#details-message")).to_have_text(
        f"The 2 people still booked are moved to {moved}. Your QR codes stay the same."
        " 1 person whose visit had expired is left out."
    )
    after_move = [
        (m["status"], m["date"]) for m in seed.call("GET", f"/api/parties/{party_id}")["reservations"]
    ]
    assert after_move == [("EXPIRED", "2025-11-19"), ("RESERVED", "2025-11-22"), ("RESERVED", "2025-11-22")]
    assert free_places(seed, codes[1], "2025-11-22")[later] == 8
    assert free_places(seed, codes[1], "2025-11-21")[tomorrow] == 10

    page.get_by_role("button", name="Cancel everyone").click()
    expect(page.locator("#cancel-question")).to_have_text(
        "Cancel the visit of the 2 people still booked? Their places are given back and the tickets can be"
        " booked for another time."
    )
    page.get_by_role("button", name="Yes, cancel").click()
    expect(page.locator("#details-message")).to_have_text(
        "The visit is cancelled for the 2 people who were still booked. The tickets can be booked for another"
        " time. 1 person whose visit had expired is left out."
    )
    expect(page.locator("#party-counts")).to_have_text("2 cancelled and 1 expired")
    after_cancel = [m["status"] for m in seed.call("GET", f"/api/parties/{party_id}")["reservations"]]
    assert after_cancel == ["EXPIRED", "CANCELLED", "CANCELLED"]

    # In the page's language.
    page.goto(f"/reserve/party/{party_id}?lang=nl")
    expect(page.locator("#member-list li").nth(0).locator(".member-expired")).to_have_text(
        "Het bezoek van deze persoon is verlopen: de tijd is voorbij zonder dat het ticket is gebruikt."
        " Verzetten of annuleren van de groep geldt niet voor deze persoon."
    )


def test_a_refused_change_of_the_party_is_logged_for_the_members_it_would_have_changed_only(
    seed: Seed,
) -> None:
    """An operator reading the server's log sees a refused move or cancel of the party once per member
    still booked, as a refused change of one reservation is: never on the ticket of one already in,
    whom no change of the party touches."""
    strict = seed.org("Fixed Museum", reservation_changes="none", cancellation_allowed=False)
    today, tomorrow = seed.slot(strict), seed.slot(strict, day="2025-11-21")
    codes = seed.tickets(strict, 3)
    body = {"ticket_codes": codes, "slot_id": today, **CONTACT}
    party_id = seed.call("POST", "/api/reservations", json=body)["party_id"]
    seed.call(
        "POST", "/api/operator/verify-ticket", seed.staff(strict, Role.OPERATOR), json={"code": codes[0]}
    )

    moved = seed.http.put(f"/api/parties/{party_id}", json={"slot_id": tomorrow})
    cancelled = seed.http.delete(f"/api/parties/{party_id}")
    assert (moved.status_code, moved.json()["error"]["code"]) == (403, "CHANGES_NOT_ALLOWED")
    assert (cancelled.status_code, cancelled.json()["error"]["code"]) == (403, "CANCELLATION_NOT_ALLOWED")

    suffixes = {code[-4:] for code in codes}
    refusals = [
        line for line in log_events(seed.server, "reservation.failed") if line["code_suffix"] in suffixes
    ]
    assert sorted((line["change"], line["code_suffix"], line["reason"]) for line in refusals) == sorted(
        [
            ("move", codes[1][-4:], "CHANGES_NOT_ALLOWED"),
            ("move", codes[2][-4:], "CHANGES_NOT_ALLOWED"),
            ("cancel", codes[1][-4:], "CANCELLATION_NOT_ALLOWED"),
            ("cancel", codes[2][-4:], "CANCELLATION_NOT_ALLOWED"),
        ]
    )
    assert all(line["party"] is True and isinstance(line["ticket_id"], int) for line in refusals)
    assert [line.get("slot_id") for line in refusals if line["change"] == "move"] == [tomorrow, tomorrow]
