"""The door finds a visitor without their QR: search today's and tomorrow's bookings, tap, verdict, admit.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Seed, Shot, Venue, docs_shot, hours, staff_login
from tests.browser.test_accessibility import serious_violations

pytestmark = pytest.mark.browser


def booked(seed: Seed, venue: Venue, slot: int, email: str) -> str:
    (code,) = seed.tickets(venue.orq)
    body = {
        "ticket_codes": [code],
        "slot_id": slot,
        "customer_email": email,
        "customer_phone": "+31 6 1234 5678",
    }
    seed.call("POST", "/api/reservations", json=body)
    return code


def test_an_operator_finds_a_visitor_by_email_and_admits_them(
    page: Page, seed: Seed, venue: Venue, shot: Shot, viewport: str
) -> None:
    email = f"forgot.qr.{viewport}@example.com"
    code = booked(seed, venue, venue.today, email)
    booked(seed, venue, venue.tomorrow, email)  # the same visitor's booking for tomorrow
    page.goto("/operator")
    staff_login(page, venue.door)
    find = page.get_by_role("search", name="Find visitor")

    field = find.get_by_label("E-mail, phone or the last characters of the ticket code")
    field.fill("abc")
    find.get_by_role("button", name="Find").click()
    expect(find.locator("#find-error")).to_have_text(
        "Type at least 4 characters of the e-mail, phone or ticket code."
    )

    field.fill(f"FORGOT.QR.{viewport}")
    with page.expect_response("**/api/operator/search?*") as answered:
        find.get_by_role("button", name="Find").click()
    assert code not in answered.value.text()  # a code is a bearer credential: the list has its end only
    results = find.get_by_role("list", name="Visitors found").get_by_role("button")
    expect(results).to_have_count(2)
    expect(find.locator("#find-status")).to_have_text("2 bookings found.")
    today = results.first
    expect(today).to_contain_text("Today, Thu 20 Nov, " + hours("10:00", "12:00"))
    expect(today).to_contain_text("fo…@example.com")
    expect(today).to_contain_text("…5678")
    expect(today).to_contain_text("ticket …" + code[-4:])
    expect(results.nth(1)).to_contain_text("Tomorrow, Fri 21 Nov, " + hours("14:00", "15:00"))
    expect(find).not_to_contain_text(email)  # the contact is masked in the list
    shot(page, "found")
    if viewport == "phone":
        docs_shot(page, seed.server, "operator-find-visitor-phone", top=find)
    assert serious_violations(page) == []

    # Admit on scan is on (the default), yet a visitor picked from a list is shown before being let in.
    with page.expect_request("**/api/operator/validate-ticket") as sent:
        today.click()
    assert code not in (sent.value.post_data or "")  # the search's reference to it instead
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-result", "GREEN")
    expect(verdict).to_have_attribute("data-code", "VALID")
    expect(verdict).to_contain_text(email)
    shot(page, "verdict")
    with page.expect_request("**/api/operator/verify-ticket") as sent:
        page.get_by_role("button", name="Mark as Verified").click()
    assert code not in (sent.value.post_data or "")
    expect(verdict).to_have_attribute("data-admitted", "true")
    expect(verdict.get_by_role("heading")).to_have_text("ADMITTED")
    status = seed.call("GET", f"/api/tickets/{code}/status")
    assert status["status"] == "VERIFIED"

    # Back at the scanner, the search is cleared for the next visitor.
    expect(page.locator("#scan-status")).to_contain_text("Admitted: ticket …" + code[-4:])
    expect(find.get_by_role("listitem")).to_have_count(0)
    expect(field).to_have_value("")


def test_the_tomorrow_booking_found_is_red_wrong_date_with_no_admit(
    page: Page, seed: Seed, venue: Venue, viewport: str
) -> None:
    code = booked(seed, venue, venue.tomorrow, f"early.{viewport}@example.com")
    page.goto("/operator")
    staff_login(page, venue.door)
    page.locator("#find-q").fill(code[-6:].lower())
    page.get_by_role("button", name="Find").click()
    page.get_by_role("list", name="Visitors found").get_by_role("button").click()
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-code", "WRONG_DATE")
    expect(page.get_by_role("button", name="Mark as Verified")).to_be_hidden()


def test_a_result_the_server_no_longer_takes_says_so_by_the_list(
    page: Page, seed: Seed, venue: Venue, viewport: str
) -> None:
    code = booked(seed, venue, venue.today, f"late.tap.{viewport}@example.com")
    page.goto("/operator")
    staff_login(page, venue.door)
    page.locator("#find-q").fill(f"late.tap.{viewport}")
    page.get_by_role("button", name="Find").click()

    def altered(route: Route) -> None:
        """The result's reference with one character changed, as if tampered with on its way."""
        body = route.request.post_data_json
        assert isinstance(body, dict)
        ref = body["ref"]
        body["ref"] = ref[:10] + ("A" if ref[10] != "A" else "B") + ref[11:]
        route.continue_(post_data=json.dumps(body))

    page.route("**/api/operator/validate-ticket", altered)
    page.get_by_role("list", name="Visitors found").get_by_role("button").click()
    expect(page.locator("#find-error")).to_have_text(
        "Could not check the ticket: This is not a search result of yours: "
        "find the visitor again, or scan their ticket."
    )
    expect(page.locator("#verdict")).to_be_hidden()
    assert seed.call("GET", f"/api/tickets/{code}/status")["status"] == "RESERVED"
