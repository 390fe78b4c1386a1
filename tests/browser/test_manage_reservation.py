"""A reservation's own page (/reserve/{id}): moving it by keyboard, cancelling, and the policy's refusals.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import TODAY, Seed, Shot, docs_shot, hours

pytestmark = pytest.mark.browser


def test_a_visitor_moves_a_reservation_from_its_link_with_the_keyboard(
    page: Page, seed: Seed, shot: Shot, viewport: str
) -> None:
    orq = seed.org()
    booked = seed.slot(orq, day="2025-11-25", start="10:00", end="11:00")
    later = seed.slot(orq, day="2025-11-26", start="14:00", end="15:00")
    code, reservation_id = seed.reserved(orq, booked)

    page.goto(f"/reserve/{reservation_id}")
    expect(page.locator(".status-pill")).to_have_text("Booked")
    expect(page.locator("#res-date")).to_have_text("Tuesday, 25 November 2025")
    qr_name = f"QR code of ticket {code[:4]}-{code[4:8]}"
    expect(page.get_by_role("img", name=qr_name, exact=False)).to_be_visible()
    expect(page.get_by_role("link", name="Printable ticket")).to_be_visible()
    expect(page.get_by_role("link", name="Add to Apple Wallet")).to_have_count(0)  # no pass certificate here
    page.get_by_role("button", name="Choose another time").click()

    # The calendar opens on the booked day; the arrow keys move to the next day, Enter picks it.
    booked_day = page.locator('#calendar [data-date="2025-11-25"]')
    expect(booked_day).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator('#calendar [data-date="2025-11-26"]')).to_be_focused()
    page.keyboard.press("Enter")
    target = page.locator("#calendar button.slot").filter(has_text=hours("14:00", "15:00"))
    expect(target).to_be_focused()
    page.keyboard.press("Enter")
    new_time = "Wednesday, 26 November 2025, " + hours("14:00", "15:00")
    expect(page.locator("#move-question")).to_contain_text(f"to {new_time}")
    page.get_by_role("button", name="Move reservation").click()

    expect(page.locator("#details-message")).to_contain_text(f"Your reservation is moved to {new_time}")
    expect(page.locator("#res-date")).to_have_text("Wednesday, 26 November 2025")
    expect(page.locator("#res-time")).to_have_text(hours("14:00", "15:00"))
    shot(page, "moved")
    if viewport == "phone":
        docs_shot(page, seed.server, "manage-reservation-phone")
    assert seed.call("GET", f"/api/reservations/{reservation_id}")["slot_id"] == later


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_visitor_cancels_and_may_book_the_ticket_again(page: Page, seed: Seed) -> None:
    orq = seed.org()
    _, reservation_id = seed.reserved(orq, seed.slot(orq, day="2025-11-27"))
    page.goto(f"/reserve/{reservation_id}")
    page.get_by_role("button", name="Cancel reservation").click()
    page.get_by_role("button", name="Yes, cancel").click()
    expect(page.locator("#details-message")).to_contain_text("Your reservation is cancelled")
    expect(page.locator(".status-pill")).to_have_text("Cancelled")
    page.get_by_role("link", name="Book a new time with this ticket").click()
    expect(page.locator("#ticket-list li")).to_contain_text("Ready to book")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_where_the_policy_refuses_the_page_says_why_before_and_after_trying(
    page: Page, seed: Seed, shot: Shot
) -> None:
    # US-015's MVP: no changes at all.
    strict = seed.org("Strict Museum", reservation_changes="none", cancellation_allowed=False)
    _, strict_id = seed.reserved(strict, seed.slot(strict, day="2025-11-25"))
    page.goto(f"/reserve/{strict_id}")
    expect(page.locator("#change-refusal")).to_have_text(
        "Changes are not possible: This venue does not allow reservations to be changed."
    )
    expect(page.locator("#cancel-refusal")).to_have_text(
        "Cancelling is not possible: This venue does not allow reservations to be cancelled."
    )
    expect(page.get_by_role("button", name="Choose another time")).to_be_hidden()
    expect(page.get_by_role("button", name="Cancel reservation")).to_be_hidden()
    shot(page, "refused")
    # The reason in the page's language, the policy's own words included.
    page.goto(f"/reserve/{strict_id}?lang=nl")
    expect(page.locator("#change-refusal")).to_have_text(
        "Verzetten is niet mogelijk: Bij deze locatie kun je een reservering niet wijzigen."
    )
    page.goto(f"/reserve/{strict_id}?lang=en")

    # Within the cutoff (24 hours before the slot): too late.
    museum = seed.org()
    _, today_id = seed.reserved(museum, seed.slot(museum, day=TODAY, start="15:00", end="16:00"))
    page.goto(f"/reserve/{today_id}")
    too_late = "It is too late to change or cancel this reservation."
    expect(page.locator("#change-refusal")).to_contain_text(too_late)

    # The policy changes while the page is open: the API's 403 is shown when the visitor tries.
    seed.slot(museum, day="2025-11-28", start="10:00", end="11:00")
    _, open_id = seed.reserved(museum, seed.slot(museum, day="2025-11-27", start="10:00", end="11:00"))
    page.goto(f"/reserve/{open_id}")
    page.get_by_role("button", name="Choose another time").click()
    policy = f"/api/organizations/{museum}/policy"
    seed.call("PATCH", policy, seed.admin(museum), json={"reservation_changes": "none"})
    page.locator('#calendar [data-date="2025-11-28"]').click()
    page.locator("#calendar button.slot").first.click()
    page.get_by_role("button", name="Move reservation").click()
    refused = "This venue does not allow reservations to be changed."
    expect(page.locator("#change-message")).to_have_text(refused)
    expect(page.locator("#change-refusal")).to_be_visible()
    expect(page.locator("#res-date")).to_have_text("Thursday, 27 November 2025")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_an_unknown_reservation_link_is_a_404_page_that_points_to_booking(page: Page) -> None:
    response = page.goto("/reserve/not-a-reservation-id")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Reservation not found")).to_be_visible()
    expect(page.get_by_role("link", name="Go to booking")).to_have_attribute("href", "/reserve")
