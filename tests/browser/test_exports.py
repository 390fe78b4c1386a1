"""The manager downloads the scan history, as filtered, and the day's reservations as CSV files.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from admit.domain.roles import Role
from tests.browser.conftest import TODAY, Seed, staff_login

pytestmark = pytest.mark.browser


def read_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_the_manager_filters_the_history_by_ticket_and_downloads_it_and_the_days_reservations(
    page: Page, seed: Seed
) -> None:
    orq = seed.org()
    door = seed.staff(orq, Role.OPERATOR, name="Jane Smith")
    manager = seed.staff(orq, Role.MANAGER)
    slot = seed.slot(orq, day=TODAY)
    admitted, other = seed.tickets(orq, 2)
    seed.reserve([admitted, other], slot)  # a party of two, booked together
    seed.call("POST", "/api/operator/verify-ticket", door, json={"code": admitted})
    seed.call("POST", "/api/operator/validate-ticket", door, json={"code": other})

    page.goto("/manager")
    staff_login(page, manager)
    history = page.locator("#history tr")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text(f"Jane Smith #{door.id}")

    page.get_by_label("Ticket (code or its last 4+ characters)").fill(admitted[-5:].lower())
    page.get_by_role("button", name="Filter").click()
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("…" + admitted[-4:])
    with page.expect_download() as scans:
        page.get_by_role("button", name="Download CSV").click()

    rows = read_csv(scans.value.path())
    assert scans.value.suggested_filename == f"scan-history-{TODAY}-to-{TODAY}.csv"
    assert [(r["ticket_code_suffix"], r["result"], r["operator_id"], r["operator_name"]) for r in rows] == [
        (admitted[-4:], "GREEN", str(door.id), "Jane Smith")
    ]

    with page.expect_download() as reservations:
        page.get_by_role("button", name="Download the day's reservations (CSV)").click()

    booked = read_csv(reservations.value.path())
    assert sorted((r["ticket_code_suffix"], r["status"], r["verified_by_name"]) for r in booked) == sorted(
        [(admitted[-4:], "VERIFIED", "Jane Smith"), (other[-4:], "RESERVED", "")]
    )
    assert {(r["start_time"], r["party_size"]) for r in booked} == {("10:00", "2")}

    page.get_by_label("Ticket (code or its last 4+ characters)").fill("AB")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#dash-message")).to_contain_text("ticket: a ticket code or at least its last 4")
