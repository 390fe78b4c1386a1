"""Confirmation e-mails through a real SMTP server: content, updates, cancellations, retries, reminders."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import func, select

from admit.clock import FrozenClock
from admit.context import AppContext
from admit.db.models import OutboxMessage
from admit.domain.offline import parse_qr
from admit.domain.roles import Role
from admit.errors import DomainError
from admit.mail.reminders import queue_reminders
from admit.mail.sender import MailContext, send_due
from admit.services.reservations import Contact, reserve
from tests.builders import Builders
from tests.mail.conftest import SmtpServer
from tests.qr import read_qr


def calendar_of(message: EmailMessage) -> tuple[str, icalendar.Calendar]:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    return str(part.get_param("method")), icalendar.Calendar.from_ical(payload_bytes(part))


def payload_bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


def qr_text(message: EmailMessage) -> str:
    (image,) = [p for p in message.walk() if p.get_content_type() == "image/png"]
    return read_qr(payload_bytes(image))


def qr_code_of(message: EmailMessage) -> str:
    """The ticket code in the e-mail's QR code, which carries it with the organization's signed claim."""
    return parse_qr(qr_text(message)).code


def outbox_count(make: Builders) -> int:
    with make.context.sessions() as session, session.begin():
        return session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_the_confirmation_arrives_with_a_scannable_qr_the_code_and_a_local_time_invite(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum", "Europe/Amsterdam")
    code, reservation_id = make.reservation(orq, make.slot(orq, day="2025-11-21", start="14:30", end="15:30"))
    report = send_due(mail)
    assert report.sent == 1
    (message,) = smtp.inbox.messages
    assert message["To"] == "visitor@example.com"
    assert "Rijksmuseum" in message["Subject"] and "14:30" in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    grouped = "-".join(code[i : i + 4] for i in range(0, 20, 4))
    assert grouped in text and grouped in html  # for manual entry at the door
    assert f"https://tickets.museum.example/reserve/{reservation_id}" in text
    assert "Friday, 21 November 2025, 14:30-15:30" in text
    signed = parse_qr(qr_text(message))
    assert signed.code == code
    assert (signed.claim.day.isoformat(), f"{signed.claim.start:%H:%M}", f"{signed.claim.end:%H:%M}") == (
        "2025-11-21",
        "14:30",
        "15:30",
    )
    # The same text the reservation's page shows and the API gives as `qr_payload`.
    assert qr_text(message) == make.client.get(f"/api/reservations/{reservation_id}").json()["qr_payload"]

    method, calendar = calendar_of(message)
    assert method == "REQUEST" and str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2025, 11, 21, 14, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert str(event["UID"]) == f"{reservation_id}@admit"
    assert int(str(event["SEQUENCE"])) == 0
    assert str(event["ATTENDEE"]) == "mailto:visitor@example.com"


def test_a_move_sends_an_update_with_the_same_uid_and_a_higher_sequence_and_a_cancel_cancels(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    first, second = (
        make.slot(orq, day="2025-11-24"),
        make.slot(orq, day="2025-11-25", start="16:00", end="17:00"),
    )
    _, reservation_id = make.reservation(orq, first)
    send_due(mail)
    make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": second}).raise_for_status()
    send_due(mail)
    make.client.delete(f"/api/reservations/{reservation_id}").raise_for_status()
    send_due(mail)

    confirmation, update, cancellation = smtp.inbox.messages
    uids, sequences = [], []
    for message, expected_method in (
        (confirmation, "REQUEST"),
        (update, "REQUEST"),
        (cancellation, "CANCEL"),
    ):
        method, calendar = calendar_of(message)
        assert method == expected_method == str(calendar["METHOD"])
        (event,) = calendar.walk("VEVENT")
        uids.append(str(event["UID"]))
        sequences.append(int(str(event["SEQUENCE"])))
    assert len(set(uids)) == 1
    assert sequences[1] > sequences[0] and sequences[2] >= sequences[1]
    (event,) = calendar_of(update)[1].walk("VEVENT")
    assert event.decoded("DTSTART").hour == 16
    assert str(update["Subject"]).strip().startswith("Changed:")
    assert str(cancellation["Subject"]).strip().startswith("Cancelled:")
    assert not [
        p for p in cancellation.walk() if p.get_content_type() == "image/png"
    ]  # no QR for a cancelled visit


def test_while_the_mail_server_is_down_the_message_waits_and_is_delivered_once_after(
    make: Builders, mail: MailContext, smtp: SmtpServer, clock: FrozenClock
) -> None:
    orq = make.org()
    make.reservation(orq, make.slot(orq))
    smtp.stop()
    down = send_due(mail)
    assert (down.sent, down.retrying) == (0, 1)
    assert send_due(mail).sent == 0  # not due again before its back-off
    smtp.start()
    clock.advance(timedelta(minutes=1))
    assert send_due(mail).sent == 1
    clock.advance(timedelta(hours=2))
    assert send_due(mail).sent == 0
    assert len(smtp.inbox.messages) == 1


def test_a_message_that_keeps_failing_is_given_up_and_a_manager_sends_it_again(
    make: Builders, mail: MailContext, smtp: SmtpServer, clock: FrozenClock
) -> None:
    orq = make.org()
    make.reservation(orq, make.slot(orq, day="2025-12-20"))
    smtp.stop()
    for _ in range(8):
        send_due(mail)
        clock.advance(timedelta(hours=1, minutes=1))
    manager = make.staff(orq, Role.MANAGER)
    failed = make.client.get("/api/mail/outbox", params={"status": "FAILED"}, headers=manager.headers).json()
    (message,) = failed["messages"]
    assert message["attempts"] == 8 and "Error" in message["last_error"]
    smtp.start()
    retried = make.client.post(f"/api/mail/outbox/{message['id']}/retry", headers=manager.headers)
    assert retried.json()["status"] == "PENDING"
    assert send_due(mail).sent == 1
    assert len(smtp.inbox.messages) == 1
    again = make.client.post(f"/api/mail/outbox/{message['id']}/retry", headers=manager.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "MESSAGE_NOT_FAILED")


def test_two_senders_at_once_deliver_every_message_exactly_once(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=50)
    for _ in range(30):  # booked one at a time: a message each
        make.reserve([make.ticket(orq, "ACTIVATED")], slot).raise_for_status()
    barrier = threading.Barrier(2)
    reports = []

    def sender() -> None:
        barrier.wait()
        reports.append(send_due(mail, batch=3))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent for r in reports) == 30
    codes = [qr_code_of(m) for m in smtp.inbox.messages]
    assert len(codes) == len(set(codes)) == 30


def test_a_reservation_that_rolls_back_sends_no_email(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=2)
    refused = make.reserve([make.ticket(orq, "ACTIVATED") for _ in range(3)], slot)
    assert refused.json()["error"]["code"] == "SLOT_FULL"
    not_activated = make.reserve([make.ticket(orq, "ACTIVATED"), make.ticket(orq, "INACTIVE")], slot)
    assert not_activated.json()["error"]["code"] == "NOT_ACTIVATED"
    assert outbox_count(make) == 0
    assert send_due(mail).sent == 0
    assert smtp.inbox.messages == []


def test_of_many_racing_bookings_only_the_committed_ones_send_email(
    make: Builders, mail: MailContext, smtp: SmtpServer, standalone_context: AppContext
) -> None:
    """Bookings that lose the race for the last places roll back after queueing their e-mail."""
    orq = make.org()
    slot = make.slot(orq, capacity=3)
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(12)]
    barrier = threading.Barrier(len(codes))
    contact = Contact("visitor@example.com", "+31201234567")

    def book(code: str) -> str:
        with standalone_context.sessions() as session:
            barrier.wait()
            try:
                reserve(
                    session,
                    ticket_codes=[code],
                    slot_id=slot,
                    contact=contact,
                    keys=standalone_context.keys,
                    now=standalone_context.clock.now(),
                )
            except DomainError as refused:
                return refused.code
            return "RESERVED"

    with ThreadPoolExecutor(max_workers=len(codes)) as pool:
        outcomes = list(pool.map(book, codes))
    assert outcomes.count("RESERVED") == 3
    assert send_due(mail).sent == 3
    assert sorted(qr_code_of(m) for m in smtp.inbox.messages) == sorted(
        code for code, outcome in zip(codes, outcomes, strict=True) if outcome == "RESERVED"
    )


def test_reminders_go_once_the_day_before_a_visit_and_days_after_an_unreserved_activation(
    make: Builders, mail: MailContext, smtp: SmtpServer, clock: FrozenClock
) -> None:
    orq = make.org()
    make.reservation(orq, make.slot(orq, day="2025-11-23"))
    unreserved = make.order(orq, mode="immediate", customer_email="holder@example.com")["tickets"][0]["code"]
    send_due(mail)  # the confirmation
    smtp.inbox.messages.clear()

    assert queue_reminders(mail.sessions, now=clock.now()) == 0  # the visit is in three days
    clock.advance(timedelta(days=2))  # 22 Nov: the visit is tomorrow
    assert queue_reminders(mail.sessions, now=clock.now()) == 1
    assert queue_reminders(mail.sessions, now=clock.now()) == 0  # once
    send_due(mail)
    clock.advance(timedelta(days=5))  # a week after activation
    assert queue_reminders(mail.sessions, now=clock.now()) == 1
    assert queue_reminders(mail.sessions, now=clock.now()) == 0
    send_due(mail)
    visit, book = smtp.inbox.messages
    assert str(visit["Subject"]).strip().startswith("Tomorrow:")
    assert book["To"] == "holder@example.com"
    assert f"/reserve?code={unreserved}" in book.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_the_confirmation_names_the_venue_as_visitors_know_it_with_its_address(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("rijks-internal-01", "Europe/Amsterdam")
    identity = {"display_name": "Rijksmuseum", "address": "Museumstraat 1\n1071 XX Amsterdam"}
    response = make.client.patch(
        f"/api/organizations/{orq}/identity", json=identity, headers=make.admin(orq).headers
    )
    assert response.status_code == 200
    make.reservation(orq, make.slot(orq))
    assert send_due(mail).sent == 1
    (message,) = smtp.inbox.messages
    assert "Rijksmuseum" in message["Subject"] and "rijks-internal" not in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert text.replace("\r\n", "\n").rstrip().endswith("-- \nRijksmuseum\nMuseumstraat 1\n1071 XX Amsterdam")
    assert "Rijksmuseum<br>Museumstraat 1<br>1071 XX Amsterdam" in html
