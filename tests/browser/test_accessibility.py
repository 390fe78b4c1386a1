"""axe-core, run inside each page (from the axe-playwright-python package: no CDN), finds nothing serious.

Each page is checked in the states a person meets: the booking steps, the scanner with a verdict, the
dashboard and the admin page logged in.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from admit.domain.roles import Role
from tests.browser.conftest import TODAY, Seed, staff_login

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}


def serious_violations(page: Page) -> list[str]:
    """axe's serious and critical violations on the page as it is now, one line each."""
    results: dict[str, Any] = Axe().run(page).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_booking_pages_have_no_serious_accessibility_violations(page: Page, seed: Seed) -> None:
    orq = seed.org()
    seed.slot(orq, day=TODAY, start="15:00", end="16:00")
    (code,) = seed.tickets(orq, mode="pre_made")
    page.goto("/reserve")
    assert serious_violations(page) == []

    page.goto(f"/reserve?code={code}")
    page.get_by_role("button", name="Activate ticket").click()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Continue").click()
    page.locator(f'#calendar [data-date="{TODAY}"]').click()
    expect(page.locator("#calendar button.slot")).to_have_count(1)
    assert serious_violations(page) == []
    page.locator("#calendar button.slot").click()
    page.get_by_label("E-mail").fill("nope")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#email-error")).not_to_be_empty()
    assert serious_violations(page) == []
    page.get_by_label("E-mail").fill("visitor@example.com")
    page.get_by_label("Phone").fill("+31 20 123 4567")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your visit is booked")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Change or cancel this reservation").click()
    expect(page.locator(".status-pill")).to_be_visible()
    assert serious_violations(page) == []


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_staff_pages_have_no_serious_accessibility_violations(page: Page, seed: Seed) -> None:
    orq = seed.org()
    code, _ = seed.reserved(orq, seed.slot(orq, day=TODAY, start="10:00", end="11:00"))
    door, manager, admin = seed.staff(orq, Role.OPERATOR), seed.staff(orq, Role.MANAGER), seed.admin(orq)

    page.goto("/operator")
    assert serious_violations(page) == []
    staff_login(page, door)
    expect(page.locator("input[name=code]")).to_be_visible()
    assert serious_violations(page) == []
    for verdict in ("GREEN", "RED"):
        page.locator("input[name=code]").fill(code if verdict == "GREEN" else "UNKNOWN CODE")
        page.get_by_role("button", name="Check").click()
        expect(page.locator("#verdict")).to_have_attribute("data-result", verdict)
        assert serious_violations(page) == []
        page.get_by_role("button", name="Scan next").click()

    page.goto("/manager")
    staff_login(page, manager)
    expect(page.locator("#history tr")).to_have_count(2)
    assert serious_violations(page) == []

    page.goto("/admin")
    staff_login(page, admin)
    expect(page.locator("#slots tr")).to_have_count(1)
    assert serious_violations(page) == []
