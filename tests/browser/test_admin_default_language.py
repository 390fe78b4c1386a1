"""The admin chooses the language the venue's visitors get when their browser asks for none Admit speaks.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, staff_login

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("viewport", ["desktop"], indirect=True)]


def test_the_admin_sets_the_visitors_default_language_named_in_itself(page: Page, seed: Seed) -> None:
    orq = seed.org()
    admin = seed.admin(orq)
    page.goto("/admin")
    staff_login(page, admin)
    expect(page.get_by_role("heading", name="City Museum")).to_be_visible()  # the venue's details are in
    choice = page.get_by_label("Default language for visitors")
    expect(choice).to_have_value("en")  # a new venue's
    expect(choice.locator("option")).to_have_text(["English", "Nederlands", "Deutsch", "Français", "Español"])

    choice.select_option("de")
    page.get_by_role("button", name="Save venue details").click()
    expect(page.locator("#identity-message")).to_have_text("✓ Venue details saved.")
    assert seed.call("GET", f"/api/organizations/{orq}", admin)["identity"]["default_language"] == "de"

    page.reload()
    expect(page.get_by_label("Default language for visitors")).to_have_value("de")
    # Saving the other details keeps it.
    page.get_by_label("Opening hours").fill("Daily 10:00 to 17:00")
    page.get_by_role("button", name="Save venue details").click()
    expect(page.locator("#identity-message")).to_have_text("✓ Venue details saved.")
    assert seed.call("GET", f"/api/organizations/{orq}", admin)["identity"]["default_language"] == "de"
