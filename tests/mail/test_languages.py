"""E-mails in the visitor's language: the one the booking (or order) was made in, through a real SMTP server.

The language is the body's `language`, else the browser's Accept-Language, else the venue's default
language; the reservation keeps it, so its update and reminder speak it whatever later requests ask.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from admit.clock import FrozenClock
from admit.mail.reminders import queue_reminders
from admit.mail.sender import MailContext, send_due
from admit.security.codes import display
from tests.builders import CONTACT, Builders
from tests.mail.conftest import SmtpServer
from tests.mail.test_mail import calendar_of
from tests.mail.test_ticket_attachment import attached_pdfs
from tests.pdf import pdf_pages

GERMAN_BROWSER = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}


def book(make: Builders, orq: int, slot_id: int, headers: dict[str, str] | None = None, **body: str) -> str:
    """A fresh ticket booked into the slot; its reservation's id."""
    code = make.ticket(orq, "ACTIVATED")
    response = make.client.post(
        "/api/reservations",
        json={"ticket_code": code, "slot_id": slot_id, **CONTACT, **body},
        headers=headers or {},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["reservations"][0]["reservation_id"])


def plain(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def html(message: EmailMessage) -> str:
    return str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]


def subject(message: EmailMessage) -> str:
    return str(message["Subject"]).strip()


def test_a_booking_from_a_german_browser_is_confirmed_moved_and_reminded_in_german(
    make: Builders, mail: MailContext, smtp: SmtpServer, clock: FrozenClock
) -> None:
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    reservation_id = book(
        make, orq, make.slot(orq, day="2025-11-23", start="14:30", end="15:30"), GERMAN_BROWSER
    )
    send_due(mail)
    (confirmation,) = smtp.inbox.messages
    assert subject(confirmation) == "Ihr Besuch: Rijksmuseum, Sonntag, 23. November 2025, 14:30-15:30 Uhr"
    assert confirmation["Content-Language"] == "de"
    text = plain(confirmation)
    assert text.startswith("Ihr Besuch ist gebucht.")
    assert (
        "Datum und Uhrzeit: Sonntag, 23. November 2025, 14:30-15:30 Uhr (Zeitzone Europe/Amsterdam)" in text
    )
    assert (
        f"Buchung ansehen, umbuchen oder stornieren: https://tickets.museum.example/reserve/{reservation_id}"
        in text
    )
    assert "<html lang='de'>" in html(confirmation) and "QR-Code für Ticket" in html(confirmation)

    _method, calendar = calendar_of(confirmation)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Besuch: Rijksmuseum"
    assert event["SUMMARY"].params["LANGUAGE"] == "de"
    assert "Zeigen Sie am Eingang den QR-Code vor." in str(event["DESCRIPTION"])

    ((printed, _qr),) = pdf_pages(attached_pdfs(confirmation)[0])
    for words in ("Sonntag, 23. November 2025", "14:30-15:30", "Einlass für 1 Person", "Ticketcode"):
        assert words in printed
    assert "Admission" not in printed

    # Moved from a French browser: the reservation keeps the language it was booked in.
    later = make.slot(orq, day="2025-11-24", start="10:00", end="11:00")
    moved = make.client.put(
        f"/api/reservations/{reservation_id}", json={"slot_id": later}, headers={"Accept-Language": "fr"}
    )
    assert moved.status_code == 200, moved.text
    send_due(mail)
    update = smtp.inbox.messages[-1]
    assert (
        subject(update)
        == "Geändert: Ihr Besuch (Rijksmuseum) ist jetzt am Montag, 24. November 2025, 10:00-11:00 Uhr"
    )
    assert "Ihr Besuch wurde umgebucht." in plain(update)
    assert "Montag, 24. November 2025" in pdf_pages(attached_pdfs(update)[0])[0][0]

    clock.advance(timedelta(days=3))  # 23 November: the visit is tomorrow
    assert queue_reminders(mail.sessions, now=clock.now()) == 1
    send_due(mail)
    reminder = smtp.inbox.messages[-1]
    assert subject(reminder) == "Morgen: Ihr Besuch (Rijksmuseum), Montag, 24. November 2025, 10:00-11:00 Uhr"
    # Beside the word "tomorrow" the date stays: the message may be read a day later.
    assert "Datum und Uhrzeit: Morgen, Montag, 24. November 2025, 10:00-11:00 Uhr" in plain(reminder)


