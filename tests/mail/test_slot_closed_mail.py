"""The e-mail to visitors whose slot was closed, through a real SMTP server."""

from __future__ import annotations

from admit.mail.sender import MailContext, send_due
from tests.builders import Builders
from tests.mail.conftest import SmtpServer


def test_visitors_of_a_closed_slot_get_their_own_link_to_choose_another_time(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum")
    slot = make.slot(orq, day="2025-11-21", start="14:30", end="15:30")
    bookings = {}
    for email in ("ann@example.com", "bob@example.org"):
        code = make.ticket(orq, "ACTIVATED")
        booked = make.reserve([code], slot, customer_email=email)
        bookings[email] = (code, booked.json()["reservations"][0]["reservation_id"])
    send_due(mail)
    smtp.inbox.messages.clear()  # the confirmations

    closed = make.client.patch(
        f"/api/reservation-slots/{slot}",
        json={"status": "CLOSED", "notify": True},
        headers=make.admin(orq).headers,
    )
    assert closed.json()["notified"] == 2
    assert send_due(mail).sent == 2

    by_recipient = {str(message["To"]): message for message in smtp.inbox.messages}
    assert set(by_recipient) == set(bookings)
    for email, (code, reservation_id) in bookings.items():
        message = by_recipient[email]
        assert (
            str(message["Subject"])
            .strip()
            .startswith("Please choose another time: your visit to Rijksmuseum")
        )
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        link = f"https://tickets.museum.example/reserve/{reservation_id}?lang=en"
        assert link in text and f"href='{link}'" in html
        assert "Friday, 21 November 2025, 14:30-15:30" in text
        assert "-".join(code[i : i + 4] for i in range(0, 20, 4)) in text  # still valid
        assert not [p for p in message.walk() if p.get_content_type() in ("image/png", "text/calendar")]


def test_a_visitor_who_moved_before_the_email_went_gets_none(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    slot, other = make.slot(orq), make.slot(orq, start="12:00", end="13:00")
    _, moved = make.reservation(orq, slot)
    make.reservation(orq, slot)
    send_due(mail)
    smtp.inbox.messages.clear()
    make.client.patch(
        f"/api/reservation-slots/{slot}",
        json={"status": "CLOSED", "notify": True},
        headers=make.admin(orq).headers,
    ).raise_for_status()
    make.client.put(f"/api/reservations/{moved}", json={"slot_id": other}).raise_for_status()
    report = send_due(mail)
    # The move's own update goes, and the other visitor's request to choose; the moved one's is skipped.
    assert (report.sent, report.skipped) == (2, 1)
    subjects = sorted(str(m["Subject"]).strip().split(":")[0] for m in smtp.inbox.messages)
    assert subjects == ["Changed", "Please choose another time"]
