"""The door's scanner page: verdict screens by colour and code, repeat scans, an expired login, the camera.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import segno
from playwright.sync_api import Browser, Page, Playwright, expect

from admit.domain.roles import Role
from tests.browser.conftest import (
    Seed,
    Server,
    Shot,
    Venue,
    check_only,
    hours,
    new_context,
    scan,
    staff_login,
)
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


def test_wrong_date_and_no_reservation_are_red_with_the_reason_and_no_verify(
    page: Page, seed: Seed, venue: Venue, shot: Shot
) -> None:
    tomorrow, _ = seed.reserved(venue.orq, venue.tomorrow)
    (unbooked,) = seed.tickets(venue.orq)
    page.goto("/operator")
    staff_login(page, venue.door)
    verdict = page.locator("#verdict")

    scan(page, tomorrow)
    expect(verdict).to_have_attribute("data-result", "RED")
    expect(verdict).to_have_attribute("data-code", "WRONG_DATE")
    expect(verdict.get_by_role("heading")).to_have_text("TOMORROW 14:00")
    expect(verdict).to_contain_text("Reserved for tomorrow, 14:00-15:00")
    expect(verdict).to_contain_text("Friday, 21 November 2025, " + hours("14:00", "15:00"))
    expect(page.get_by_role("button", name="Mark as Verified")).to_be_hidden()
    expect(verdict).not_to_contain_text("visitor@example.com")  # the customer is shown for GREEN only
    shot(page, "wrong-date")
    page.get_by_role("button", name="Scan next").click()
    expect(verdict).to_be_hidden()
    expect(page.locator("input[name=code]")).to_be_focused()

    scan(page, unbooked)
    expect(verdict).to_have_attribute("data-result", "RED")
    expect(verdict).to_have_attribute("data-code", "NO_RESERVATION")
    expect(verdict.get_by_role("heading")).to_have_text("NOT BOOKED")
    expect(verdict).to_contain_text("Customer must book a time slot first")
    expect(page.get_by_role("button", name="Mark as Verified")).to_be_hidden()
    shot(page, "no-reservation")
    page.keyboard.press("Escape")  # back to scanning from the keyboard too

    scan(page, "nothing like a ticket")
    expect(verdict).to_have_attribute("data-code", "INVALID_TICKET")
    expect(verdict.get_by_role("heading")).to_have_text("NOT A TICKET")


def test_a_second_scan_is_yellow_already_verified_with_time_and_operator(
    page: Page, seed: Seed, venue: Venue, shot: Shot
) -> None:
    code, _ = seed.reserved(venue.orq, venue.today)
    page.goto("/operator")
    staff_login(page, venue.door)
    check_only(page)
    verdict = page.locator("#verdict")

    scan(page, code)
    expect(verdict).to_have_attribute("data-result", "GREEN")
    page.get_by_role("button", name="Mark as Verified").click()
    expect(page.locator("#scan-status")).to_contain_text("Verified")

    scan(page, code)
    expect(verdict).to_have_attribute("data-result", "YELLOW")
    expect(verdict).to_have_attribute("data-code", "ALREADY_VERIFIED")
    expect(verdict.get_by_role("heading")).to_have_text("ALREADY IN — 09:00 BY JANE")
    expect(verdict).to_contain_text("Verified at 09:00 by Jane Smith")
    expect(page.get_by_role("button", name="Mark as Verified")).to_be_hidden()
    shot(page, "already-verified")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_one_scan_lets_a_valid_ticket_in_shows_admitted_and_goes_back_to_scanning_by_itself(
    page: Page, seed: Seed, venue: Venue, shot: Shot
) -> None:
    code, _ = seed.reserved(venue.orq, venue.today)
    page.goto("/operator")
    staff_login(page, venue.door)
    expect(page.get_by_label("Admit on scan")).to_be_checked()  # the default
    verdict = page.locator("#verdict")

    with page.expect_request("**/venue/scan") as sent:
        scan(page, code)
    body = sent.value.post_data_json
    assert isinstance(body, dict) and body["action"] == "admit"
    expect(verdict).to_have_attribute("data-admitted", "true")
    expect(verdict).to_have_attribute("data-result", "GREEN")
    expect(verdict.get_by_role("heading")).to_have_text("ADMITTED")
    expect(verdict).to_contain_text(hours("10:00", "12:00"))
    expect(page.locator("#verdict-party")).to_be_hidden()  # booked alone: no one else to expect
    expect(page.get_by_role("button", name="Mark as Verified")).to_be_hidden()
    shot(page, "admitted")
    # Nobody taps: the camera and the code field come back on their own, with what happened.
    expect(verdict).to_be_hidden()
    expect(page.locator("#scan-status")).to_contain_text(f"Admitted: ticket …{code[-4:]} at 09:00")
    assert seed.call("GET", f"/api/tickets/{code}/status")["status"] == "VERIFIED"

    scan(page, code)  # the same ticket again
    expect(verdict).to_have_attribute("data-code", "ALREADY_VERIFIED")
    expect(verdict.get_by_role("heading")).to_have_text("ALREADY IN — 09:00 BY JANE")

    # One of a family of three booked together: the operator sees how many of them to expect.
    page.get_by_role("button", name="Scan next").click()
    family = seed.tickets(venue.orq, 3)
    seed.reserve(family, venue.today)
    scan(page, family[0])
    expect(verdict.get_by_role("heading")).to_have_text("ADMITTED")
    party = page.locator("#verdict-party")
    expect(party).to_have_text("Party of 3 · 1 in")
    box = party.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, "admitted-party")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_one_scan_keeps_the_party_line_under_the_scanner_once_admitted_has_gone(
    page: Page, seed: Seed, venue: Venue
) -> None:
    family = seed.tickets(venue.orq, 3)
    seed.reserve(family, venue.today)
    alone, _ = seed.reserved(venue.orq, venue.today)
    page.goto("/operator")
    staff_login(page, venue.door)
    expect(page.get_by_label("Admit on scan")).to_be_checked()
    status, party = page.locator("#scan-status"), page.locator("#scan-party")

    # Each time the scanner is back after ADMITTED (its status line names the ticket just let in), the
    # operator of the group still sees how many of it are in.
    scan(page, family[0])
    expect(status).to_contain_text(f"Admitted: ticket …{family[0][-4:]} at 09:00")
    expect(party).to_be_visible()
    expect(party).to_have_text("Party of 3 · 1 in")
    scan(page, family[1])
    expect(status).to_contain_text(f"Admitted: ticket …{family[1][-4:]} at 09:00")
    expect(party).to_have_text("Party of 3 · 2 in")
    scan(page, alone)
    expect(status).to_contain_text(f"Admitted: ticket …{alone[-4:]} at 09:00")
    expect(party).to_be_hidden()  # booked alone: no party line, and not the last party's


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_one_scan_asks_one_tap_for_a_warning_that_allows_entry(page: Page, seed: Seed) -> None:
    orq = seed.org("Open Museum", unreserved_entry="allow")
    door = seed.staff(orq, Role.OPERATOR)
    (unbooked,) = seed.tickets(orq)
    page.goto("/operator")
    staff_login(page, door)
    verdict = page.locator("#verdict")

    scan(page, unbooked)
    expect(verdict).to_have_attribute("data-result", "YELLOW")
    expect(verdict).to_have_attribute("data-admitted", "false")
    expect(verdict.get_by_role("heading")).to_have_text("NOT BOOKED")
    assert seed.call("GET", f"/api/tickets/{unbooked}/status")["status"] == "ACTIVATED"  # not in yet
    page.get_by_role("button", name="Let in").click()
    expect(verdict).to_have_attribute("data-admitted", "true")
    expect(verdict.get_by_role("heading")).to_have_text("ADMITTED")
    assert seed.call("GET", f"/api/tickets/{unbooked}/status")["status"] == "VERIFIED"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_each_reason_is_a_title_of_at_least_48_pixels_on_a_phone(
    page: Page, seed: Seed, venue: Venue
) -> None:
    tomorrow, _ = seed.reserved(venue.orq, venue.tomorrow)
    page.goto("/operator")
    staff_login(page, venue.door)
    title = page.locator("#verdict-title")
    for code, words in ((tomorrow, "TOMORROW 14:00"), ("nothing like a ticket", "NOT A TICKET")):
        scan(page, code)
        expect(title).to_have_text(words)
        size = title.evaluate("element => parseFloat(getComputedStyle(element).fontSize)")
        assert size >= 48, f"{words}: {size} px"
        box = title.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # wraps, never cut off
        page.get_by_role("button", name="Scan next").click()


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_an_expired_login_shows_the_login_again_with_a_message_and_scanning_resumes(
    page: Page, seed: Seed, venue: Venue
) -> None:
    (code,) = seed.tickets(venue.orq)
    page.goto("/operator")
    staff_login(page, venue.door)
    expect(page.locator("input[name=code]")).to_be_visible()
    # The tab is opened again after the server's clock passed the token's expiry.
    stored = page.evaluate("JSON.parse(sessionStorage.getItem('admit.staff'))")
    stored["token"] = seed.expired_token(venue.door)
    page.evaluate("value => sessionStorage.setItem('admit.staff', JSON.stringify(value))", stored)
    page.reload()

    # The page's first call with the token (its offline data's refresh, or a scan) is refused.
    expect(page.get_by_role("heading", name="Scanner login")).to_be_visible()
    expect(page.locator("#login-message")).to_contain_text("Your login has ended")
    expect(page.locator("#login-message")).to_contain_text("Log in again")
    expect(page.locator("#scan")).to_be_hidden()

    staff_login(page, venue.door)
    scan(page, code)
    expect(page.locator("#verdict")).to_have_attribute("data-code", "NO_RESERVATION")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_each_scan_sends_a_fresh_nonce_and_the_same_device_id(page: Page, seed: Seed, venue: Venue) -> None:
    (code,) = seed.tickets(venue.orq)
    page.goto("/operator")
    staff_login(page, venue.door)
    bodies: list[dict[str, Any]] = []
    for _ in range(2):
        with page.expect_request("**/venue/scan") as sent:
            scan(page, code)
        body = sent.value.post_data_json
        assert isinstance(body, dict)
        bodies.append(body)
        page.get_by_role("button", name="Scan next").click()
    assert bodies[0]["nonce"] != bodies[1]["nonce"]
    assert bodies[0]["device_id"] == bodies[1]["device_id"]
    assert bodies[0]["device_id"] == page.evaluate("localStorage.getItem('admit.device_id')")


# ---- The camera: Chromium's fake camera plays a video of the ticket's QR code ----

WIDTH, HEIGHT = 640, 480


def qr_video(code: str, path: Path) -> Path:
    """A few frames of a QR code on white, as a Y4M file (the format Chromium's fake camera plays)."""
    matrix = [list(row) for row in segno.make(code, error="m").matrix]
    scale = 10
    size = len(matrix) * scale
    left, top = (WIDTH - size) // 2, (HEIGHT - size) // 2
    luma = bytearray(b"\xff" * (WIDTH * HEIGHT))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * WIDTH + left + x * scale
                    luma[start : start + scale] = b"\x00" * scale
    chroma = b"\x80" * (WIDTH * HEIGHT // 2)
    frame = b"FRAME\n" + bytes(luma) + chroma
    path.write_bytes(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 5)
    return path


@pytest.fixture(scope="module")
def camera_ticket(seed: Seed, venue: Venue) -> str:
    """The ticket whose QR code the fake camera shows, reserved for today."""
    return seed.reserved(venue.orq, venue.today)[0]


@pytest.fixture(scope="module")
def camera_browser(
    playwright: Playwright, camera_ticket: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    """A Chromium whose camera plays a video of the ticket's QR code (its own launch: the flags differ)."""
    video = qr_video(camera_ticket, tmp_path_factory.mktemp("camera") / "ticket.y4m")
    launched = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    yield launched
    launched.close()


@pytest.fixture
def camera_page(camera_browser: Browser, server: Server) -> Iterator[Page]:
    context = new_context(camera_browser, server, "phone")
    context.grant_permissions(["camera"])
    yield context.new_page()
    context.close()


def test_the_camera_reads_the_tickets_qr_code_and_does_not_scan_it_again_while_it_stays_in_view(
    camera_page: Page, camera_ticket: str, venue: Venue, shot: Shot
) -> None:
    code, page = camera_ticket, camera_page
    page.goto("/operator")
    staff_login(page, venue.door)
    check_only(page)  # the verdict stays on screen until the operator acts
    page.get_by_role("button", name="Start camera").click()
    # The camera can be chosen (front or back); a torch is offered only where the camera has one.
    expect(page.get_by_label("Camera", exact=True)).to_be_visible()
    assert page.locator("#camera-choice option").count() >= 1
    expect(page.get_by_role("button", name="Torch")).to_be_hidden()  # the test camera has none
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-result", "GREEN")
    expect(verdict).to_have_attribute("data-code", "VALID")
    expect(verdict).to_contain_text(f"…{code[-4:]}")
    shot(page, "camera-green")
    page.get_by_role("button", name="Mark as Verified").click()
    expect(page.locator("#scan-status")).to_contain_text(f"Verified: ticket …{code[-4:]}")
    expect(page.get_by_role("button", name="Stop camera")).to_be_visible()
    # The visitor's phone is still in front of the lens (the camera's video shows the code without end):
    # that is the same showing, not a second scan that would flash ALREADY IN at them.
    page.wait_for_timeout(4000)
    expect(verdict).to_be_hidden()
    expect(page.locator("#scan-status")).to_contain_text(f"Verified: ticket …{code[-4:]}")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_check_only_shows_the_party_on_the_green_and_after_mark_as_verified_counting_the_visitor(
    page: Page, seed: Seed, venue: Venue, shot: Shot
) -> None:
    family = seed.tickets(venue.orq, 3)
    seed.reserve(family, venue.today)
    page.goto("/operator")
    staff_login(page, venue.door)
    check_only(page)
    verdict = page.locator("#verdict")

    scan(page, family[0])
    expect(verdict).to_have_attribute("data-result", "GREEN")
    expect(page.locator("#verdict-party")).to_have_text("Party of 3 · 0 in")
    page.get_by_role("button", name="Mark as Verified").click()
    expect(page.locator("#scan-status")).to_contain_text(f"Verified: ticket …{family[0][-4:]} at 09:00")
    party = page.locator("#scan-party")
    expect(party).to_have_text("Party of 3 · 1 in")  # this visitor counted: two more to expect
    shot(page, "verified-party")

    scan(page, family[1])
    expect(page.locator("#verdict-party")).to_have_text("Party of 3 · 1 in")
    page.get_by_role("button", name="Mark as Verified").click()
    expect(party).to_have_text("Party of 3 · 2 in")
    alone, _ = seed.reserved(venue.orq, venue.today)
    scan(page, alone)
    page.get_by_role("button", name="Mark as Verified").click()
    expect(page.locator("#scan-status")).to_contain_text(f"Verified: ticket …{alone[-4:]}")
    expect(party).to_be_hidden()  # booked alone: no party line, and not the last party's


def test_scan_next_and_escape_leave_admitted_for_the_scanner_at_once(
    page: Page, seed: Seed, venue: Venue
) -> None:
    """ADMITTED goes back to scanning by itself after a moment; the operator with the next visitor in
    front of them need not wait: a tap on Scan next, or Escape, brings the scanner back there and then."""
    family = seed.tickets(venue.orq, 2)
    seed.reserve(family, venue.today)
    page.clock.install()
    page.goto("/operator")
    staff_login(page, venue.door)
    verdict, field = page.locator("#verdict"), page.locator("input[name=code]")
    expect(field).to_be_visible()
    # From here the page's timers wait for the test: ADMITTED's moment never ends by itself.
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # Unix time in seconds

    def scan_next() -> None:
        page.get_by_role("button", name="Scan next").click()

    def escape() -> None:
        page.keyboard.press("Escape")

    for admitted, (code, leave) in enumerate(((family[0], scan_next), (family[1], escape)), start=1):
        scan(page, code)
        expect(verdict).to_have_attribute("data-admitted", "true")
        expect(verdict.get_by_role("heading")).to_have_text("ADMITTED")
        leave()
        expect(verdict).to_be_hidden()
        expect(verdict).not_to_have_attribute("data-result", re.compile(".*"))
        expect(page.locator("#scan")).to_be_visible()
        expect(field).to_be_focused()
        expect(field).to_have_value("")
        expect(page.locator("#scan-status")).to_contain_text(f"Admitted: ticket …{code[-4:]} at 09:00")
        expect(page.locator("#scan-party")).to_have_text(f"Party of 2 · {admitted} in")

    # The next verdict stays until the operator acts: ADMITTED's moment, had it been left to pass, does
    # not come back to close it.
    scan(page, "nothing like a ticket")
    expect(verdict).to_have_attribute("data-code", "INVALID_TICKET")
    page.clock.run_for(5000)
    expect(verdict).to_be_visible()
    expect(verdict).to_have_attribute("data-code", "INVALID_TICKET")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_hand_held_scanners_next_code_during_a_verdict_is_scanned_and_never_presses_its_button(
    page: Page, seed: Seed
) -> None:
    """A scanner that types like a keyboard (the code, then Enter) at a verdict whose Let in has the
    focus: the next code is checked, and the visitor before is not let in by its Enter."""
    orq = seed.org("Hall Museum", unreserved_entry="allow")
    door = seed.staff(orq, Role.OPERATOR)
    unbooked, booked = seed.tickets(orq, 2)
    seed.reserve([booked], seed.slot(orq, start="10:00", end="12:00"))
    page.goto("/operator")
    staff_login(page, door)
    verdict = page.locator("#verdict")

    scan(page, unbooked)
    expect(verdict.get_by_role("heading")).to_have_text("NOT BOOKED")
    expect(page.get_by_role("button", name="Let in")).to_be_focused()
    page.keyboard.type(booked)
    page.keyboard.press("Enter")
    expect(verdict).to_have_attribute("data-admitted", "true")
    expect(page.locator("#verdict-message")).to_contain_text(hours("10:00", "12:00"))
    assert seed.call("GET", f"/api/tickets/{booked}/status")["status"] == "VERIFIED"
    assert seed.call("GET", f"/api/tickets/{unbooked}/status")["status"] == "ACTIVATED"  # nobody let them in

    # The same during ADMITTED, whose Scan next has the focus: the next code is checked at once.
    page.keyboard.type(unbooked)
    page.keyboard.press("Enter")
    expect(verdict.get_by_role("heading")).to_have_text("NOT BOOKED")
    assert seed.call("GET", f"/api/tickets/{unbooked}/status")["status"] == "ACTIVATED"
    # The keyboard's own press of the focused button still works: Space lets them in.
    page.keyboard.press("Space")
    expect(verdict.get_by_role("heading")).to_have_text("ADMITTED")
    assert seed.call("GET", f"/api/tickets/{unbooked}/status")["status"] == "VERIFIED"
