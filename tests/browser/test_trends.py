"""The manager's trends page: rates and charts over a range of up to a year, each with its figures.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import csv
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from admit.domain.roles import Role
from admit.services.reservations import checked_contact, reserve
from admit.services.slots import NewSlot, create_slot
from tests.browser.conftest import TODAY, Seed, Shot, docs_shot, staff_login
from tests.browser.test_accessibility import serious_violations
from tests.conftest import DEFAULT_NOW

pytestmark = pytest.mark.browser

CHARTS = ("use", "heat", "noshows", "funnel", "door")


def yesterdays_visitors(seed: Seed, orq: int) -> None:
    """Three visitors booked yesterday at 10:00, booked two days ago, who never came: no-shows now."""
    before = DEFAULT_NOW - timedelta(days=2)
    codes = seed.tickets(orq, quantity=3)
    with seed.context.sessions() as session:
        slot = NewSlot(date(2025, 11, 19), time(10), time(11))
        slot_id = create_slot(session, orq=orq, slot=slot, capacity=10, now=before).id
        contact = checked_contact("visitor@example.org", "+31201234567")
        reserve(
            session, ticket_codes=codes, slot_id=slot_id, contact=contact, keys=seed.context.keys, now=before
        )


def test_the_trends_page_draws_each_chart_with_its_figures_and_the_csv_says_the_same(
    page: Page, seed: Seed, shot: Shot, tmp_path: Path, viewport: str
) -> None:
    orq = seed.org()
    admin, manager, door = seed.admin(orq), seed.staff(orq, Role.MANAGER), seed.staff(orq, Role.OPERATOR)
    # Two months of hourly slots, 10:00-15:00 every day, 20 places each.
    schedule = {
        "orq": orq, "from": TODAY, "to": "2026-01-19", "weekdays": list(range(7)), "first_start": "10:00",
        "last_start": "15:00", "every_minutes": 60, "duration_minutes": 60, "total_capacity": 20,
    }  # fmt: skip
    slots = seed.call("POST", "/api/reservation-slots/create", admin, json=schedule)["slots"]
    ten, friday_eleven = slots[0]["slot_id"], slots[7]["slot_id"]
    seed.book(orq, 5, ten)
    seed.book(orq, 4, friday_eleven)
    (premade,) = seed.tickets(orq, mode="pre_made")
    seed.call("POST", f"/api/tickets/{premade}/activate")
    code, _ = seed.reserved(orq, ten)
    seed.call("POST", "/venue/scan", door, json={"code": code, "action": "admit"})
    seed.call("POST", "/api/operator/validate-ticket", door, json={"code": "NOT-A-TICKET-AT-ALL"})
    yesterdays_visitors(seed, orq)

    page.goto("/manager/trends")
    staff_login(page, manager)
    expect(page.get_by_role("heading", name="From Fri 24 Oct to Thu 20 Nov")).to_be_visible()  # 28 days
    # A year's range: the past ten months, which hold no slots, and the two months ahead.
    page.get_by_label("From", exact=True).fill("2025-03-01")
    page.get_by_label("To", exact=True).fill("2026-01-19")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="From Sat 1 Mar to Mon 19 Jan")).to_be_visible()

    expect(page.locator('[data-rate="activation"] .n')).to_have_text("100 %")
    expect(page.locator('[data-rate="activation"]')).to_contain_text("(1 of 1)")
    for chart in CHARTS:
        drawing = page.locator(f"#{chart} svg[role=img]")
        expect(drawing).to_be_visible()
        # The picture's text alternative: a title and a summary of its figures.
        assert drawing.locator("title").text_content()
        assert drawing.locator("desc").text_content()
    expect(page.locator("#use rect[data-bar]")).to_have_count(62)  # a bar a day with slots
    expect(page.locator("#heat rect[data-cell]")).to_have_count(7 * 6)
    expect(page.locator("#funnel rect[data-row]")).to_have_count(4)
    expect(page.locator("#door")).to_contain_text("RED · invalid ticket")
    expect(page.locator('[data-rate="no-show"]')).to_contain_text("(3 of 3)")
    expect(page.locator("#noshows rect[data-bar]")).to_have_count(1)

    # The same figures as a table, for anyone who cannot read the picture.
    page.locator("#use summary").click()
    today = page.locator("#use table tbody tr").nth(1)
    expect(today).to_contain_text("Thu 20 Nov")
    expect(today).to_contain_text("6")  # booked: five and the admitted visitor
    expect(page.locator("#funnel table")).to_contain_text("Admitted")
    shot(page, "trends")
    if viewport == "desktop":
        page.locator("#use summary").click()  # the table closed again, for the README's picture
        docs_shot(page, seed.server, "trends-desktop")
    assert serious_violations(page) == []

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "numbers.csv"
    download.value.save_as(saved)
    with saved.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 62
    assert (rows[0]["date"], rows[0]["booked"], rows[0]["no_shows"]) == ("2025-11-19", "3", "3")
    assert (rows[1]["date"], rows[1]["booked"], rows[1]["capacity"]) == (TODAY, "6", "120")
    assert (rows[2]["date"], rows[2]["booked"]) == ("2025-11-21", "4")