def test_the_language_in_the_body_wins_over_the_browsers(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    book(
        make, orq, make.slot(orq, day="2025-11-23", start="14:30", end="15:30"), GERMAN_BROWSER, language="fr"
    )
    send_due(mail)
    (message,) = smtp.inbox.messages
    assert subject(message) == "Votre visite : Rijksmuseum, dimanche 23 novembre 2025, 14:30-15:30"
    assert "Présentez le code QR à l'entrée" in plain(message)


def test_without_a_language_asked_for_the_venues_default_language_is_used(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    admin = make.admin(orq).headers
    changed = make.client.patch(
        f"/api/organizations/{orq}/identity", json={"default_language": "nl"}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["default_language"] == "nl"
    assert (
        make.client.get(f"/api/organizations/{orq}", headers=admin).json()["identity"]["default_language"]
        == "nl"
    )

    slot = make.slot(orq, day="2025-11-23", start="14:30", end="15:30")
    book(make, orq, slot)  # no Accept-Language at all
    book(make, orq, slot, {"Accept-Language": "ja-JP, ko;q=0.5"})  # none of the shipped languages
    book(make, orq, slot, {"Accept-Language": "ja, en;q=0.1"})  # English is shipped: it wins
    send_due(mail)
    first, second, third = smtp.inbox.messages
    for dutch in (first, second):
        assert subject(dutch) == "Je bezoek aan Rijksmuseum: zondag 23 november 2025, 14:30-15:30"
        assert plain(dutch).startswith("Je bezoek is geboekt.")
    assert subject(third) == "Your visit to Rijksmuseum: Sunday, 23 November 2025, 14:30-15:30"


def test_a_language_that_is_not_shipped_is_refused_and_nothing_is_written(make: Builders) -> None:
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    slot = make.slot(orq)
    code = make.ticket(orq, "ACTIVATED")
    admin = make.admin(orq).headers
    before = make.snapshot()
    for language in ("xx", "DE", "de-DE", "", 7):
        booking = {"ticket_code": code, "slot_id": slot, **CONTACT, "language": language}
        assert make.client.post("/api/reservations", json=booking).status_code == 422, language
        order = {
            "orq": orq,
            "quantity": 1,
            "activation_mode": "immediate",
            "paid": True,
            "language": language,
        }
        assert make.client.post("/api/orders", json=order, headers=admin).status_code == 422, language
    for default in ("xx", None, ""):
        patch = {"default_language": default}
        response = make.client.patch(f"/api/organizations/{orq}/identity", json=patch, headers=admin)
        assert response.status_code == 422, default
    assert make.snapshot() == before


def test_the_order_email_and_the_later_booking_reminder_speak_the_orders_language(
    make: Builders, mail: MailContext, smtp: SmtpServer, clock: FrozenClock
) -> None:
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    order = make.order(orq, quantity=2, mode="immediate", customer_email="buyer@example.com", language="es")
    send_due(mail)
    (message,) = smtp.inbox.messages
    assert subject(message) == "Tus entradas para Rijksmuseum"
    text = plain(message)
    assert text.startswith("Aquí tienes tus entradas para Rijksmuseum (2 entradas).")
    for ticket in order["tickets"]:
        assert f"Entrada {display(ticket['code'])} (lista para reservar)" in text
    assert "<html lang='es'>" in html(message)

    # The ticket was never booked: a week later the reminder to book goes in the order's language too.
    clock.advance(timedelta(days=7))
    assert queue_reminders(mail.sessions, now=clock.now()) == 2
    send_due(mail)
    assert [subject(m) for m in smtp.inbox.messages[1:]] == ["Reserva tu visita: Rijksmuseum"] * 2


def test_a_confirmation_says_today_for_a_visit_the_same_day_but_never_tomorrow(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")  # the pinned clock: Thursday 20 November, 09:00
    book(make, orq, make.slot(orq, day="2025-11-20", start="14:30", end="15:30"), language="es")
    book(make, orq, make.slot(orq, day="2025-11-21", start="14:30", end="15:30"), language="es")
    send_due(mail)
    today, tomorrow = smtp.inbox.messages
    assert "Fecha y hora: Hoy, jueves, 20 de noviembre de 2025, 14:30-15:30" in plain(today)
    # Read the next morning, "tomorrow" would send the visitor a day late: the date alone.
    assert "Fecha y hora: viernes, 21 de noviembre de 2025, 14:30-15:30" in plain(tomorrow)
