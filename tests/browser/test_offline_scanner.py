"""The scanner page keeps deciding without the network: its service worker opens it, the signed bundle in
IndexedDB and the door's rules in JavaScript decide, and offline scans wait in a queue on the device.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam. The network is cut with Playwright's
`set_offline`, and a hanging or forging server is played with `page.route`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, expect

from admit.domain import offline
from admit.domain.roles import Role
from admit.security.codes import ALPHABET, normalise
from tests.browser.conftest import (
    TODAY,
    Seed,
    Server,
    StaffLogin,
    Venue,
    check_only,
    new_context,
    scan,
    staff_login,
)
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def next_scan(page: Page) -> None:
    page.get_by_role("button", name="Scan next").click()
    expect(page.locator("#verdict")).to_be_hidden()


def expect_verdict(page: Page, result: str, code: str, *, offline: bool = True) -> None:
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-result", result)
    expect(verdict).to_have_attribute("data-code", code)
    expect(verdict).to_have_attribute("data-offline", "true" if offline else "false")


def log_in_with_offline_data(page: Page, venue: Venue, tickets: int) -> None:
    """Log in (checking first, then Mark as Verified) and wait until the page opens without a network
    and holds the day's bundle."""
    page.goto("/operator")
    staff_login(page, venue.door)
    check_only(page)
    expect(page.locator("body")).to_have_attribute("data-offline-shell", "ready")
    status = page.locator("#offline-status")
    expect(status).to_have_attribute("data-tickets", str(tickets))
    expect(status).to_contain_text(f"Offline data: {tickets} tickets")


def unknown_code() -> str:
    """A code of the right shape that was never issued."""
    return "".join(secrets.choice(ALPHABET) for _ in range(20))


def test_with_the_network_cut_the_reloaded_page_decides_each_ticket_as_the_server_would(
    page: Page, seed: Seed, venue: Venue
) -> None:
    green, _ = seed.reserved(venue.orq, venue.today)
    tomorrow, _ = seed.reserved(venue.orq, venue.tomorrow)
    (unbooked,) = seed.tickets(venue.orq)
    counted = _tickets_of(seed, venue)
    log_in_with_offline_data(page, venue, counted)

    page.context.set_offline(True)
    page.reload()
    expect(page.locator("input[name=code]")).to_be_visible()  # the service worker's copy, still logged in

    scan(page, green)  # the server cannot be reached: decided on the device
    expect_verdict(page, "GREEN", "VALID")
    expect(page.locator("#verdict")).to_contain_text("Reserved for today, 10:00-12:00")
    expect(page.locator("#verdict")).to_contain_text("offline, on this device")
    expect(page.locator("#offline-badge")).to_be_visible()
    expect(page.locator("#offline-badge")).to_contain_text("OFFLINE")
    next_scan(page)

    scan(page, tomorrow)
    expect_verdict(page, "RED", "WRONG_DATE")
    expect(page.locator("#verdict")).to_contain_text("Reserved for tomorrow")
    next_scan(page)

    scan(page, unbooked)
    expect_verdict(page, "RED", "NO_RESERVATION")
    next_scan(page)

    scan(page, unknown_code())
    expect_verdict(page, "YELLOW", "NOT_IN_OFFLINE_DATA")
    expect(page.locator("#verdict")).to_contain_text("Not in offline data — check ID or wait for connection")
    expect(page.get_by_role("button", name="Mark as Verified")).to_be_hidden()
    next_scan(page)

    scan(page, "nothing like a ticket")
    expect_verdict(page, "RED", "INVALID_TICKET")
    # Every scan is kept for the server, as it records every scan made online.
    expect(page.locator("#sync-queue")).to_have_attribute("data-count", "5")


