"""The manager's dashboard counts what happened at the door, and the admin page changes policy and slots.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from admit.domain.roles import Role
from admit.services.reservations import checked_contact, reserve
from tests.browser.conftest import CONTACT, TODAY, Seed, Shot, docs_shot, staff_login
from tests.conftest import DEFAULT_NOW

pytestmark = pytest.mark.browser


def test_the_dashboard_counts_the_verified_ticket_per_slot_and_lists_the_scans(
    page: Page, seed: Seed, shot: Shot, viewport: str
) -> None:
    orq = seed.org()
    door = seed.staff(orq, Role.OPERATOR, name="Jane Smith")
    manager = seed.staff(orq, Role.MANAGER, name="Morgan Manager")
    morning = seed.slot(orq, day=TODAY, start="10:00", end="11:00", capacity=20)
    seed.slot(orq, day=TODAY, start="11:00", end="12:00", capacity=20)
    admitted, _ = seed.reserved(orq, morning)
    seed.reserved(orq, morning)
    validate = "/api/operator/validate-ticket"
    seed.call("POST", "/api/operator/verify-ticket", door, json={"code": admitted, "device_id": "lane-1"})
    (unbooked,) = seed.tickets(orq)
    seed.call("POST", validate, door, json={"code": unbooked, "device_id": "lane-1"})
    for _ in range(24):  # enough for a second page of history
        seed.call("POST", validate, door, json={"code": admitted, "device_id": "lane-2"})

    page.goto("/manager")
    staff_login(page, manager)
    expect(page.get_by_role("heading", name="At the door: today, Thursday, 20 November 2025")).to_be_visible()
    counts = page.locator("#counts")
    expect(counts.locator('[data-count="verified"] .n')).to_have_text("1")
    expect(counts.locator('[data-count="validated"] .n')).to_have_text("26")
    expect(counts.locator('[data-count="GREEN"]')).to_contain_text("1")
    expect(counts.locator('[data-count="YELLOW"] .n')).to_have_text("24")
    expect(counts.locator('[data-count="RED"] .n')).to_have_text("1")
    expect(page.locator('#reasons [data-reason="NO_RESERVATION"]')).to_have_text("no reservation: 1")

    row = page.locator(f'#utilisation [data-slot-id="{morning}"]')
    expect(row).to_contain_text("2/20 booked (10 %) · 1 verified")
    expect(page.locator(f'#chart rect[data-slot-id="{morning}"]')).to_have_attribute("data-arrivals", "1")

    history = page.locator("#history tr")
    expect(history).to_have_count(25)
    expect(history.first).to_have_attribute("data-code", "ALREADY_VERIFIED")
    page.get_by_role("button", name="Load more").click()
    expect(history).to_have_count(26)
    expect(history.last).to_have_attribute("data-result", "GREEN")
    expect(history.last).to_contain_text("Jane Smith")
    shot(page, "dashboard")
    if viewport == "desktop":
        page.evaluate("window.scrollTo(0, 0)")
        docs_shot(page, seed.server, "manager-desktop")

    page.get_by_label("Result").select_option("RED")
    page.get_by_role("button", name="Filter").click()
    expect(history).to_have_count(1)
    expect(history.first).to_have_attribute("data-code", "NO_RESERVATION")
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()

    # An operator's login is not enough for the dashboard.
    page.get_by_role("button", name="Log out").click()
    staff_login(page, door)
    expect(page.locator("#login-message")).to_contain_text("This page needs the manager role")


def test_the_dashboard_shows_the_no_shows_of_a_slot_whose_entry_window_has_closed(
    page: Page, seed: Seed, shot: Shot
) -> None:
    orq = seed.org(entry_window={"minutes_before_start": 30, "minutes_after_end": 30})
    early = seed.slot(orq, day=TODAY, start="07:00", end="08:00", capacity=10)
    later = seed.slot(orq, day=TODAY, start="10:00", end="11:00", capacity=10)
    # Booked at 06:00, before the early slot began (the API refuses a slot that has started).
    with seed.context.sessions() as session:
        reserve(
            session,
            ticket_codes=seed.tickets(orq, 3),
            slot_id=early,
            contact=checked_contact(CONTACT["customer_email"], CONTACT["customer_phone"]),
            keys=seed.context.keys,
            now=DEFAULT_NOW - timedelta(hours=3),
        )
    seed.reserve(seed.tickets(orq, 2), later)

    page.goto("/manager")
    staff_login(page, seed.staff(orq, Role.MANAGER))
    # 09:00: the early slot's window closed at 08:30; the later one is still to come.
    expect(page.locator(f'#utilisation [data-slot-id="{early}"] [data-no-shows]')).to_have_text("3 no-shows")
    expect(page.locator(f'#utilisation [data-slot-id="{later}"]')).to_contain_text("2/10 booked")
    expect(page.locator(f'#utilisation [data-slot-id="{later}"] [data-no-shows]')).to_have_count(0)
    shot(page, "no-shows")


def test_the_dashboard_counts_a_scan_within_a_moment_without_a_reload(
    page: Page, seed: Seed, shot: Shot
) -> None:
    orq = seed.org()
    door = seed.staff(orq, Role.OPERATOR)
    slot = seed.slot(orq, day=TODAY, start="10:00", end="11:00", capacity=10)
    code, _ = seed.reserved(orq, slot)
    page.goto("/manager")
    staff_login(page, seed.staff(orq, Role.MANAGER))
    counts = page.locator("#counts")
    expect(counts.locator('[data-count="validated"] .n')).to_have_text("0")
    expect(page.locator("#updated")).to_contain_text("live")

    seed.call("POST", "/api/operator/verify-ticket", door, json={"code": code})
    # Pushed by the server: the stream carries it within about a second; the wait allows for a slow machine.
    expect(counts.locator('[data-count="verified"] .n')).to_have_text("1", timeout=5_000)
    expect(counts.locator('[data-count="validated"] .n')).to_have_text("1")
    expect(page.locator(f'#utilisation [data-slot-id="{slot}"]')).to_contain_text(
        "1/10 booked (10 %) · 1 verified"
    )
    expect(page.locator("#history tr")).to_have_count(1)
    shot(page, "live")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_dashboard_polls_where_the_stream_cannot_be_read(page: Page, seed: Seed) -> None:
    orq = seed.org()
    door = seed.staff(orq, Role.OPERATOR)
    # As behind a proxy that refuses or cuts the stream.
    page.route("**/api/operator/stats/stream*", lambda route: route.abort())
    page.clock.install()
    page.goto("/manager")
    with page.expect_event("requestfailed", lambda request: "/stats/stream" in request.url):
        staff_login(page, seed.staff(orq, Role.MANAGER))
    validated = page.locator('#counts [data-count="validated"] .n')
    expect(validated).to_have_text("0")
    expect(page.locator("#updated")).to_contain_text("every 10 seconds")
    seed.call("POST", "/api/operator/validate-ticket", door, json={"code": "NOT-A-TICKET"})
    page.clock.run_for(10_500)
    expect(validated).to_have_text("1")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_admin_page_changes_the_policy_adds_a_schedule_and_closes_a_slot(
    page: Page, seed: Seed, shot: Shot
) -> None:
    orq = seed.org("Harbour Museum")
    admin = seed.admin(orq)
    seed.slot(orq, day=TODAY, start="10:00", end="11:00", capacity=20)
    page.goto("/admin")
    staff_login(page, admin)
    expect(page.get_by_role("heading", name="Harbour Museum")).to_be_visible()
    expect(page.locator(f"#staff tr[data-username='{admin.username}']")).to_contain_text("you")
    expect(page.get_by_role("button", name="Create account")).to_be_visible()

    page.get_by_label("Tickets without a reservation at the door").select_option("allow")
    page.get_by_label("Cutoff: hours before the slot starts").fill("48")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator("#policy-message")).to_have_text("✓ Policy saved.")
    policy = seed.call("GET", f"/api/organizations/{orq}", admin)["policy"]
    assert (policy["unreserved_entry"], policy["change_cutoff_hours"]) == ("allow", 48)

    page.get_by_label("From", exact=True).fill("2025-12-01")
    page.get_by_label("To", exact=True).fill("2025-12-07")
    for day in ("Sat", "Sun"):
        page.get_by_label(day, exact=True).uncheck()
    page.get_by_label("First start").fill("10:00")
    page.get_by_label("Last start").fill("12:00")
    page.get_by_role("button", name="Create slots").click()
    expect(page.locator("#schedule-message")).to_have_text("✓ Created 15 slots.")  # 5 weekdays x 3 starts

    slot_row = page.locator("#slots tr").first
    expect(slot_row).to_contain_text("active")
    slot_row.get_by_role("button", name="Close").click()
    expect(page.locator("#slots-message")).to_contain_text("closed for booking")
    expect(page.locator("#slots tr").first).to_contain_text("closed")
    shot(page, "admin")
    page.evaluate("window.scrollTo(0, 0)")
    docs_shot(page, seed.server, "admin-desktop")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_the_dashboard_lists_a_ticket_two_offline_scanners_let_in(page: Page, seed: Seed) -> None:
    orq = seed.org()
    anna = seed.staff(orq, Role.OPERATOR, name="Anna")
    ben = seed.staff(orq, Role.OPERATOR, name="Ben")
    code, _ = seed.reserved(orq, seed.slot(orq, day=TODAY, start="10:00", end="11:00", capacity=5))
    for staff, device, when in ((anna, "lane-1", "08:10"), (ben, "lane-2", "08:20")):
        scan = {"scan_id": "q-1", "code": code, "scanned_at": f"{TODAY}T{when}:00+01:00", "action": "admit"}
        scan.update(offline_result="GREEN", offline_code="VALID")
        seed.call("POST", "/api/operator/scans/sync", staff, json={"device_id": device, "scans": [scan]})

    page.goto("/manager")
    staff_login(page, seed.staff(orq, Role.MANAGER))
    expect(page.locator('#counts [data-count="conflicts"] .n')).to_have_text("1")
    expect(page.locator('#counts [data-count="verified"] .n')).to_have_text("1")
    conflicts = page.locator("#conflicts li")
    expect(conflicts).to_have_count(1)
    expect(conflicts.first).to_contain_text(f"Ticket …{code[-4:]}")
    expect(conflicts.first).to_contain_text("08:10 by Anna on lane-1 (offline)")
    expect(conflicts.first).to_contain_text("08:20 by Ben on lane-2 (offline)")
    page.get_by_label("Result").select_option("CONFLICT")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#history tr")).to_have_count(1)
    expect(page.locator("#history tr").first).to_contain_text("Ben")
