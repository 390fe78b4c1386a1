"""The visitor's pages in the visitor's language: chosen with the switcher (and remembered), or taken
from the browser's; the calendar's months and weekdays, the steps and the scripts' own messages with it.

Pinned clock: Thursday, 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect

from admit.mail.sender import send_due
from tests.browser.conftest import TODAY, VIEWPORTS, Seed, Server, Shot, hours
from tests.browser.test_accessibility import serious_violations
from tests.mail.conftest import SmtpServer, mail_context
from tests.mail.test_languages import plain, subject
from tests.mail.test_mail import calendar_of

pytestmark = pytest.mark.browser


@pytest.fixture
def german(browser: Browser, server: Server, viewport: str) -> Iterator[Page]:
    """A page in a browser that asks for German first (Accept-Language: de-DE), failing on script errors."""
    context = browser.new_context(base_url=server.base_url, locale="de-DE", **VIEWPORTS[viewport])
    yield from _watched(context)


@pytest.fixture
def without_scripts(browser: Browser, server: Server, viewport: str) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server.base_url, locale="en-GB", java_script_enabled=False, **VIEWPORTS[viewport]
    )
    yield from _watched(context)


def _watched(context: BrowserContext) -> Iterator[Page]:
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"the page's scripts failed: {errors}"


def _mailed(seed: Seed, smtp: SmtpServer) -> list[EmailMessage]:
    """What the sender delivers now, as the server would run it, its links pointing at this server."""
    mail = mail_context(seed.context, smtp.port)
    send_due(replace(mail, sender=replace(mail.sender, public_url=seed.server.base_url)))
    return list(smtp.inbox.messages)


def _box(locator: Locator) -> dict[str, Any]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return dict(box)


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    apart = (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )
    return not apart


def test_the_switcher_turns_the_pages_dutch_and_the_choice_is_remembered(
    page: Page, seed: Seed, shot: Shot, viewport: str
) -> None:
    orq = seed.org(name="Rijksmuseum van Oudheden en Volkenkunde")
    seed.slot(orq, day=TODAY, start="10:00", end="11:00")
    (code,) = seed.tickets(orq, mode="pre_made")
    _, reservation_id = seed.reserved(orq, seed.slot(orq, day="2025-11-21", start="14:00", end="15:00"))

    page.goto(f"/reserve?code={code}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#ticket-list li")).to_contain_text("Not activated")
    # The switcher sits in the header beside a long venue name, never over it, and inside the screen.
    venue_name, switcher = page.locator("#venue-name"), page.locator(".language-switch")
    expect(venue_name).to_be_visible()
    assert not _overlap(_box(venue_name), _box(switcher))
    width = VIEWPORTS[viewport]["viewport"]["width"]
    assert _box(switcher)["x"] + _box(switcher)["width"] <= width
    expect(page.get_by_role("button", name="Change", exact=True)).to_be_hidden()  # the scripts switch at once

    page.get_by_label("Language").select_option("nl")
    # The page comes back in Dutch with the ticket's code still there.
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    assert "code=" in page.url and "lang=nl" in page.url
    ticket = page.locator("#ticket-list li")
    expect(ticket).to_contain_text("Niet geactiveerd")
    expect(ticket).to_contain_text("activeren is definitief")
    steps = page.get_by_role("list", name="Stappen van de reservering")
    expect(steps).to_contain_text("Datum en tijd")
    expect(page.get_by_label("Taal")).to_have_value("nl")
    page.get_by_role("button", name="Ticket activeren").click()
    expect(ticket).to_contain_text("Klaar om te reserveren")
    page.get_by_role("button", name="Verder").click()
    calendar = page.locator("#calendar")
    expect(calendar.get_by_role("heading", name="november 2025")).to_be_visible()
    expect(calendar.locator("thead th").first).to_have_text("ma")
    expect(calendar.locator(f'[data-date="{TODAY}"]')).to_contain_text("Open")
    shot(page, "calendar-nl")

    # Remembered: a fresh visit without ?lang= speaks Dutch, and so does the reservation's own page.
    page.goto("/reserve")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", name="Je ticket")).to_be_visible()
    page.goto(f"/reserve/{reservation_id}")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator(".status-pill")).to_have_text("Gereserveerd")
    expect(page.locator("#res-date")).to_have_text("Morgen, vrijdag 21 november 2025")
    expect(page.locator("#res-time")).to_have_text(hours("14:00", "15:00"))
    expect(page.get_by_role("button", name="Reservering annuleren")).to_be_visible()
    assert not _overlap(_box(page.locator("#venue-name")), _box(switcher))
    shot(page, "manage-nl")

    # And back to English with the same switcher.
    page.get_by_label("Taal").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".status-pill")).to_have_text("Booked")


@pytest.mark.parametrize("viewport", ["desktop"], indirect=True)
def test_a_language_picked_before_the_scripts_have_loaded_is_sent_once_they_have(page: Page) -> None:
    held: list[Route] = []
    page.route("**/static/js/common.js", lambda route: held.append(route), times=1)
    page.goto("/reserve?code=ABCD-EFGH", wait_until="commit")
    page.get_by_label("Language").select_option("nl")
    expect(page.get_by_role("button", name="Change", exact=True)).to_be_visible()  # no scripts yet
    expect(page.locator("html")).to_have_attribute("lang", "en")

    held[0].continue_()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    assert "code=ABCD-EFGH" in page.url and "lang=nl" in page.url
    # Once is enough: the Dutch page stays, with its choice shown.
    expect(page.get_by_label("Taal")).to_have_value("nl")
    expect(page.get_by_role("heading", name="Je ticket")).to_be_visible()


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_without_scripts_the_switcher_is_a_form_that_keeps_the_code(without_scripts: Page) -> None:
    page = without_scripts
    page.goto("/reserve?code=ABCD-EFGH")
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert "code=ABCD-EFGH" in page.url and "lang=fr" in page.url
    expect(page.get_by_role("heading", name="Votre billet")).to_be_attached()
    expect(page.get_by_role("button", name="Changer", exact=True)).to_be_visible()


def test_a_german_browser_books_in_german_and_is_mailed_in_german(
    german: Page, seed: Seed, shot: Shot, smtp: SmtpServer
) -> None:
    page = german
    orq = seed.org()
    slot = seed.slot(orq, day=TODAY, start="10:00", end="11:00", capacity=200)
    seed.book(orq, 50, slot)
    (code,) = seed.tickets(orq, mode="pre_made")

    page.goto(f"/reserve?code={code}")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    steps = page.get_by_role("list", name="Schritte der Buchung")
    for step in ("Ticket", "Datum und Uhrzeit", "Kontakt", "Bestätigen"):
        expect(steps).to_contain_text(step)
    page.get_by_role("button", name="Ticket aktivieren").click()
    expect(page.locator("#ticket-list li")).to_contain_text("Bereit zum Buchen")
    page.get_by_role("button", name="Weiter").click()

    # The calendar: the month's and the weekdays' names as German writes them, levels in German words.
    calendar = page.locator("#calendar")
    expect(calendar.get_by_role("heading", name="November 2025")).to_be_visible()
    weekdays = calendar.locator("table").first.locator("thead th")
    expect(weekdays).to_have_text(["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"])
    expect(calendar.locator("thead th").first).to_have_attribute("abbr", "Montag")
    today = calendar.locator(f'[data-date="{TODAY}"]')
    expect(today).to_contain_text("Frei")
    spoken = "Donnerstag, 20. November 2025, viele Plätze frei, 150 Plätze, heute"
    expect(today).to_have_attribute("aria-label", spoken)
    expect(calendar.get_by_role("button", name="Nächster Monat")).to_be_visible()
    # A day without times answers a click (it is only marked unavailable) with the script's own words.
    calendar.locator('[data-date="2025-11-23"]').click(force=True)
    expect(calendar.get_by_role("alert")).to_have_text(
        "Für Sonntag, 23. November 2025 gibt es keine buchbaren Zeiten."
    )
    today.click()
    expect(
        page.get_by_role("heading", name="Zeiten für heute, Donnerstag, 20. November 2025")
    ).to_be_visible()
    slot_button = calendar.locator("button.slot")
    expect(slot_button).to_contain_text(hours("10:00", "11:00"))
    expect(slot_button).to_contain_text("150/200 frei")
    shot(german, "calendar-de")
    slot_button.click()

    expect(page.get_by_role("heading", name="Ihre Kontaktdaten")).to_be_focused()
    page.get_by_label("E-Mail").fill("besucher@")
    page.get_by_label("Telefon", exact=True).fill("020 123 4567")
    page.get_by_role("button", name="Weiter").click()
    expect(page.locator("#email-error")).to_have_text(
        "Bitte geben Sie eine E-Mail-Adresse wie name@example.com ein."
    )
    page.get_by_label("E-Mail").fill("besucher@example.com")
    page.get_by_role("button", name="Weiter").click()

    summary = page.locator("#step-summary")
    expect(summary.locator("#sum-date")).to_have_text("Heute, Donnerstag, 20. November 2025")
    page.get_by_role("button", name="Bestätigen").click()
    expect(page.get_by_role("heading", name="Ihr Besuch ist gebucht")).to_be_visible()
    expect(page.locator("#done-sent")).to_have_text("Bestätigung gesendet an b\u2026@example.com.")
    expect(page.locator("#done-list img.qr")).to_have_attribute("alt", f"QR-Code von Ticket {_grouped(code)}")
    shot(german, "done-de")
    page.get_by_role("link", name="Diese Buchung umbuchen oder stornieren").click()
    expect(page.locator(".status-pill")).to_have_text("Gebucht")
    expect(page.locator("html")).to_have_attribute("lang", "de")

    # The confirmation, at a real SMTP server, and its calendar entry: in German too.
    (confirmation,) = [m for m in _mailed(seed, smtp) if m["To"] == "besucher@example.com"]
    assert subject(confirmation) == "Ihr Besuch: City Museum, Donnerstag, 20. November 2025, 10:00-11:00 Uhr"
    assert plain(confirmation).startswith("Ihr Besuch ist gebucht.")
    _method, entry = calendar_of(confirmation)
    (event,) = entry.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Besuch: City Museum"
    assert "Zeigen Sie am Eingang den QR-Code vor." in str(event["DESCRIPTION"])


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_visitor_who_switches_to_dutch_books_and_is_mailed_in_dutch(
    page: Page, seed: Seed, smtp: SmtpServer
) -> None:
    orq = seed.org("Het Scheepvaartmuseum")
    seed.slot(orq, day=TODAY, start="14:00", end="15:00")
    (code,) = seed.tickets(orq)
    page.goto(f"/reserve?code={code}")  # an English browser
    page.get_by_label("Language").select_option("nl")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("#ticket-list li")).to_contain_text("Klaar om te reserveren")
    page.get_by_role("button", name="Verder").click()
    expect(page.get_by_role("heading", name="Kies een datum en tijd")).to_be_visible()
    # The calendar has loaded when its month shows, as the visitor sees; or it says why it has not,
    # and then so does the test.
    calendar = page.locator("#calendar")
    status = calendar.locator('[role="alert"]')
    said = status.filter(has_text=re.compile(r"\S"))
    expect(calendar.get_by_role("heading", name="november 2025").or_(said)).to_be_visible()
    expect(status).to_have_text("")
    today = calendar.locator(f'[data-date="{TODAY}"]')
    expect(today).to_contain_text("Open")
    today.click()
    expect(calendar.locator("button.slot")).to_have_count(1)
    calendar.locator("button.slot").click()
    page.get_by_label("E-mail").fill("bezoeker@example.com")
    page.get_by_label("Telefoon", exact=True).fill("020 123 4567")
    page.get_by_role("button", name="Verder").click()
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.locator("#done-list li")).to_have_count(1)

    (confirmation,) = [m for m in _mailed(seed, smtp) if m["To"] == "bezoeker@example.com"]
    assert subject(confirmation).startswith("Je bezoek aan Het Scheepvaartmuseum: donderdag 20 november 2025")
    assert plain(confirmation).startswith("Je bezoek is geboekt.")
    _method, entry = calendar_of(confirmation)
    (event,) = entry.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Bezoek aan Het Scheepvaartmuseum"
    # The e-mail's link opens the reservation's page in Dutch, on a device that prefers English.
    (link,) = re.findall(r"https?://\S+/reserve/\S+", plain(confirmation))
    page.context.clear_cookies()
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator(".status-pill")).to_have_text("Gereserveerd")


def _grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_dutch_booking_pages_have_no_serious_accessibility_violations(page: Page, seed: Seed) -> None:
    orq = seed.org()
    seed.slot(orq, day=TODAY, start="15:00", end="16:00")
    (code,) = seed.tickets(orq)
    page.goto(f"/reserve?lang=nl&code={code}")
    expect(page.locator("#ticket-list li")).to_contain_text("Geactiveerd")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Verder").click()
    page.locator(f'#calendar [data-date="{TODAY}"]').click()
    expect(page.locator("#calendar button.slot")).to_have_count(1)
    assert serious_violations(page) == []
    page.locator("#calendar button.slot").click()
    page.get_by_label("E-mail").fill("bezoeker@example.com")
    page.get_by_label("Telefoon", exact=True).fill("+31 20 123 4567")
    page.get_by_role("button", name="Verder").click()
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.get_by_role("heading", name="Je bezoek is gereserveerd")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="Deze reservering verzetten of annuleren").click()
    expect(page.locator(".status-pill")).to_have_text("Gereserveerd")
    assert serious_violations(page) == []
