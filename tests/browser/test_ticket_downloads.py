"""The reservation's page offers the printable ticket, and the Apple Wallet pass where it is configured.

This module's server has a pass certificate; test_manage_reservation's has none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Seed, Shot
from tests.browser.test_accessibility import serious_violations
from tests.wallet import pass_settings, write_pass_files

pytestmark = pytest.mark.browser


def server_env(data_dir: Path) -> dict[str, str]:
    return pass_settings(write_pass_files(data_dir))


def test_the_reservation_page_offers_the_printable_ticket_and_the_wallet_pass(
    page: Page, seed: Seed, shot: Shot
) -> None:
    orq = seed.org()
    _, reservation_id = seed.reserved(orq, seed.slot(orq, day="2025-11-25"))
    page.goto(f"/reserve/{reservation_id}")
    printable = page.get_by_role("link", name="Printable ticket")
    wallet = page.get_by_role("link", name="Add to Apple Wallet")
    expect(printable).to_be_visible()
    expect(wallet).to_be_visible()
    shot(page, "downloads")
    assert serious_violations(page) == []
    pdf = page.request.get(str(printable.get_attribute("href")))
    assert (pdf.status, pdf.headers["content-type"]) == (200, "application/pdf")
    wallet_pass = page.request.get(str(wallet.get_attribute("href")))
    assert (wallet_pass.status, wallet_pass.headers["content-type"]) == (200, "application/vnd.apple.pkpass")
