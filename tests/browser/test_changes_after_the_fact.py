"""What the visitor is offered follows the places and the bookings as they are now.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam; the venue lets bookings change until 24
hours before their time (the default policy).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CONTACT, Seed

pytestmark = pytest.mark.browser

# The first answer for December is held in the page until the test releases it: the places it carries
# are those from before the test fills December's time, as a slow answer's would be.
HOLD_DECEMBER = """
(() => {
  const send = window.fetch.bind(window);
  let waiting = true;
  window.fetch = async (url, init) => {
    const response = await send(url, init);
    if (waiting && String(url).includes("/availability") && String(url).includes("from=2025-12-01")) {
      waiting = false;
      await new Promise((release) => { window.heldDecember = release; });
    }
    return response;
  };
})();
"""


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_month_asked_for_before_the_calendar_opened_again_does_not_show_its_old_places(
    page: Page, seed: Seed
) -> None:
    orq = seed.org()
    seed.slot(orq, day="2025-11-25", start="10:00", end="11:00", capacity=10)
    december = seed.slot(orq, day="2025-12-10", start="10:00", end="11:00", capacity=10)
    (code,) = seed.tickets(orq)
    page.add_init_script(HOLD_DECEMBER)

    page.goto(f"/reserve?code={code}")
    page.get_by_role("button", name="Continue").click()
    calendar = page.locator("#calendar")
    expect(calendar.locator('[data-date="2025-11-25"]')).to_have_attribute("data-level", "available")
    calendar.get_by_role("button", name="Next month").click()
    page.wait_for_function("() => Boolean(window.heldDecember)")  # December's answer came, and waits

    # December fills up meanwhile; the visitor goes back a step and on again: the calendar opens afresh.
    seed.book(orq, 10, december)
    page.locator("#step-date").get_by_role("button", name="Back").click()
    page.get_by_role("button", name="Continue").click()
    expect(calendar.get_by_role("heading", name="November 2025", exact=True)).to_be_visible()
    page.evaluate("() => window.heldDecember()")  # the old answer arrives after the new opening

    calendar.get_by_role("button", name="Next month").click()
    expect(calendar.get_by_role("heading", name="December 2025", exact=True)).to_be_visible()
    expect(calendar.locator('[data-date="2025-12-10"]')).to_have_attribute("data-level", "full")


def test_the_party_page_offers_moving_and_cancelling_everyone_only_if_each_member_may_change(
    page: Page, seed: Seed
) -> None:
    orq = seed.org()
    later = seed.slot(orq, day="2025-11-25", start="10:00", end="11:00", capacity=10)
    soon = seed.slot(orq, day="2025-11-21", start="08:00", end="09:00", capacity=10)  # in 23 hours
    body = {"ticket_codes": seed.tickets(orq, 2), "slot_id": later, **CONTACT}
    booked = seed.call("POST", "/api/reservations", json=body)
    party_id, members = booked["party_id"], booked["reservations"]
    # The second person moved alone to tomorrow morning: inside the 24 hours, it can no longer change.
    seed.call("PUT", f"/api/reservations/{members[1]['reservation_id']}", json={"slot_id": soon})

    page.goto(f"/reserve/party/{party_id}")
    expect(page.locator("#party-counts")).to_have_text("2 booked")
    too_late = "It is too late to change or cancel this reservation."
    expect(page.locator("#change-refusal")).to_have_text(f"Changes are not possible: {too_late}")
    expect(page.locator("#cancel-refusal")).to_have_text(f"Cancelling is not possible: {too_late}")
    expect(page.get_by_role("button", name="Move everyone to another time")).to_be_hidden()
    expect(page.get_by_role("button", name="Cancel everyone")).to_be_hidden()
    # The page says what the API answers.
    refused = seed.http.delete(f"/api/parties/{party_id}")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "CHANGE_CUTOFF_PASSED")

    # The first person's own page still offers both: their own time is days away.
    page.goto(f"/reserve/{members[0]['reservation_id']}")
    expect(page.get_by_role("button", name="Choose another time")).to_be_visible()
