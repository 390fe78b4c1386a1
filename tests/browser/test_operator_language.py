"""The door's scanner in the operator's language, apart from the visitors': chosen in the header (and
remembered), else the browser's; the verdicts, the server's and the offline scanner's, in its words.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam. Locators go by id and role, not by English
words: on these pages the words are French.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from admit.domain.roles import Role
from tests.browser.conftest import PIN, VIEWPORTS, Seed, Server, StaffLogin, Venue

pytestmark = pytest.mark.browser


@pytest.fixture
def french_browser_page(browser: Browser, server: Server) -> Iterator[Page]:
    """A phone whose browser asks for French (Accept-Language: fr-FR)."""
    context = browser.new_context(base_url=server.base_url, locale="fr-FR", **VIEWPORTS["phone"])
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def log_in(page: Page, staff: StaffLogin) -> None:
    page.locator("#login-username").fill(staff.username)
    page.locator("input[name=secret_kind][value=pin]").check()
    page.locator("#login-secret").fill(PIN)
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("#manual-code")).to_be_visible()


def scan(page: Page, code: str) -> None:
    page.locator("#manual-code").fill(code)
    page.locator("#manual-form button[type=submit]").click()


def next_scan(page: Page) -> None:
    page.locator("#next").click()
    expect(page.locator("#verdict")).to_be_hidden()


def expect_big_title(title: Locator, words: str) -> None:
    """The verdict's title in words read from afar: at least 48 CSS px, wrapped within a 390 px phone."""
    expect(title).to_have_text(words)
    size = title.evaluate("element => parseFloat(getComputedStyle(element).fontSize)")
    assert size >= 48, f"{words}: {size} px"
    box = title.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, f"{words}: {box}"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_operator_picks_french_in_the_header_and_reads_french_verdicts(
    page: Page, seed: Seed, venue: Venue
) -> None:
    today, _ = seed.reserved(venue.orq, venue.today)
    tomorrow, _ = seed.reserved(venue.orq, venue.tomorrow)
    page.goto("/operator")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#language-choice").select_option("fr")  # sent as soon as it is picked
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".site-name")).to_have_text("Scanner d'entrée")
    log_in(page, venue.door)
    page.locator("#admit-toggle").uncheck()  # check first, then let in: the GREEN verdict stays shown
    verdict, title = page.locator("#verdict"), page.locator("#verdict-title")

    scan(page, today)
    expect(verdict).to_have_attribute("data-result", "GREEN")
    expect_big_title(title, "VALIDE")
    expect(verdict).to_contain_text("Réservé pour aujourd'hui, 10:00-12:00")
    expect(verdict).to_contain_text("Entrée")
    expect(page.locator("#verify")).to_have_text("Marquer comme entré")
    page.locator("#verify").click()
    expect(page.locator("#scan-status")).to_contain_text(f"Entrée validée : billet …{today[-4:]} à 09:00.")

    scan(page, tomorrow)
    expect(verdict).to_have_attribute("data-result", "RED")
    expect(verdict).to_have_attribute("data-code", "WRONG_DATE")
    expect_big_title(title, "DEMAIN 14:00")
    expect(verdict).to_contain_text("Réservé pour demain, 14:00-15:00")
    expect(page.locator("#verify")).to_be_hidden()
    next_scan(page)

    scan(page, today)  # let in a moment ago
    expect(verdict).to_have_attribute("data-code", "ALREADY_VERIFIED")
    expect_big_title(title, "DÉJÀ ENTRÉ — 09:00 PAR JANE")
    expect(verdict).to_contain_text("Entré à 09:00, validé par Jane Smith")
    next_scan(page)

    # The choice is the device's: the scanner opens in French again, whatever the browser asks for.
    page.goto("/operator")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    # The visitors' pages keep their own language.
    page.goto("/reserve")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_browser_asking_for_french_gets_the_scanner_in_french(
    french_browser_page: Page, seed: Seed, venue: Venue
) -> None:
    page = french_browser_page
    code, _ = seed.reserved(venue.orq, venue.today)
    page.goto("/operator")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    log_in(page, seed.staff(venue.orq, Role.OPERATOR, name="Léa Martin"))
    verdict, title = page.locator("#verdict"), page.locator("#verdict-title")

    scan(page, code)  # admitted with the scan itself, the default
    expect(verdict).to_have_attribute("data-admitted", "true")
    expect_big_title(title, "ENTRÉE OK")
    expect(page.locator("#scan-status")).to_contain_text(f"Entrée validée : billet …{code[-4:]} à 09:00.")

    scan(page, "rien d'un billet")
    expect(verdict).to_have_attribute("data-code", "INVALID_TICKET")
    expect_big_title(title, "BILLET INCONNU")
    expect(verdict).to_contain_text("Ce code n'est pas un billet pour ce lieu.")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_the_offline_scanner_keeps_the_language_chosen_last_and_decides_in_it(
    page: Page, seed: Seed, venue: Venue
) -> None:
    tomorrow, _ = seed.reserved(venue.orq, venue.tomorrow)
    page.goto("/operator")
    log_in(page, venue.door)
    page.locator("#admit-toggle").uncheck()
    expect(page.locator("body")).to_have_attribute("data-offline-shell", "ready")  # kept in English
    page.locator("#language-choice").select_option("fr")  # online: the kept page is now the French one
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#manual-code")).to_be_visible()  # still logged in
    # The offline data has tickets (a check without evaluating a string, which the page's policy forbids).
    expect(page.locator("#offline-status")).to_have_attribute("data-tickets", re.compile(r"^[1-9][0-9]*$"))
    expect(page.locator("#offline-status")).to_contain_text("Données hors ligne")

    page.context.set_offline(True)
    page.goto("/operator")  # the service worker's copy
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    scan(page, tomorrow)
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("data-offline", "true")
    expect(verdict).to_have_attribute("data-code", "WRONG_DATE")
    expect_big_title(page.locator("#verdict-title"), "DEMAIN 14:00")
    expect(verdict).to_contain_text("Réservé pour demain, 14:00-15:00")
    expect(verdict).to_contain_text("hors ligne, sur cet appareil")
    expect(page.locator("#offline-badge")).to_contain_text("HORS LIGNE")
    next_scan(page)
    scan(page, "ABCDEFGHJKMNPQRSTVWX")
    expect(verdict).to_have_attribute("data-code", "NOT_IN_OFFLINE_DATA")
    expect_big_title(page.locator("#verdict-title"), "ABSENT DES DONNÉES")
