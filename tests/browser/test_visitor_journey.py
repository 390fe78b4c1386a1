"""The visitor's whole journey in a browser: a pre-made ticket from activation to its QR code, then the door.

Pinned clock: Thursday, 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from admit.domain.roles import Role
from tests.browser.conftest import TODAY, Seed, Shot, check_only, docs_shot, hours, staff_login

pytestmark = pytest.mark.browser


def spaced_lower(code: str) -> str:
    """How a person might type a code: small letters, in groups with spaces."""
    return " ".join(code[i : i + 5] for i in range(0, len(code), 5)).lower()


def test_a_pre_made_ticket_is_activated_booked_shown_as_qr_and_admitted_at_the_door(
    page: Page, seed: Seed, shot: Shot, viewport: str
) -> None:
    orq = seed.org()
    slot = seed.slot(orq, day=TODAY, start="10:00", end="11:00", capacity=200)
    seed.book(orq, 50, slot)  # "150/200 available", as in the story
    seed.slot(orq, day="2025-11-21", start="10:00", end="11:00", capacity=10)
    seed.book(orq, 6, seed.slot(orq, day="2025-11-22", start="10:00", end="11:00", capacity=10))
    (code,) = seed.tickets(orq, mode="pre_made")
    door = seed.staff(orq, Role.OPERATOR, name="Jane Smith")

    # The ticket, from the order e-mail's link, typed loosely: not activated yet, and said so.
    page.goto(f"/reserve?code={spaced_lower(code)}")
    ticket = page.locator("#ticket-list li")
    expect(ticket).to_contain_text("Not activated")
    expect(ticket).to_contain_text("activation is permanent")
    page.get_by_role("button", name="Activate ticket").click()
    expect(ticket).to_contain_text("Activated")
    expect(ticket).to_contain_text("Ready to book")
    page.get_by_role("button", name="Continue").click()

    # The month: past days off, levels by colour and by word.
    calendar = page.locator("#calendar")
    expect(calendar.get_by_role("heading", name="November 2025")).to_be_visible()
    expect(calendar.locator('[data-date="2025-11-19"]')).to_have_attribute("aria-disabled", "true")
    today = calendar.locator(f'[data-date="{TODAY}"]')
    expect(today).to_have_attribute("data-level", "available")
    expect(today).to_contain_text("Open")
    expect(calendar.locator('[data-date="2025-11-22"]')).to_have_attribute("data-level", "limited")
    expect(calendar.locator('[data-date="2025-11-22"]')).to_contain_text("Few left")
    expect(calendar.locator('[data-date="2025-11-23"]')).to_have_attribute("aria-disabled", "true")
    today.click()
    slot_button = calendar.locator("button.slot").filter(has_text=hours("10:00", "11:00"))
    expect(slot_button).to_contain_text("150/200 available")
    shot(page, "calendar")
    if viewport == "phone":
        docs_shot(page, seed.server, "reserve-calendar-phone")
    slot_button.click()

    # Contact details, checked inline before anything is sent; the phone as dialled at home.
    expect(page.get_by_role("heading", name="Your contact details")).to_be_focused()
    expect(page.get_by_label("Country code")).to_have_value("NL")  # the venue's country
    page.get_by_label("E-mail").fill("visitor@")
    page.get_by_label("Phone").fill("12")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#email-error")).to_have_text("Enter an e-mail address like name@example.com.")
    expect(page.locator("#phone-error")).to_contain_text("too short")
    expect(page.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")
    shot(page, "contact-errors")
    page.get_by_label("E-mail").fill("visitor@example.com")
    page.get_by_label("Phone").fill("020 123 4567")
    expect(page.locator("#email-error")).to_be_empty()
    page.get_by_role("button", name="Continue").click()

    # The summary, then Confirm.
    summary = page.locator("#step-summary")
    expect(summary.locator("#sum-date")).to_have_text("Today, Thursday, 20 November 2025")
    expect(summary.locator("#sum-time")).to_have_text(hours("10:00", "11:00"))
    expect(summary.locator("#sum-tickets")).to_contain_text(code[:4] + "-" + code[4:8])
    expect(summary.locator("#sum-email")).to_have_text("visitor@example.com")
    expect(summary.locator("#sum-phone")).to_have_text("+31 \u00b7 020 123 4567")
    shot(page, "summary")
    page.get_by_role("button", name="Confirm").click()

    # Success: where the confirmation went, the QR code, its download and the calendar entry.
    expect(page.get_by_role("heading", name="Your visit is booked")).to_be_visible()
    expect(page.locator("#done-sent")).to_have_text("Confirmation sent to v\u2026@example.com.")
    reservation_id = page.locator("#done-list li").first.get_attribute("data-reservation-id")
    stored = seed.http.get(f"/api/reservations/{reservation_id}").json()["customer_phone"]
    assert stored == "+31201234567"  # typed as at home, kept in E.164
    qr = page.get_by_role("img", name=re.compile("QR code of ticket"))
    expect(qr).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    with page.expect_download() as download:
        page.get_by_role("link", name="Download QR").click()
    assert download.value.suggested_filename == f"ticket-{code[-4:]}.png"
    ics = page.request.get(page.get_by_role("link", name="Add to calendar").get_attribute("href") or "")
    assert ics.ok and "BEGIN:VCALENDAR" in ics.text() and "Visit to City Museum" in ics.text()
    expect(page.get_by_role("link", name="Change or cancel this reservation")).to_have_attribute(
        "href", re.compile(r"^/reserve/[\w-]+$")
    )
    shot(page, "success")
    if viewport == "phone":
        docs_shot(page, seed.server, "reserve-success-phone")

    # At the door: typed in, GREEN with the customer, Mark as Verified, back to scanning.
    door_page = page.context.new_page()
    door_page.goto("/operator")
    staff_login(door_page, door)
    check_only(door_page)
    door_page.locator("input[name=code]").fill(code.lower())
    door_page.get_by_role("button", name="Check").click()
    verdict = door_page.locator("#verdict")
    expect(verdict).to_have_attribute("data-result", "GREEN")
    expect(verdict).to_have_attribute("data-code", "VALID")
    expect(verdict.get_by_role("heading")).to_have_text("VALID")
    expect(verdict).to_contain_text("Thursday, 20 November 2025, " + hours("10:00", "11:00"))
    expect(verdict).to_contain_text("visitor@example.com")
    shot(door_page, "door-green")
    if viewport == "phone":
        docs_shot(door_page, seed.server, "operator-green-phone")
    door_page.get_by_role("button", name="Mark as Verified").click()
    expect(verdict).to_be_hidden()
    expect(door_page.locator("#scan-status")).to_contain_text(f"Verified: ticket …{code[-4:]}")
    expect(door_page.locator("input[name=code]")).to_be_visible()
    expect(door_page.locator("input[name=code]")).to_have_value("")

    # The visitor's own page now says the ticket was used.
    page.get_by_role("link", name="Change or cancel this reservation").click()
    expect(page.locator(".status-pill")).to_have_text("Used for entry")


def test_several_tickets_of_an_order_are_booked_together_and_a_full_slot_offers_alternatives(
    page: Page, seed: Seed, shot: Shot
) -> None:
    orq = seed.org()
    slot = seed.slot(orq, day="2025-11-24", start="10:00", end="11:00", capacity=10)
    seed.slot(orq, day="2025-11-24", start="11:00", end="12:00", capacity=10)
    first, second = seed.tickets(orq, 2)

    page.goto(f"/reserve?code={first}")
    expect(page.locator("#ticket-list li")).to_have_count(1)
    page.get_by_label("Add another ticket from the same order").fill(second)
    page.get_by_role("button", name="Add ticket").click()
    expect(page.locator("#ticket-list li")).to_have_count(2)
    page.get_by_label("Add another ticket from the same order").fill("NOT A REAL CODE AT ALL")
    page.get_by_role("button", name="Add ticket").click()
    expect(page.locator("#ticket-message")).to_contain_text("We could not find a ticket")
    page.get_by_role("button", name="Continue with 2 tickets").click()
    page.locator('#calendar [data-date="2025-11-24"]').click()
    ten = page.locator("#calendar button.slot").filter(has_text=hours("10:00", "11:00"))
    expect(ten).to_contain_text("10/10 available")
    ten.click()
    page.get_by_label("E-mail").fill("group@example.com")
    page.get_by_label("Phone").fill("+31 6 1234 5678")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#sum-tickets .ticket-code")).to_have_count(2)

    seed.book(orq, 9, slot)  # someone else is quicker: one place left, two needed
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#summary-message")).to_contain_text("has just been fully booked")
    alternative = page.locator("#alternatives-list button").filter(has_text=hours("11:00", "12:00"))
    expect(alternative).to_contain_text("10/10 available")
    shot(page, "slot-full")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # fits a phone too
    alternative.click()
    expect(page.locator("#sum-time")).to_have_text(hours("11:00", "12:00"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#done-list li")).to_have_count(2)
    expect(page.get_by_role("img", name=re.compile("QR code of ticket"))).to_have_count(2)


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_ticket_that_cannot_be_booked_says_why_in_plain_words(page: Page, seed: Seed) -> None:
    orq = seed.org()
    code, reservation_id = seed.reserved(orq, seed.slot(orq, day="2025-11-25"))
    page.goto("/reserve")
    page.get_by_label("Ticket code").fill(code)
    page.get_by_label("Ticket code").press("Enter")
    message = page.locator("#ticket-message")
    booked = "is already booked for Tuesday, 25 November 2025, " + hours("10:00", "11:00")
    expect(message).to_contain_text(booked)
    expect(message.get_by_role("link")).to_have_attribute("href", f"/reserve/{reservation_id}")
    expect(page.get_by_role("button", name="Continue")).to_be_hidden()
