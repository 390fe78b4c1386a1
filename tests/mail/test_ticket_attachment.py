"""The printable ticket travels with the confirmation and with each update, never with a cancellation."""

from __future__ import annotations

from email.message import EmailMessage

from admit.mail.sender import MailContext, send_due
from admit.security.codes import display
from tests.builders import Builders
from tests.mail.conftest import SmtpServer
from tests.mail.test_mail import payload_bytes, qr_text
from tests.pdf import pdf_pages


def attached_pdfs(message: EmailMessage) -> list[bytes]:
    return [payload_bytes(p) for p in message.walk() if p.get_content_type() == "application/pdf"]


def test_the_confirmation_and_the_update_attach_the_ticket_with_the_messages_qr_and_a_cancel_none(
    make: Builders, mail: MailContext, smtp: SmtpServer
) -> None:
    orq = make.org("Rijksmuseum")
    code, reservation_id = make.reservation(orq, make.slot(orq, day="2025-11-24", start="10:00", end="11:00"))
    later = make.slot(orq, day="2025-11-25", start="16:00", end="17:00")
    send_due(mail)
    make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": later}).raise_for_status()
    send_due(mail)
    make.client.delete(f"/api/reservations/{reservation_id}").raise_for_status()
    send_due(mail)

    confirmation, update, cancellation = smtp.inbox.messages
    for message, when in ((confirmation, "Monday, 24 November 2025"), (update, "Tuesday, 25 November 2025")):
        (pdf,) = attached_pdfs(message)
        (part,) = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
        assert part.get_filename() == "ticket.pdf"
        ((text, qr),) = pdf_pages(pdf)
        assert "Rijksmuseum" in text and when in text and display(code) in text
        assert qr == qr_text(message)  # the printout and the e-mail's QR code are one
    assert attached_pdfs(cancellation) == []
