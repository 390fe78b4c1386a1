"""The buyer's order e-mail: one message per paid order, through the outbox and a real SMTP server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from sqlalchemy import select

from admit.clock import FrozenClock
from admit.db.models import OutboxMessage
from admit.domain.mail import MailKind
from admit.mail.reminders import queue_reminders
from admit.mail.sender import MailContext, send_due
from admit.security.codes import display
from tests.builders import Builders
from tests.mail.conftest import SmtpServer
from tests.mail.test_mail import outbox_count


def plain_text(smtp: SmtpServer) -> str:
    (message,) = smtp.inbox.messages
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_a_paid_order_sends_the_buyer_one_email_with_each_code_how_to_activate_and_where_to_book(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum")
    order = make.order(orq, quantity=3, mode="pre_made", customer_email="buyer@example.com")
    codes = [t["code"] for t in order["tickets"]]

    assert send_due(mail).sent == 1
    (message,) = smtp.inbox.messages
    assert message["To"] == "buyer@example.com"
    assert str(message["Subject"]) == "Your tickets for Rijksmuseum"
    text = plain_text(smtp)
    html = str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]
    assert "3 tickets" in text
    for code in codes:
        assert f"Ticket {display(code)} (not activated yet)" in text
        assert f"https://tickets.museum.example/reserve?code={code}" in text
        assert display(code) in html and f"/reserve?code={code}" in html
    assert "activate it, then pick a date and time" in text and "Activation is permanent" in text


def test_tickets_issued_active_are_sent_as_ready_to_book_without_the_activation_steps(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    (ticket,) = make.order(orq, mode="immediate", customer_email="buyer@example.com")["tickets"]
    send_due(mail)
    text = plain_text(smtp)
    assert f"Ticket {display(ticket['code'])} (ready to book)" in text
    assert "1 ticket)" in text and "activate" not in text.lower()


def test_payment_confirmation_sends_it_once_however_often_and_concurrently_it_is_confirmed(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    order = make.order(orq, quantity=2, paid=False, customer_email="buyer@example.com")
    assert send_due(mail).sent == 0  # nothing before the payment
    headers = make.admin(orq).headers
    url = f"/api/orders/{order['order_id']}/confirm-payment"

    def confirm(_: int) -> int:
        return make.client.post(url, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(confirm, range(3))) == [200, 200, 200]
    assert make.client.post(url, headers=headers).status_code == 200
    assert send_due(mail).sent == 1
    assert all(t["code"] in plain_text(smtp) for t in order["tickets"])


def test_no_email_is_queued_without_a_buyer_address_or_for_a_refused_order(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    make.order(orq, quantity=2)
    unpaid = make.order(orq, paid=False)
    make.client.post(f"/api/orders/{unpaid['order_id']}/confirm-payment", headers=make.admin(orq).headers)
    before = make.snapshot()
    refused = make.client.post(
        "/api/orders",
        json={
            "orq": orq,
            "quantity": 1,
            "activation_mode": "pre_made",
            "paid": True,
            "customer_email": "buyer@example.com",
            "valid_until": "2025-11-19",  # before today: refused
        },
        headers=make.admin(orq).headers,
    )
    assert refused.status_code == 422
    assert make.snapshot() == before
    assert outbox_count(make) == 0
    assert send_due(mail).sent == 0 and smtp.inbox.messages == []


def test_the_order_email_leaves_out_tickets_voided_before_it_was_sent(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    order = make.order(orq, quantity=2, customer_email="buyer@example.com")
    kept, voided = (t["code"] for t in order["tickets"])
    make.client.post(f"/api/tickets/{voided}/void", headers=make.admin(orq).headers).raise_for_status()
    send_due(mail)
    text = plain_text(smtp)
    assert display(kept) in text and display(voided) not in text and "1 ticket)" in text


def test_a_visit_booked_on_the_day_before_it_gets_no_tomorrow_reminder(
    make: Builders, mail: MailContext, clock: FrozenClock
) -> None:
    clock.set(datetime.fromisoformat("2025-11-19T20:00:00+01:00"))
    orq = make.org(timezone="Europe/Amsterdam")
    visit_day = make.slot(orq, day="2025-11-21")
    codes = [t["code"] for t in make.order(orq, quantity=3, mode="immediate")["tickets"]]
    booked = []
    for at, code in zip(("2025-11-19T23:59", "2025-11-20T00:01", "2025-11-20T18:00"), codes, strict=True):
        clock.set(datetime.fromisoformat(f"{at}:00+01:00"))  # the last two on the venue's day before
        response = make.reserve([code], visit_day)
        assert response.status_code == 201, response.text
        booked.append(response.json()["reservations"][0]["reservation_id"])

    assert queue_reminders(mail.sessions, now=clock.now()) == 1
    with make.context.sessions() as session, session.begin():
        reminded = session.scalars(
            select(OutboxMessage.reservation_id).where(OutboxMessage.kind == MailKind.VISIT_REMINDER)
        ).all()
    assert reminded == booked[:1]


def test_the_order_email_names_the_venue_as_visitors_know_it(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("rijks-internal-01")
    response = make.client.patch(
        f"/api/organizations/{orq}/identity",
        json={"display_name": "Rijksmuseum"},
        headers=make.admin(orq).headers,
    )
    assert response.status_code == 200
    make.order(orq, customer_email="buyer@example.com")
    assert send_due(mail).sent == 1
    (message,) = smtp.inbox.messages
    assert str(message["Subject"]) == "Your ticket for Rijksmuseum"
    assert "rijks-internal" not in plain_text(smtp)