def test_an_offline_admit_is_queued_survives_a_reload_and_a_second_scan_is_already_verified(
    page: Page, seed: Seed, venue: Venue
) -> None:
    code, _ = seed.reserved(venue.orq, venue.today)
    log_in_with_offline_data(page, venue, _tickets_of(seed, venue))
    page.context.set_offline(True)

    scan(page, code)
    expect_verdict(page, "GREEN", "VALID")
    page.get_by_role("button", name="Mark as Verified").click()
    expect(page.locator("#scan-status")).to_contain_text(f"Verified offline: ticket …{code[-4:]} at 09:0")
    queue = page.locator("#sync-queue")
    expect(queue).to_have_attribute("data-count", "2")  # the validation and the admit
    expect(queue).to_contain_text("2 scans waiting to be sent to the server")

    page.reload()
    expect(queue).to_have_attribute("data-count", "2")
    scan(page, code)
    expect_verdict(page, "YELLOW", "ALREADY_VERIFIED")
    expect(page.locator("#verdict")).to_contain_text("Verified at 09:0")
    expect(page.locator("#verdict")).to_contain_text("by Jane Smith")
    expect(page.get_by_role("button", name="Mark as Verified")).to_be_hidden()

    queued = page.evaluate(QUEUED)
    admits = [scan for scan in queued if scan["action"] == "admit"]
    assert len(admits) == 1
    assert admits[0]["code"] == normalise(code)
    assert admits[0]["offline_result"] == "GREEN"
    assert admits[0]["offline_code"] == "VALID"
    assert admits[0]["operator_id"] == venue.door.id
    assert admits[0]["device_id"] == page.evaluate("localStorage.getItem('admit.device_id')")
    assert admits[0]["scanned_at"].startswith(TODAY + "T08:0")  # 09:0x in Amsterdam, written in UTC
    assert len({scan["scan_id"] for scan in queued}) == 3


def test_offline_one_of_a_party_shows_the_party_and_how_many_this_device_let_in(
    page: Page, seed: Seed, venue: Venue
) -> None:
    family = seed.tickets(venue.orq, 3)
    seed.reserve(family, venue.today)
    log_in_with_offline_data(page, venue, _tickets_of(seed, venue))
    page.context.set_offline(True)
    party = page.locator("#verdict-party")

    scan(page, family[0])
    expect_verdict(page, "GREEN", "VALID")
    expect(party).to_have_text("Party of 3 · 0 in")
    page.get_by_role("button", name="Mark as Verified").click()
    expect(page.locator("#scan-status")).to_contain_text("Verified offline")

    scan(page, family[1])
    expect_verdict(page, "GREEN", "VALID")
    expect(party).to_have_text("Party of 3 · 1 in")  # the one let in on this device
    next_scan(page)

    page.get_by_label("Admit on scan").check()
    scan(page, family[2])
    expect(page.locator("#verdict").get_by_role("heading")).to_have_text("ADMITTED")
    expect(party).to_have_text("Party of 3 · 2 in")  # this one counted too


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_offline_one_scan_keeps_the_party_line_under_the_scanner_once_admitted_has_gone(
    page: Page, seed: Seed, venue: Venue
) -> None:
    family = seed.tickets(venue.orq, 3)
    seed.reserve(family, venue.today)
    alone, _ = seed.reserved(venue.orq, venue.today)
    log_in_with_offline_data(page, venue, _tickets_of(seed, venue))
    page.get_by_label("Admit on scan").check()
    page.context.set_offline(True)
    status, party = page.locator("#scan-status"), page.locator("#scan-party")

    # Waited for: the scanner back after ADMITTED, its status line naming the ticket let in offline.
    scan(page, family[0])
    expect(status).to_contain_text(f"Admitted: ticket …{family[0][-4:]} at 09:0")
    expect(status).to_contain_text("offline")
    expect(party).to_be_visible()
    expect(party).to_have_text("Party of 3 · 1 in")
    scan(page, family[1])
    expect(status).to_contain_text(f"Admitted: ticket …{family[1][-4:]} at 09:0")
    expect(party).to_have_text("Party of 3 · 2 in")  # counted from what this device let in
    scan(page, alone)
    expect(status).to_contain_text(f"Admitted: ticket …{alone[-4:]} at 09:0")
    expect(party).to_be_hidden()


