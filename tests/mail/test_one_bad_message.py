"""One message that cannot be composed or sent is counted, backed off or given up on its own row,
and every other message still goes out."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import select

from admit.clock import FrozenClock
from admit.context import AppContext
from admit.db.models import OutboxMessage, Ticket
from admit.domain.lifecycle import TicketStatus
from admit.domain.mail import MailKind, MailStatus
from admit.mail.sender import MailContext, send_due
from admit.mail.transport import FolderTransport
from admit.outbox.writer import enqueue_rows, message_row
from tests.builders import Builders
from tests.mail.conftest import SmtpServer, mail_context

NO_SMTPUTF8 = "the mail server does not accept internationalised addresses (SMTPUTF8)"


def outbox_rows(make: Builders) -> dict[str, OutboxMessage]:
    """The outbox by recipient (one message each in these tests)."""
    with make.context.sessions() as session, session.begin():
        return {row.recipient: row for row in session.scalars(select(OutboxMessage))}


def book(make: Builders, orq: int, slot: int, email: str) -> None:
    response = make.reserve([make.ticket(orq, "ACTIVATED")], slot, customer_email=email)
    assert response.status_code == 201, response.text


def test_a_message_that_cannot_be_composed_or_sent_is_held_back_alone_and_the_others_go_out(
    make: Builders, context: AppContext, smtp_ascii_only: SmtpServer, clock: FrozenClock
) -> None:
    mail = mail_context(context, smtp_ascii_only.port)
    troubled = make.org("Troubled Museum")
    book(make, troubled, make.slot(troubled), "josé@example.com")  # the booking form accepts it
    make.order(troubled, mode="immediate")  # no buyer address: no order e-mail of its own
    with context.sessions() as session, session.begin():  # a reminder whose ticket code cannot be read
        ticket = session.scalars(
            select(Ticket).where(Ticket.orq == troubled, Ticket.status == TicketStatus.ACTIVATED)
        ).one()
        ticket.code_sealed = "sealed-with-a-key-long-gone"
        row = message_row(
            orq=troubled,
            kind=MailKind.RESERVE_REMINDER,
            recipient="lost@example.com",
            now=clock.now(),
            ticket_id=ticket.id,
        )
        enqueue_rows(session, [row])
    fine = make.org("Fine Gallery")
    fine_slot = make.slot(fine)
    for n in range(3):
        book(make, fine, fine_slot, f"guest{n}@example.com")

    report = send_due(mail, batch=2)  # the bad ones share the first batch
    assert (report.sent, report.gave_up, report.retrying) == (3, 1, 1)
    delivered = sorted(str(m["To"]) for m in smtp_ascii_only.inbox.messages)
    assert delivered == ["guest0@example.com", "guest1@example.com", "guest2@example.com"]
    rows = outbox_rows(make)
    international, lost = rows["josé@example.com"], rows["lost@example.com"]
    assert (international.status, international.attempts) == (MailStatus.FAILED, 1)
    assert international.last_error == NO_SMTPUTF8
    assert (lost.status, lost.attempts) == (MailStatus.PENDING, 1)
    assert lost.last_error is not None and lost.last_error.startswith("could not compose")
    assert lost.next_attempt_at == clock.now() + timedelta(seconds=30)

    for _ in range(7):  # backed off like any other failure, then given up
        clock.advance(timedelta(hours=1, minutes=1))
        send_due(mail)
    lost = outbox_rows(make)["lost@example.com"]
    assert (lost.status, lost.attempts) == (MailStatus.FAILED, 8)
    assert len(smtp_ascii_only.inbox.messages) == 3


def test_a_recipient_refused_for_good_is_given_up_at_once_and_a_busy_one_is_retried(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    smtp.inbox.refuse = {
        "gone@example.com": "550 5.1.1 No such user here",
        "busy@example.com": "450 4.2.1 Mailbox busy, try later",
    }
    orq = make.org()
    slot = make.slot(orq)
    for email in ("gone@example.com", "busy@example.com", "visitor@example.com"):
        book(make, orq, slot, email)

    report = send_due(mail)
    assert (report.sent, report.gave_up, report.retrying) == (1, 1, 1)
    rows = outbox_rows(make)
    gone, busy = rows["gone@example.com"], rows["busy@example.com"]
    assert gone.status is MailStatus.FAILED
    assert gone.last_error == "the mail server refused the recipient: 550 5.1.1 No such user here"
    assert busy.status is MailStatus.PENDING and "450" in (busy.last_error or "")
    assert [str(m["To"]) for m in smtp.inbox.messages] == ["visitor@example.com"]


def test_internationalised_addresses_go_with_smtputf8_when_the_server_offers_it(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=20)
    accepted = ["josé@example.com", "用户@例子.广告", "jose@exämple.com", "o'brien+visit@example.ie"]
    for email in accepted:
        book(make, orq, slot, email)

    assert send_due(mail).sent == len(accepted)
    inbox = smtp.inbox
    received = {str(m["To"]): opts for m, opts in zip(inbox.messages, inbox.mail_options, strict=True)}
    # The domain travels in its ASCII form; only a non-ASCII local part needs SMTPUTF8.
    assert received.keys() == {
        "josé@example.com",
        "用户@xn--fsqu00a.xn--4rr70v",
        "jose@xn--exmple-cua.com",
        "o'brien+visit@example.ie",
    }
    assert "SMTPUTF8" in received["josé@example.com"]
    assert "SMTPUTF8" in received["用户@xn--fsqu00a.xn--4rr70v"]
    assert "SMTPUTF8" not in received["jose@xn--exmple-cua.com"]


def test_a_unicode_domain_with_an_ascii_local_part_reaches_a_server_without_smtputf8(
    make: Builders, context: AppContext, smtp_ascii_only: SmtpServer
) -> None:
    orq = make.org()
    book(make, orq, make.slot(orq), "jose@exämple.com")
    assert send_due(mail_context(context, smtp_ascii_only.port)).sent == 1
    (message,) = smtp_ascii_only.inbox.messages
    assert str(message["To"]) == "jose@xn--exmple-cua.com"


def test_the_mail_folder_keeps_internationalised_messages_too(
    make: Builders, mail: MailContext, tmp_path: Path
) -> None:
    folder = tmp_path / "outbox"
    to_folder = MailContext(
        mail.sessions, mail.clock, mail.keys, FolderTransport(folder), mail.sender, mail.offline
    )
    orq = make.org()
    book(make, orq, make.slot(orq), "josé@example.com")
    assert send_due(to_folder).sent == 1
    (eml,) = folder.glob("*.eml")
    raw = eml.read_bytes()
    assert "To: josé@example.com".encode() in raw  # UTF-8 as RFC 6532 has it, not an encoded word
    assert str(message_from_bytes(raw, policy=policy.default)["To"]) == "josé@example.com"
