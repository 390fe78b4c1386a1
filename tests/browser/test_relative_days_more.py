"""More of the visitor's and the manager's sentences name days by the venue's calendar.

As in test_relative_days: the venue is in Auckland and the server's clock is pinned to Thursday 20
November 2025, 12:00 UTC, already Friday 21 November, 01:00, at the venue, while the browser (in UTC) is
still on Thursday. Counted from the browser's day, Saturday would not be "tomorrow", nor Thursday
"yesterday".
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from admit.domain.roles import Role
from tests.browser.conftest import Seed, hours, staff_login

pytestmark = pytest.mark.browser

SERVER_NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
VENUE_TODAY, VENUE_TOMORROW = "2025-11-21", "2025-11-22"


@pytest.fixture
def auckland(seed: Seed) -> int:
    """A venue of the test's own: its days and times are only the test's."""
    return seed.org(name="Auckland Museum", timezone="Pacific/Auckland")


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_ticket_booked_for_the_venues_tomorrow_says_so_when_entered_again(
    page: Page, seed: Seed, auckland: int
) -> None:
    code, _ = seed.reserved(auckland, seed.slot(auckland, day=VENUE_TOMORROW, start="14:00", end="15:00"))

    page.goto(f"/reserve?code={code}")
    expect(page.locator("#ticket-message")).to_contain_text(
        f"Ticket {grouped(code)} is already booked for tomorrow, Saturday, 22 November 2025, "
        + hours("14:00", "15:00")
    )


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_day_without_times_is_named_by_the_venues_calendar(page: Page, seed: Seed, auckland: int) -> None:
    seed.slot(auckland, day=VENUE_TODAY, start="10:00", end="11:00")
    (code,) = seed.tickets(auckland)

    page.goto(f"/reserve?code={code}")
    page.get_by_role("button", name="Continue").click()
    calendar = page.locator("#calendar")
    expect(calendar.locator(f'[data-date="{VENUE_TODAY}"]')).to_have_attribute("data-level", "available")
    # Marked unavailable, yet it answers a click with why.
    calendar.locator(f'[data-date="{VENUE_TOMORROW}"]').click(force=True)
    expect(calendar.get_by_role("alert")).to_have_text(
        "There are no times to book for tomorrow, Saturday, 22 November 2025."
    )


def test_the_scan_history_names_yesterday_and_tomorrow_by_the_venues_calendar(
    page: Page, seed: Seed, auckland: int
) -> None:
    door = seed.staff(auckland, Role.OPERATOR, name="Ngaio")
    code, _ = seed.reserved(auckland, seed.slot(auckland, day=VENUE_TOMORROW, start="14:00", end="15:00"))
    # The door's offline scans of the venue's yesterday and the day before, synced now.
    for scan_id, at in (("s-1", "2025-11-20T17:02:00+13:00"), ("s-2", "2025-11-19T17:02:00+13:00")):
        scan = {"scan_id": scan_id, "code": code, "scanned_at": at, "action": "validate"}
        scan.update(offline_result="RED", offline_code="WRONG_DATE")
        seed.call("POST", "/api/operator/scans/sync", door, json={"device_id": "lane-1", "scans": [scan]})
    seed.call("POST", "/api/operator/validate-ticket", door, json={"code": code, "device_id": "lane-1"})

    page.goto("/manager")
    staff_login(page, seed.staff(auckland, Role.MANAGER))
    expect(page.locator("#history tr")).to_have_count(1)  # the day shown: today's scan, by its time alone
    expect(page.locator("#history tr td").first).to_have_text("01:00")
    page.get_by_label("From").fill("2025-11-19")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#history tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("td:first-child")).to_have_text(["01:00", "yesterday 17:02", "Wed 19 Nov 17:02"])
    # Each row's booking: the venue's tomorrow.
    expect(rows.locator("td:nth-child(5)")).to_have_text(["tomorrow 14:00"] * 3)