QUEUED = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("admit-offline");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const all = open.result.transaction("queue").objectStore("queue").getAll();
    all.onsuccess = () => resolve(all.result);
    all.onerror = () => reject(all.error);
  };
})"""


def test_offline_a_reservation_booked_after_the_bundle_is_admitted_by_its_signed_qr_and_a_forged_one_is_red(
    page: Page, seed: Seed, venue: Venue
) -> None:
    log_in_with_offline_data(page, venue, _tickets_of(seed, venue))
    page.context.set_offline(True)
    # Booked on a phone in the queue, after the device's last bundle: only its QR vouches for it.
    code, reservation_id = seed.reserved(venue.orq, venue.today)
    payload = seed.call("GET", f"/api/reservations/{reservation_id}")["qr_payload"]
    assert offline.parse_qr(payload).code == code

    scan(page, unknown_code())  # the plain code of a booking the device has never seen
    expect_verdict(page, "YELLOW", "NOT_IN_OFFLINE_DATA")
    next_scan(page)
    scan(page, code)
    expect_verdict(page, "YELLOW", "NOT_IN_OFFLINE_DATA")
    next_scan(page)

    scan(page, payload)
    expect_verdict(page, "GREEN", "VALID")
    expect(page.locator("#verdict")).to_contain_text("Reserved for today, 10:00-12:00")
    expect(page.locator("#verdict")).to_contain_text(f"…{code[-4:]}")
    page.get_by_role("button", name="Mark as Verified").click()
    expect(page.locator("#scan-status")).to_contain_text(f"Verified offline: ticket …{code[-4:]}")
    scan(page, payload)
    expect_verdict(page, "YELLOW", "ALREADY_VERIFIED")
    next_scan(page)

    signed = offline.parse_qr(payload)
    forger = Ed25519PrivateKey.generate()
    forged = offline.qr_text(signed.message, offline.b64url(forger.sign(signed.message)))
    scan(page, forged)
    expect_verdict(page, "RED", "INVALID_TICKET")
    next_scan(page)
    scan(page, payload.replace(".1000.1200.", ".0800.1800."))  # the claim edited: its signature fails
    expect_verdict(page, "RED", "INVALID_TICKET")

    admits = [queued for queued in page.evaluate(QUEUED) if queued["action"] == "admit"]
    assert [queued["code"] for queued in admits] == [payload]  # the server checks the signature again


def test_a_tampered_bundle_is_refused_and_the_previous_data_is_kept(
    page: Page, seed: Seed, venue: Venue
) -> None:
    code, _ = seed.reserved(venue.orq, venue.today)
    log_in_with_offline_data(page, venue, _tickets_of(seed, venue))

    def forge(route: Route) -> None:
        """The server's own answer with one ticket changed after it was signed."""
        real = route.fetch()
        doc = real.json()
        h = offline.entry_hash(offline.from_b64url(doc["salt"]), normalise(code) or "")
        doc["tickets"].append(
            {
                "h": h,
                "status": "VOID" if doc["full"] else "VERIFIED",
                "valid_until": None,
                "reservation": None,
                "verified_at": "2025-11-20T08:30:00+01:00",
                "verified_by": "Mallory",
            }
        )
        route.fulfill(response=real, body=json.dumps(doc), headers={"content-type": "application/json"})

    page.route("**/api/operator/offline-bundle*", forge)
    page.reload()  # the page asks for what changed since its bundle: the forged delta
    expect(page.locator("#offline-warning")).to_contain_text("Offline data refused")
    page.unroute("**/api/operator/offline-bundle*")

    page.context.set_offline(True)
    scan(page, code)
    expect_verdict(page, "GREEN", "VALID")  # by the genuine bundle


def test_a_hanging_server_switches_the_scanner_to_offline_by_itself_and_back(
    page: Page, seed: Seed, venue: Venue
) -> None:
    code, _ = seed.reserved(venue.orq, venue.today)
    log_in_with_offline_data(page, venue, _tickets_of(seed, venue))
    held: list[Route] = []
    page.route("**/api/operator/validate-ticket", lambda route: held.append(route))  # never answered

    scan(page, code)
    # The venue's threshold is 1.5 s; the bound here only says "decided, instead of waiting forever".
    expect(page.locator("#verdict")).to_have_attribute("data-offline", "true", timeout=8_000)
    expect_verdict(page, "GREEN", "VALID")
    expect(page.locator("#offline-badge")).to_be_visible()
    assert len(held) == 1

    page.unroute("**/api/operator/validate-ticket")
    # The server answers its readiness probe again: the page goes back online by itself.
    expect(page.locator("#offline-badge")).to_be_hidden(timeout=15_000)
    next_scan(page)
    scan(page, code)
    expect_verdict(page, "GREEN", "VALID", offline=False)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_offline_data_older_than_the_venues_limit_is_shown_as_a_warning(
    page: Page, seed: Seed, venue: Venue
) -> None:
    page.clock.install()
    log_in_with_offline_data(page, venue, _tickets_of(seed, venue))
    page.context.set_offline(True)
    scan(page, unknown_code())
    expect_verdict(page, "YELLOW", "NOT_IN_OFFLINE_DATA")
    next_scan(page)
    badge = page.locator("#offline-badge")
    expect(badge).to_contain_text("data less than a minute old")
    warning = page.locator("#offline-warning")
    expect(warning).to_be_hidden()

    page.clock.fast_forward("31:00")  # the device's clock: no bundle refresh can reach the server
    expect(badge).to_contain_text("data 31 minutes old")
    expect(warning).to_contain_text("Offline data is 31 minutes old")


