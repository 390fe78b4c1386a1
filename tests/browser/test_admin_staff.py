"""The admin page disables a staff account, and the pages' "Log out" ends the token on the server."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from admit.domain.roles import Role
from tests.browser.conftest import Seed, docs_shot, staff_login

DEADLINE = 10  # seconds: a ceiling against a hang on a busy machine


def eventually(check: Callable[[], bool]) -> None:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < DEADLINE
        time.sleep(0.1)


def test_the_admin_disables_an_operator_whose_token_is_then_refused(page: Page, seed: Seed) -> None:
    orq = seed.org()
    door = seed.staff(orq, Role.OPERATOR, name="Jane Door")
    admin = seed.admin(orq)

    def scan_status() -> int:
        return seed.http.post(
            "/api/operator/validate-ticket", json={"code": "ABCDEFGHJKMNPQRSTVWX"}, headers=door.headers
        ).status_code

    assert scan_status() == 200
    page.goto("/admin")
    staff_login(page, admin)
    row = page.locator(f"tr[data-username='{door.username}']")
    expect(row.locator(".staff-status")).to_have_text("active")
    expect(page.get_by_role("button", name=f"Disable {admin.username}")).to_have_count(0)

    page.get_by_role("button", name=f"Disable {door.username}").click()

    expect(row.locator(".staff-status")).to_have_text("disabled")
    expect(page.locator("#staff-message")).to_contain_text("disabled")
    eventually(lambda: scan_status() == 401)
    page.get_by_role("button", name=f"Enable {door.username}").click()
    expect(row.locator(".staff-status")).to_have_text("active")


def test_log_out_on_the_operator_page_ends_the_token_on_the_server(page: Page, seed: Seed) -> None:
    orq = seed.org()
    door = seed.staff(orq, Role.OPERATOR)
    page.goto("/operator")
    staff_login(page, door)
    expect(page.locator("#who")).to_be_visible()
    token = page.evaluate("JSON.parse(sessionStorage.getItem('admit.staff')).token")
    headers = {"Authorization": f"Bearer {token}"}

    def scan_status() -> int:
        return seed.http.post(
            "/api/operator/validate-ticket", json={"code": "ABCDEFGHJKMNPQRSTVWX"}, headers=headers
        ).status_code

    assert scan_status() == 200

    page.get_by_role("button", name="Log out").click()

    expect(page.get_by_label("Username")).to_be_visible()
    eventually(lambda: scan_status() == 401)


def test_the_admin_creates_an_operator_with_a_pin_who_then_logs_in_at_the_door(
    page: Page, seed: Seed, viewport: str
) -> None:
    orq = seed.org()
    username = f"sam.{viewport}"  # usernames are unique across organizations, and the server outlives a test
    admin = seed.admin(orq)
    page.goto("/admin")
    staff_login(page, admin)

    form = page.locator("#staff-form")
    form.get_by_label("Login name").fill(username)
    form.get_by_label("Name shown to colleagues").fill("Sam Door")
    form.get_by_label("Role").select_option("operator")
    form.get_by_label("PIN (6 to 8 digits)").fill("123")
    form.get_by_role("button", name="Create account").click()
    expect(page.locator("#staff-message")).to_contain_text("pin: 6 to 8 digits")
    form.get_by_label("PIN (6 to 8 digits)").fill("582046")
    form.get_by_role("button", name="Create account").click()

    expect(page.locator("#staff-message")).to_have_text(f"✓ {username} can now log in as operator.")
    expect(page.locator(f"tr[data-username='{username}']")).to_contain_text("Sam Door")
    expect(form.get_by_label("Login name")).to_have_value("")
    if viewport == "desktop":
        docs_shot(
            page, seed.server, "admin-staff-desktop", top=page.get_by_role("heading", name="Staff accounts")
        )
    page.get_by_role("button", name="Log out").click()
    page.goto("/operator")
    page.get_by_label("Username").fill(username)
    page.get_by_role("radio", name="PIN").check()
    page.locator("#login-secret").fill("582046")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#who")).to_contain_text("Sam Door")


def test_the_admin_changes_a_role_and_gives_a_new_pin_that_is_shown_once(page: Page, seed: Seed) -> None:
    orq = seed.org()
    admin = seed.admin(orq)
    door = seed.staff(orq, Role.OPERATOR, name="Jane Door")

    def history_status() -> int:
        return seed.http.get("/api/operators/scan-history", headers=door.headers).status_code

    assert history_status() == 403
    page.goto("/admin")
    staff_login(page, admin)
    expect(page.get_by_label(f"Role of {admin.username}")).to_have_count(0)  # not their own

    page.get_by_label(f"Role of {door.username}").select_option("manager")

    expect(page.locator("#staff-message")).to_have_text(f"✓ {door.username} is now a manager.")
    eventually(lambda: history_status() == 200)  # the same login, with the new role
    page.get_by_role("button", name=f"New PIN for {door.username}").click()
    message = page.locator("#staff-message")
    expect(message).to_contain_text(f"New PIN for {door.username}: ")
    pin = (message.text_content() or "").split(": ")[1][:6]
    assert pin.isdigit()
    login = seed.http.post("/api/operator/login", json={"username": door.username, "pin": pin})
    assert login.status_code == 200 and login.json()["operator"]["role"] == "manager"
    page.reload()
    expect(page.locator("#staff")).not_to_contain_text(pin)
