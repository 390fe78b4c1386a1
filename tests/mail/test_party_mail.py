"""Tickets booked together get their e-mails together: one message about the whole party, through a real
SMTP server, with every member's QR code, one printout and one calendar entry."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlsplit

from admit.clock import FrozenClock
from admit.mail.reminders import queue_reminders
from admit.mail.sender import MailContext, send_due
from admit.security.codes import display
from tests.builders import Builders
from tests.mail.conftest import SmtpServer
from tests.mail.test_mail import calendar_of, payload_bytes
from tests.mail.test_ticket_attachment import attached_pdfs
from tests.pdf import pdf_pages
from tests.qr import read_qr


def book_party(make: Builders, orq: int, slot: int, size: int) -> dict[str, Any]:
    codes = [t["code"] for t in make.order(orq, quantity=size, mode="immediate")["tickets"]]
    booked = make.reserve(codes, slot)
    assert booked.status_code == 201, booked.text
    party: dict[str, Any] = make.client.get(f"/api/parties/{booked.json()['party_id']}").json()
    return party


def qr_images(message: EmailMessage) -> list[str]:
    return [read_qr(payload_bytes(p)) for p in message.walk() if p.get_content_type() == "image/png"]


def text_of(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def html_of(message: EmailMessage) -> str:
    return str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]


def test_a_party_of_four_gets_one_email_with_four_qr_codes_one_printout_and_one_invitation(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    party = book_party(make, orq, make.slot(orq, day="2025-11-21", start="14:30", end="15:30"), 4)
    members = party["reservations"]

    assert send_due(mail).sent == 1
    (message,) = smtp.inbox.messages
    text, html = text_of(message), html_of(message)
    assert "People: 4" in text
    assert text.count("Friday, 21 November 2025, 14:30-15:30") == 1  # one shared time, said once
    link = f"https://tickets.museum.example/reserve/party/{party['party_id']}?lang=en"
    assert link in text and f"href='{link}'" in html
    assert sorted(qr_images(message)) == sorted(m["qr_payload"] for m in members)
    for member in members:
        code = display(member["ticket_code"])
        assert f"Ticket: {code}" in text
        assert f"alt='QR code for ticket {code}'" in html

    (pdf,) = attached_pdfs(message)
    pages = pdf_pages(pdf)
    assert [qr for _, qr in pages] == [m["qr_payload"] for m in members]
    assert all("Rijksmuseum" in page for page, _ in pages)

    method, calendar = calendar_of(message)
    assert method == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"party-{party['party_id']}@admit"
    assert "4 people" in str(event["DESCRIPTION"])


def test_a_moved_party_gets_one_update_and_a_cancelled_one_one_cancellation_superseding_its_event(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    party = book_party(make, orq, make.slot(orq, day="2025-11-24"), 3)
    later = make.slot(orq, day="2025-11-25", start="16:00", end="17:00")
    url = f"/api/parties/{party['party_id']}"
    send_due(mail)
    make.client.put(url, json={"slot_id": later}).raise_for_status()
    assert send_due(mail).sent == 1
    moved = make.client.get(url).json()["reservations"]
    make.client.delete(url).raise_for_status()
    assert send_due(mail).sent == 1

    confirmation, update, cancellation = smtp.inbox.messages
    assert str(update["Subject"]).strip().startswith("Changed:") and "16:00" in str(update["Subject"])
    assert sorted(qr_images(update)) == sorted(m["qr_payload"] for m in moved)  # the new time's codes
    assert len(pdf_pages(attached_pdfs(update)[0])) == 3
    assert str(cancellation["Subject"]).strip().startswith("Cancelled:")
    assert qr_images(cancellation) == [] and attached_pdfs(cancellation) == []
    assert all(display(m["ticket_code"]) in text_of(cancellation) for m in moved)
    events = []
    for message, expected in ((confirmation, "REQUEST"), (update, "REQUEST"), (cancellation, "CANCEL")):
        method, calendar = calendar_of(message)
        (event,) = calendar.walk("VEVENT")
        assert method == expected
        events.append((str(event["UID"]), int(str(event["SEQUENCE"]))))
    assert len({uid for uid, _ in events}) == 1  # the same entry, changed then cancelled
    assert events[0][1] < events[1][1] < events[2][1]


def test_one_member_cancelled_alone_gets_a_cancellation_about_that_member_only(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    party = book_party(make, orq, make.slot(orq), 3)
    send_due(mail)
    leaving, *staying = party["reservations"]
    make.client.delete(f"/api/reservations/{leaving['reservation_id']}").raise_for_status()
    assert send_due(mail).sent == 1

    confirmation, message = smtp.inbox.messages
    text = text_of(message)
    assert str(message["Subject"]).strip().startswith("Cancelled:")
    assert display(leaving["ticket_code"]) in text
    assert not any(display(m["ticket_code"]) in text for m in staying)
    assert f"/reserve/{leaving['reservation_id']}?lang=en" in text and "/reserve/party/" not in text
    # The party's calendar entry stays, now for the two still coming.
    (booked,), (now,) = (calendar_of(m)[1].walk("VEVENT") for m in (confirmation, message))
    assert calendar_of(message)[0] == "REQUEST"
    assert str(now["UID"]) == str(booked["UID"]) == f"party-{party['party_id']}@admit"
    assert int(str(now["SEQUENCE"])) > int(str(booked["SEQUENCE"]))
    assert "2 people" in str(now["DESCRIPTION"]) and display(leaving["ticket_code"]) not in str(
        now["DESCRIPTION"]
    )


def test_members_at_different_times_each_have_their_own_time_in_the_update(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    party = book_party(make, orq, make.slot(orq, day="2025-11-24"), 3)
    alone = make.slot(orq, day="2025-11-24", start="12:00", end="13:00")
    together = make.slot(orq, day="2025-11-26", start="16:00", end="17:00")
    first, *_ = party["reservations"]
    make.client.put(
        f"/api/reservations/{first['reservation_id']}", json={"slot_id": alone}
    ).raise_for_status()
    send_due(mail)
    smtp.inbox.messages.clear()
    make.client.put(f"/api/parties/{party['party_id']}", json={"slot_id": together}).raise_for_status()
    make.client.put(
        f"/api/reservations/{first['reservation_id']}", json={"slot_id": alone}
    ).raise_for_status()
    # The party's update, made after the member moved back alone, tells each member's own time.
    send_due(mail)

    party_update = next(m for m in smtp.inbox.messages if "/reserve/party/" in text_of(m))
    text = text_of(party_update)
    assert f"{display(first['ticket_code'])}, Monday, 24 November 2025, 12:00-13:00" in text
    for member in party["reservations"][1:]:
        assert f"{display(member['ticket_code'])}, Wednesday, 26 November 2025, 16:00-17:00" in text
    assert len(qr_images(party_update)) == 3


def test_a_party_visiting_tomorrow_gets_one_reminder_with_all_its_codes(
    make: Builders, mail: MailContext, smtp: SmtpServer, clock: FrozenClock
) -> None:
    orq = make.org()
    party = book_party(make, orq, make.slot(orq, day="2025-11-23"), 4)
    leaving = party["reservations"][0]
    make.client.delete(f"/api/reservations/{leaving['reservation_id']}").raise_for_status()
    send_due(mail)
    smtp.inbox.messages.clear()

    clock.advance(timedelta(days=2))  # the visit is tomorrow
    assert queue_reminders(mail.sessions, now=clock.now()) == 1
    assert queue_reminders(mail.sessions, now=clock.now()) == 0
    assert send_due(mail).sent == 1
    (reminder,) = smtp.inbox.messages
    assert str(reminder["Subject"]).strip().startswith("Tomorrow:")
    live = make.client.get(f"/api/parties/{party['party_id']}").json()["reservations"][1:]
    assert sorted(qr_images(reminder)) == sorted(m["qr_payload"] for m in live)
    assert "People: 3" in text_of(reminder)


def test_a_party_booked_on_the_day_before_its_visit_gets_no_tomorrow_reminder(
    make: Builders, mail: MailContext, clock: FrozenClock
) -> None:
    orq = make.org()
    clock.advance(timedelta(days=1))
    book_party(make, orq, make.slot(orq, day="2025-11-22"), 2)  # booked the day before
    assert queue_reminders(mail.sessions, now=clock.now()) == 0


def test_a_closed_time_asks_a_party_once_to_choose_another_time_on_its_page(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    slot = make.slot(orq)
    party = book_party(make, orq, slot, 3)
    send_due(mail)
    smtp.inbox.messages.clear()
    closed = make.client.patch(
        f"/api/reservation-slots/{slot}",
        json={"status": "CLOSED", "notify": True},
        headers=make.admin(orq).headers,
    )
    assert closed.json()["notified"] == 3
    assert send_due(mail).sent == 1
    (message,) = smtp.inbox.messages
    text = text_of(message)
    assert f"/reserve/party/{party['party_id']}?lang=en" in text
    assert all(display(m["ticket_code"]) in text for m in party["reservations"])


def test_the_order_email_leads_with_the_order_link_which_lists_the_orders_tickets(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    order = make.order(orq, quantity=3, mode="immediate", customer_email="buyer@example.com")
    send_due(mail)
    (message,) = smtp.inbox.messages
    text, html = text_of(message), html_of(message)
    token = parse_qs(urlsplit(order["order_url"]).query)["order"][0]
    link = f"https://tickets.museum.example/reserve?order={token}&lang=en"
    assert f"Book a time for all your tickets: {link}" in text
    assert f"href='{escape(link)}'" in html
    assert text.index(link) < min(text.index(display(t["code"])) for t in order["tickets"])
    assert all(f"/reserve?code={t['code']}" in text for t in order["tickets"])  # each ticket alone too

    opened = make.client.get(f"/api/order-links/{token}")
    assert opened.status_code == 200
    assert sorted(t["code"] for t in opened.json()["tickets"]) == sorted(t["code"] for t in order["tickets"])


def test_a_partys_email_and_invitation_speak_the_language_it_was_booked_in(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum")
    codes = [t["code"] for t in make.order(orq, quantity=2, mode="immediate")["tickets"]]
    booked = make.reserve(codes, make.slot(orq, day="2025-11-21", start="14:30", end="15:30"), language="nl")
    assert booked.status_code == 201, booked.text
    send_due(mail)
    (message,) = smtp.inbox.messages
    text = text_of(message)
    assert message["Content-Language"] == "nl"
    assert "Personen: 2" in text and "Laat bij de ingang de QR-codes zien" in text
    assert f"/reserve/party/{booked.json()['party_id']}?lang=nl" in text
    (event,) = calendar_of(message)[1].walk("VEVENT")
    assert "2 personen" in str(event["DESCRIPTION"])
