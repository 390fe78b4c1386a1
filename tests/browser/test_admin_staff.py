"""The admin page disables a staff account, and the pages' "Log out" ends the token on the server."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from admit.domain.roles import Role
from tests.browser.conftest import Seed, staff_login

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
