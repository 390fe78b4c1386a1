"""The venue's identity on the visitor's pages, and the calendar opening where a visitor can book.

This module's server stands on the last evening of a month: Sunday 30 November 2025, 21:00 in
Amsterdam, when nothing can be booked today any more.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, Shot, hours, staff_login
from tests.browser.test_accessibility import serious_violations

pytestmark = pytest.mark.browser

SERVER_NOW = datetime.fromisoformat("2025-11-30T21:00:00+01:00")
LAST_DAY = "2025-11-30"


def logo_png() -> bytes:
    picture = Image.new("RGB", (120, 40), (255, 213, 0))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def venue_with_identity(seed: Seed, brand_colour: str) -> int:
    orq = seed.org("museum-ams-01")
    admin = seed.admin(orq)
    identity = {
        "display_name": "City Museum",
        "address": "Museumplein 1\n1071 DJ Amsterdam",
        "opening_hours": "Tuesday to Sunday, 09:00 to 17:00",
        "brand_colour": brand_colour,
    }
    seed.call("PATCH", f"/api/organizations/{orq}/identity", admin, json=identity)
    headers = {**admin.headers, "Content-Type": "image/png"}
    response = seed.http.put(f"/api/organizations/{orq}/logo", content=logo_png(), headers=headers)
    assert response.status_code == 200, response.text
    return orq


def enter_ticket(page: Page, code: str) -> None:
    page.goto(f"/reserve?code={code}")
    expect(page.locator("#ticket-list li")).to_have_count(1)


@pytest.mark.parametrize("brand_colour", ["#0b3d91", "#ffd500"])
def test_the_venues_name_logo_and_colours_are_shown_and_stay_readable(
    page: Page, seed: Seed, shot: Shot, viewport: str, brand_colour: str
) -> None:
    orq = venue_with_identity(seed, brand_colour)
    seed.slot(orq, day="2025-12-02")
    (code,) = seed.tickets(orq)
    enter_ticket(page, code)

    header = page.locator(".site-header")
    expect(header.locator("#venue-name")).to_have_text("City Museum")
    logo = header.locator("#venue-logo")
    expect(logo).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth === 120", arg=logo.element_handle())
    background = header.evaluate("node => getComputedStyle(node).backgroundColor")
    red, green, blue = (int(brand_colour[i : i + 2], 16) for i in (1, 3, 5))
    assert background == f"rgb({red}, {green}, {blue})"
    info = page.locator("#venue-info")
    expect(info).to_contain_text("Museumplein 1")
    expect(info).to_contain_text("Tuesday to Sunday, 09:00 to 17:00")
    expect(page).to_have_title("Book your visit · City Museum")
    shot(page, "venue")
    assert serious_violations(page) == []  # the header's text on the brand colour included


def test_the_calendar_opens_on_the_next_month_on_the_last_day_of_a_month(
    page: Page, seed: Seed, shot: Shot, viewport: str
) -> None:
    orq = seed.org()
    seed.slot(orq, day=LAST_DAY, start="10:00", end="11:00")  # this morning: gone
    full = seed.slot(orq, day="2025-12-01", start="10:00", end="11:00", capacity=2)
    seed.book(orq, 2, full)  # tomorrow is full
    seed.slot(orq, day="2025-12-03", start="14:00", end="15:00")
    (code,) = seed.tickets(orq)
    enter_ticket(page, code)
    page.get_by_role("button", name="Continue").click()

    calendar = page.locator("#calendar")
    expect(calendar.get_by_role("heading", name="December 2025")).to_be_visible()
    first = calendar.locator('[data-date="2025-12-03"]')
    expect(first).to_have_attribute("tabindex", "0")  # the first day that can be booked has the focus stop
    if viewport == "desktop":  # the month after it beside it
        expect(calendar.get_by_role("heading", name="January 2026")).to_be_visible()
        expect(calendar.locator(".calendar")).to_have_count(2)
    else:
        expect(calendar.locator(".calendar")).to_have_count(1)
    expect(calendar.get_by_role("heading", name="November 2025")).to_have_count(0)
    shot(page, "month-end")

    # Back to November with the button: today is the last day, its slot has started.
    calendar.get_by_role("button", name="Previous month").click()
    expect(calendar.get_by_role("heading", name="November 2025")).to_be_visible()
    expect(calendar.locator(f'[data-date="{LAST_DAY}"]')).to_have_attribute("aria-disabled", "true")
    calendar.get_by_role("button", name="Next month").click()
    first.click()
    calendar.locator("button.slot").filter(has_text=hours("14:00", "15:00")).click()
    expect(page.get_by_role("heading", name="Your contact details")).to_be_focused()


def test_the_booked_time_stays_marked_while_moving_it(page: Page, seed: Seed, viewport: str) -> None:
    orq = seed.org()
    booked = seed.slot(orq, day="2025-12-04", start="10:00", end="11:00")
    seed.slot(orq, day="2025-12-04", start="11:00", end="12:00")
    _, reservation_id = seed.reserved(orq, booked)
    page.goto(f"/reserve/{reservation_id}")
    page.get_by_role("button", name="Choose another time").click()
    slots = page.locator("#calendar button.slot")
    current = slots.filter(has_text=hours("10:00", "11:00"))
    expect(current).to_have_attribute("aria-pressed", "true")
    other = slots.filter(has_text=hours("11:00", "12:00"))
    other.click()
    expect(other).to_have_attribute("aria-pressed", "true")
    expect(current).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#move-question")).to_contain_text(hours("11:00", "12:00"))


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_admin_sets_the_venue_and_uploads_its_logo_which_visitors_then_see(
    page: Page, seed: Seed, shot: Shot, tmp_path: Path
) -> None:
    orq = seed.org("zoo-internal")
    seed.slot(orq, day="2025-12-02")
    (code,) = seed.tickets(orq)
    page.goto("/admin")
    staff_login(page, seed.admin(orq))
    expect(page.locator("#i-country-default")).to_have_text("From the time zone (NL)")
    page.get_by_label("Name shown to visitors").fill("Artis Zoo")
    page.get_by_label("Address").fill("Plantage Kerklaan 38\nAmsterdam")
    page.get_by_label("Brand colour").fill("navy")
    page.get_by_role("button", name="Save venue details").click()
    expect(page.locator("#identity-message")).to_contain_text("brand_colour")
    page.get_by_label("Brand colour").fill("#14532d")
    page.get_by_role("button", name="Save venue details").click()
    expect(page.locator("#identity-message")).to_contain_text("Venue details saved")

    not_an_image = tmp_path / "logo.png"
    not_an_image.write_text("<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    page.get_by_label("Logo file").set_input_files(str(not_an_image))
    page.get_by_role("button", name="Upload logo").click()
    expect(page.locator("#logo-message")).to_contain_text("PNG or JPEG")
    real = tmp_path / "real-logo.png"
    real.write_bytes(logo_png())
    page.get_by_label("Logo file").set_input_files(str(real))
    page.get_by_role("button", name="Upload logo").click()
    expect(page.locator("#logo-message")).to_contain_text("Logo saved")
    expect(page.get_by_role("img", name="Current logo")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "admin-identity")

    enter_ticket(page, code)
    expect(page.locator("#venue-name")).to_have_text("Artis Zoo")
    expect(page.locator("#venue-logo")).to_be_visible()
    expect(page.locator("#venue-info")).to_contain_text("Plantage Kerklaan 38")