def _tickets_of(seed: Seed, venue: Venue) -> int:
    """How many entries the organization's bundle has now (every ticket that is not VOID)."""
    bundle = seed.call("GET", "/api/operator/offline-bundle", venue.door, params={"date": TODAY})
    return len(bundle["tickets"])


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_back_online_the_queue_is_sent_in_door_time_order_and_only_answered_scans_leave_it(
    page: Page, seed: Seed, venue: Venue
) -> None:
    """The device's side of sync, with the server's answers played by `page.route`: first a server
    without the endpoint (404), then one that answers every scan but the last."""
    green, _ = seed.reserved(venue.orq, venue.today)
    (unbooked,) = seed.tickets(venue.orq)
    log_in_with_offline_data(page, venue, _tickets_of(seed, venue))
    sent: list[dict[str, Any]] = []

    def not_there(route: Route) -> None:
        sent.append(route.request.post_data_json or {})
        route.fulfill(
            status=404, json={"error": {"code": "NOT_FOUND", "message": "Not Found", "details": {}}}
        )

    page.route("**/api/operator/scans/sync", not_there)
    page.context.set_offline(True)
    scan(page, green)
    expect_verdict(page, "GREEN", "VALID")
    page.get_by_role("button", name="Mark as Verified").click()
    expect(page.locator("#scan-status")).to_contain_text("Verified offline")
    scan(page, unbooked)
    expect_verdict(page, "RED", "NO_RESERVATION")
    next_scan(page)
    queue = page.locator("#sync-queue")
    expect(queue).to_have_attribute("data-count", "3")

    with page.expect_request("**/api/operator/scans/sync", timeout=20_000):
        page.context.set_offline(False)  # the probe finds the server, and the page sends its queue
    expect(page.locator("#offline-badge")).to_be_hidden()
    expect(queue).to_have_attribute("data-count", "3")  # a 404 answers no scan: all are kept

    def answers_all_but_the_last(route: Route) -> None:
        body: dict[str, Any] = route.request.post_data_json or {}
        sent.append(body)
        results = [{"scan_id": s["scan_id"], "outcome": "applied"} for s in body["scans"][:-1]]
        route.fulfill(json={"results": results})

    page.unroute("**/api/operator/scans/sync")
    page.route("**/api/operator/scans/sync", answers_all_but_the_last)
    with page.expect_request("**/api/operator/scans/sync", timeout=20_000):
        page.reload()
    expect(queue).to_have_attribute("data-count", "1")

    body = sent[-1]
    assert body["device_id"] == page.evaluate("localStorage.getItem('admit.device_id')")
    scans = body["scans"]
    assert [(s["action"], s["offline_code"]) for s in scans] == [
        ("validate", "VALID"),
        ("admit", "VALID"),
        ("validate", "NO_RESERVATION"),
    ]
    assert [s["code"] for s in scans] == [normalise(green), normalise(green), normalise(unbooked)]
    assert sorted(s["scanned_at"] for s in scans) == [s["scanned_at"] for s in scans]
    assert all(
        set(s) == {"scan_id", "code", "scanned_at", "action", "offline_result", "offline_code"} for s in scans
    )
    assert [s["scan_id"] for s in page.evaluate(QUEUED)] == [scans[-1]["scan_id"]]


