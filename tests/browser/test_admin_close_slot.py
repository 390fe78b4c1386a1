"""The admin closes a booked slot: asked first, offered to tell the visitors, told how many were told;
the e-mails are checked at a real SMTP server, and a visitor's link offers another time.

Pinned clock: Thursday 20 November 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from playwright.sync_api import Page, expect

from admit.mail.sender import send_due
from tests.browser.conftest import TODAY, Seed, Shot, docs_shot, hours, staff_login
from tests.browser.test_accessibility import serious_violations
from tests.mail.conftest import SmtpServer, mail_context

pytestmark = pytest.mark.browser


def test_the_admin_closes_a_booked_slot_and_the_visitors_are_emailed_their_link(
    page: Page, seed: Seed, shot: Shot, smtp: SmtpServer, viewport: str
) -> None:
    orq = seed.org("Close Museum")
    slot = seed.slot(orq, day=TODAY, start="15:00", end="16:00")
    seed.slot(orq, day=TODAY, start="16:00", end="17:00")  # where a visitor moves to
    reservations = {}
    for email in ("ann@example.com", "bob@example.org"):
        (code,) = seed.tickets(orq)
        contact = {"customer_email": email, "customer_phone": "+31 6 1234 5678"}
        body = {"ticket_codes": [code], "slot_id": slot, **contact}
        [booked] = seed.call("POST", "/api/reservations", json=body)["reservations"]
        reservations[email] = booked["reservation_id"]
    # The sender as the server would run it, its links pointing at this server.
    mail = mail_context(seed.context, smtp.port)
    mail = replace(mail, sender=replace(mail.sender, public_url=seed.server.base_url))
    send_due(mail)  # the confirmations
    smtp.inbox.messages.clear()

    page.goto("/admin")
    staff_login(page, seed.admin(orq))
    time = hours("15:00", "16:00")
    row = page.locator(f"tr[data-slot-id='{slot}']")
    expect(row).to_contain_text("active")
    dialog = page.get_by_role("dialog", name=f"Close {time}?")

    # Asked first: keeping it open changes nothing.
    page.get_by_role("button", name=f"Close {time}").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("2 visitors are booked in this slot.")
    expect(dialog.get_by_role("checkbox", name="E-mail the 2 a link to choose another time")).to_be_checked()
    shot(page, "asked")
    if viewport == "desktop":
        docs_shot(page, seed.server, "admin-close-slot-desktop")
    assert serious_violations(page) == []
    dialog.get_by_role("button", name="Keep it open").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("active")
    ann = seed.call("GET", f"/api/reservations/{reservations['ann@example.com']}")
    assert ann["slot"]["status"] == "ACTIVE"

    page.get_by_role("button", name=f"Close {time}").click()
    dialog.get_by_role("button", name="Close slot").click()
    expect(page.locator("#slots-message")).to_have_text(f"✓ {time}: closed for booking. 2 visitors told.")
    expect(row).to_contain_text("closed")
    shot(page, "told")

    assert send_due(mail).sent == 2
    by_recipient = {str(message["To"]): message for message in smtp.inbox.messages}
    assert set(by_recipient) == set(reservations)
    links = {}
    for email, reservation_id in reservations.items():
        text = by_recipient[email].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        [links[email]] = re.findall(r"https?://\S+/reserve/\S+", text)
        assert links[email] == f"{seed.server.base_url}/reserve/{reservation_id}?lang=en"

    # The visitor follows the link and may choose another time, whatever the policy's cutoff says.
    page.goto(links["ann@example.com"])
    expect(page.locator("#slot-closed")).to_have_text(
        "The venue has closed this time. Your ticket is still valid: please choose another time below."
    )
    page.get_by_role("button", name="Choose another time").click()
    expect(page.locator("#change-picker")).to_be_visible()
