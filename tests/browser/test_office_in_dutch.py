"""The office pages in Dutch: chosen once with `?lang=nl`, remembered for the dashboard, trends and admin.

The staff log in first, in the pages' default English, and then choose Dutch: the login (kept per tab)
holds across the change. Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from admit.domain.roles import Role
from tests.browser.conftest import TODAY, Seed, Shot, hours, staff_login
from tests.browser.test_accessibility import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("viewport", ["desktop"], indirect=True)]


def test_the_dashboard_and_the_admin_page_speak_dutch_once_chosen(page: Page, seed: Seed, shot: Shot) -> None:
    orq = seed.org("Stadsmuseum")
    admin, door = seed.admin(orq), seed.staff(orq, Role.OPERATOR, name="Jan de Vries")
    morning = seed.slot(orq, day=TODAY, start="10:00", end="11:00", capacity=20)
    code, _ = seed.reserved(orq, morning)
    seed.reserved(orq, morning)
    seed.call("POST", "/api/operator/verify-ticket", door, json={"code": code, "device_id": "lane-1"})
    seed.call("POST", "/api/operator/validate-ticket", door, json={"code": "NOT-A-TICKET-AT-ALL"})

    page.goto("/manager")
    staff_login(page, admin)
    expect(page.locator("#dash-title")).to_have_text("At the door: today, Thursday, 20 November 2025")
    page.goto("/manager?lang=nl")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(
        page.get_by_role("heading", name="Bij de ingang: vandaag, donderdag 20 november 2025")
    ).to_be_visible()
    expect(page.locator('#counts [data-count="verified"]')).to_contain_text("binnengelaten (toegang)")
    expect(page.locator('#counts [data-count="RED"]')).to_contain_text("ROOD · geweigerd")
    expect(page.locator('#reasons [data-reason="INVALID_TICKET"]')).to_have_text("ongeldig ticket: 1")
    expect(page.locator(f'#utilisation [data-slot-id="{morning}"]')).to_contain_text(
        "2/20 geboekt (10 %) · 1 binnengelaten"
    )
    expect(page.locator("#updated")).to_contain_text("Bijgewerkt om")
    expect(page.locator('#history tr[data-code="VALID"]')).to_contain_text("Jan de Vries")
    page.get_by_label("Resultaat").select_option("RED")
    page.get_by_role("button", name="Filteren").click()
    expect(page.locator("#history tr")).to_have_count(1)
    expect(page.locator("#history tr").first).to_contain_text("ROOD")
    shot(page, "dashboard-nl")
    assert serious_violations(page) == []

    # Remembered: the admin page, with no choice in its address, is in Dutch too.
    page.get_by_role("link", name="Trends").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    page.goto("/admin")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", name="Stadsmuseum")).to_be_visible()
    expect(page.locator("#org-line")).to_have_text(f"Organisatie {orq} · tijdzone Europe/Amsterdam")
    page.get_by_label("Tickets zonder reservering bij de ingang").select_option("allow")
    page.get_by_role("button", name="Regels opslaan").click()
    expect(page.locator("#policy-message")).to_have_text("✓ Regels opgeslagen.")

    # Weekdays as Dutch writes them, and the answer in Dutch with its plural.
    page.get_by_label("Van", exact=True).fill("2025-12-01")
    page.get_by_label("Tot en met", exact=True).fill("2025-12-07")
    for day in ("za", "zo"):
        page.get_by_label(day, exact=True).uncheck()
    page.get_by_label("Eerste begintijd").fill("10:00")
    page.get_by_label("Laatste begintijd").fill("12:00")
    page.get_by_role("button", name="Tijdsloten maken").click()
    expect(page.locator("#schedule-message")).to_have_text("✓ 15 tijdsloten gemaakt.")
    row = page.locator(f'#slots tr[data-slot-id="{morning}"]')
    expect(row).to_contain_text("actief")
    expect(row.get_by_role("button", name=f"{hours('10:00', '11:00')} sluiten")).to_be_visible()
    expect(page.locator(f"#staff tr[data-username='{admin.username}']")).to_contain_text("jij")
    expect(page.locator(f"#staff tr[data-username='{door.username}']")).to_contain_text("actief")
    expect(page.get_by_label(f"Rol van {door.username}")).to_have_value("operator")
    expect(page.get_by_label(f"Rol van {door.username}").locator("option:checked")).to_have_text("medewerker")
    shot(page, "admin-nl")
    assert serious_violations(page) == []

    # The API reference's shell follows the same choice; Swagger UI's own words stay its own.
    page.goto("/docs")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page).to_have_title("API-naslag · Admit")


def test_the_trends_page_in_dutch_draws_its_charts_with_dutch_summaries(
    page: Page, seed: Seed, shot: Shot
) -> None:
    orq = seed.org()
    admin = seed.admin(orq)
    schedule = {
        "orq": orq, "from": TODAY, "to": "2025-11-26", "weekdays": list(range(7)), "first_start": "10:00",
        "last_start": "11:00", "every_minutes": 60, "duration_minutes": 60, "total_capacity": 10,
    }  # fmt: skip
    slots = seed.call("POST", "/api/reservation-slots/create", admin, json=schedule)["slots"]
    seed.book(orq, 4, slots[0]["slot_id"])  # Thursday 10:00, the fullest hour
    seed.call("POST", "/api/operator/validate-ticket", admin, json={"code": "NOT-A-TICKET-AT-ALL"})

    page.goto("/manager/trends")
    staff_login(page, admin)
    expect(page.locator("#trends-title")).to_have_text("From Fri 24 Oct to Thu 20 Nov")
    page.goto("/manager/trends?lang=nl")
    expect(page.locator("#trends-title")).to_have_text("Van vr 24 okt tot en met do 20 nov")
    page.get_by_label("Tot en met", exact=True).fill("2025-11-26")
    page.get_by_role("button", name="Tonen").click()
    expect(page.locator("#trends-title")).to_have_text("Van vr 24 okt tot en met wo 26 nov")

    heat = page.locator("#heat svg[role=img]")
    expect(heat.locator("title")).to_have_text("Bezetting per weekdag en uur (donkerder is voller)")
    expect(heat.locator("desc")).to_have_text("Het volst: donderdag om 10:00, 40 % geboekt")
    expect(heat.locator("text").first).to_have_text("ma")  # the weekdays' row labels, Monday first
    expect(page.locator("#use svg desc")).to_contain_text("do 20 nov: 20 % geboekt")
    expect(page.locator("#door svg desc")).to_have_text("ROOD · ongeldig ticket: 1")
    expect(page.locator("#funnel svg desc")).to_contain_text("Uitgegeven tickets: 4")
    page.locator("#use summary").click()
    expect(page.locator("#use table thead")).to_contain_text("Bezetting")
    expect(page.locator("#use table tbody tr").first).to_contain_text("do 20 nov")
    shot(page, "trends-nl")
    assert serious_violations(page) == []
