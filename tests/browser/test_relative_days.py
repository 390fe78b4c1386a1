"""The visitor's pages say "Today" and "Tomorrow" by the venue's calendar, not the browser's.

This module's venue is in Auckland and its server's clock is pinned to Thursday 20 November 2025, 12:00
UTC: already Friday 21 November, 01:00, at the venue, while the browser (in UTC) is still on Thursday.
A page that counted from the browser's day would call Friday "tomorrow" and say nothing of Saturday.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CONTACT, Seed

pytestmark = pytest.mark.browser

SERVER_NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
VENUE_TODAY, VENUE_TOMORROW = "2025-11-21", "2025-11-22"


@pytest.fixture(scope="module")
def auckland(seed: Seed) -> int:
    return seed.org(name="Auckland Museum", timezone="Pacific/Auckland")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_booking_the_venues_today_says_today_from_the_times_to_the_done_step(
    page: Page, seed: Seed, auckland: int
) -> None:
    seed.slot(auckland, day=VENUE_TODAY, start="10:00", end="11:00")
    (code,) = seed.tickets(auckland)
    _, tomorrow_id = seed.reserved(
        auckland, seed.slot(auckland, day=VENUE_TOMORROW, start="14:00", end="15:00")
    )

    page.goto(f"/reserve?code={code}")
    page.get_by_role("button", name="Continue").click()
    calendar = page.locator("#calendar")
    calendar.locator(f'[data-date="{VENUE_TODAY}"]').click()
    expect(calendar.get_by_role("heading", name="Times for today, Friday, 21 November 2025")).to_be_visible()
    calendar.locator("button.slot").first.click()
    page.get_by_label("E-mail").fill(CONTACT["customer_email"])
    page.get_by_label("Phone").fill(CONTACT["customer_phone"])
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#sum-date")).to_have_text("Today, Friday, 21 November 2025")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#done-list h3")).to_have_text("Today, Friday, 21 November 2025")

    # The reservation's own page: the venue's tomorrow is Saturday, two days after the browser's today.
    page.goto(f"/reserve/{tomorrow_id}")
    expect(page.locator("#res-date")).to_have_text("Tomorrow, Saturday, 22 November 2025")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_reservation_page_in_dutch_says_vandaag_and_morgen(page: Page, seed: Seed, auckland: int) -> None:
    _, today_id = seed.reserved(auckland, seed.slot(auckland, day=VENUE_TODAY, start="16:00", end="17:00"))
    _, tomorrow_id = seed.reserved(
        auckland, seed.slot(auckland, day=VENUE_TOMORROW, start="16:00", end="17:00")
    )

    page.goto(f"/reserve/{today_id}?lang=nl")
    expect(page.locator("#res-date")).to_have_text("Vandaag, vrijdag 21 november 2025")
    page.goto(f"/reserve/{tomorrow_id}?lang=nl")
    expect(page.locator("#res-date")).to_have_text("Morgen, zaterdag 22 november 2025")