def test_the_queue_and_the_devices_admits_survive_a_browser_restart(
    playwright: Playwright, server: Server, seed: Seed, venue: Venue, tmp_path: Path
) -> None:
    code, _ = seed.reserved(venue.orq, venue.today)
    counted = _tickets_of(seed, venue)
    profile = tmp_path / "profile"  # the device's browser profile, kept on its disk between runs

    def launch() -> BrowserContext:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, base_url=server.base_url
        )
        context.set_default_timeout(10_000)
        # Played here: a server that cannot take the queue yet, so that what the device kept shows.
        context.route("**/api/operator/scans/sync", lambda route: route.fulfill(status=404, json={}))
        return context

    first = launch()
    page = first.new_page()
    log_in_with_offline_data(page, venue, counted)
    first.set_offline(True)
    scan(page, code)
    expect_verdict(page, "GREEN", "VALID")
    page.get_by_role("button", name="Mark as Verified").click()
    expect(page.locator("#sync-queue")).to_have_attribute("data-count", "2")
    first.close()

    second = launch()
    try:
        page = second.new_page()
        page.goto("/operator")
        staff_login(page, venue.door)  # a new browser session: the login is asked for again
        expect(page.locator("#sync-queue")).to_have_attribute("data-count", "2")
        expect(page.locator("#offline-status")).to_have_attribute("data-tickets", str(counted))
        second.set_offline(True)
        scan(page, code)
        expect_verdict(page, "YELLOW", "ALREADY_VERIFIED")
        expect(page.locator("#verdict")).to_contain_text("by Jane Smith")
    finally:
        second.close()


# ---- Sync end to end: two devices admit the same ticket offline, both queues sync by themselves ----


def _sync_endpoint_missing(server: Server, door: StaffLogin) -> bool:
    response = httpx.post(
        f"{server.base_url}/api/operator/scans/sync",
        json={"device_id": "probe", "scans": []},
        headers=door.headers,
        timeout=10,
    )
    return response.status_code in (404, 405)


@pytest.fixture
def two_devices(browser: Browser, server: Server) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    first, second = new_context(browser, server, "phone"), new_context(browser, server, "phone")
    yield first, second
    first.close()
    second.close()


def test_two_devices_admit_one_ticket_offline_and_the_manager_sees_one_conflict(
    two_devices: tuple[BrowserContext, BrowserContext], seed: Seed, server: Server, venue: Venue
) -> None:
    if _sync_endpoint_missing(server, venue.door):
        pytest.skip("the server has no POST /api/operator/scans/sync yet")
    orq = seed.org(name="Conflict Museum")
    slot = seed.slot(orq, day=TODAY, start="10:00", end="12:00")
    code, _ = seed.reserved(orq, slot)
    doors = [seed.staff(orq, Role.OPERATOR, name=name) for name in ("Ann Door", "Bob Door")]
    manager = seed.staff(orq, Role.MANAGER, name="Mia Manager")
    pages = []
    for context, door in zip(two_devices, doors, strict=True):
        device = context.new_page()
        device.goto("/operator")
        staff_login(device, door)
        check_only(device)
        expect(device.locator("body")).to_have_attribute("data-offline-shell", "ready")
        expect(device.locator("#offline-status")).to_have_attribute("data-tickets", "1")
        context.set_offline(True)
        scan(device, code)
        expect_verdict(device, "GREEN", "VALID")
        device.get_by_role("button", name="Mark as Verified").click()
        expect(device.locator("#sync-queue")).to_have_attribute("data-count", "2")
        pages.append(device)

    for context in two_devices:
        context.set_offline(False)
    for device in pages:  # the probe notices the server, and the queue goes by itself
        expect(device.locator("#offline-badge")).to_be_hidden(timeout=20_000)
        expect(device.locator("#sync-queue")).to_have_attribute("data-count", "0", timeout=20_000)

    stats = seed.call("GET", "/api/operator/stats", manager, params={"date": TODAY})
    assert stats["verified"] == 1
    assert stats["conflicts"] == 1
    dashboard = pages[0].context.new_page()
    dashboard.goto("/manager")
    staff_login(dashboard, manager)
    expect(dashboard.locator('#counts [data-count="conflicts"] .n')).to_have_text("1")
    conflicts = dashboard.locator("#conflicts li")
    expect(conflicts).to_have_count(1)
    expect(conflicts.first).to_contain_text(f"Ticket …{code[-4:]}")
    for operator_name in ("Ann Door", "Bob Door"):
        expect(conflicts.first).to_contain_text(operator_name)


def test_the_service_worker_is_served_from_the_root_and_never_caches_the_api(seed: Seed) -> None:
    answer = seed.http.get("/operator-sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "no-store"
    shell = json.loads(answer.text.split("\n", 1)[0].removeprefix("const SHELL = ").rstrip(";"))
    assert shell["page"] == "/operator"
    assert not any(path.startswith("/api/") for path in shell["assets"])
    for path in shell["assets"]:  # each file it keeps exists, so its install cannot fail
        assert seed.http.get(path).status_code == 200, path
    assert shell["cache"].startswith("admit-door-") and len(shell["cache"]) > len("admit-door-") + 8
