"""Composing the e-mails: plain text and HTML, the QR code inline, the calendar invitation attached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from html import escape

from admit import errors
from admit.confirmation import calendar_ics, qr_png
from admit.domain.contact import ContactError, mail_address
from admit.domain.lifecycle import TicketStatus
from admit.domain.mail import MailKind
from admit.domain.text import one_line
from admit.security.codes import display
from admit.services.reservations import ReservationView
from admit.ticket_pdf import PrintedTicket, ticket_pdf

SUBJECTS = {
    MailKind.CONFIRMATION: "Your visit to {venue}: {when}",
    MailKind.UPDATE: "Changed: your visit to {venue} is now {when}",
    MailKind.CANCELLATION: "Cancelled: your visit to {venue} on {when}",
    MailKind.VISIT_REMINDER: "Tomorrow: your visit to {venue}, {when}",
}
LEADS = {
    MailKind.CONFIRMATION: "Your visit is booked.",
    MailKind.UPDATE: "Your visit has moved. This replaces the earlier confirmation.",
    MailKind.CANCELLATION: "Your visit has been cancelled. The ticket can be booked for another time.",
    MailKind.VISIT_REMINDER: "See you tomorrow.",
}
ORDER_STATES = {TicketStatus.INACTIVE: "not activated yet", TicketStatus.ACTIVATED: "ready to book"}
# The printable ticket goes with every message that gives a (new) time; a moved visit's QR code changes.
PRINTED = {MailKind.CONFIRMATION, MailKind.UPDATE}
# The invitation's METHOD: a new or changed event is a REQUEST, a cancelled one a CANCEL.
METHODS = {MailKind.CONFIRMATION: "REQUEST", MailKind.UPDATE: "REQUEST", MailKind.CANCELLATION: "CANCEL"}


@dataclass(frozen=True)
class Sender:
    mail_from: str
    public_url: str

    @property
    def address(self) -> str:
        return parseaddr(self.mail_from)[1]


def reservation_message(
    kind: MailKind,
    reservation: ReservationView,
    *,
    qr_text: str,
    sender: Sender,
    now: datetime,
    logo: bytes | None = None,
) -> EmailMessage:
    """`qr_text` is what the QR code shows: the reservation's signed QR text (services.reservation_qr);
    `logo` the venue's, for the printed ticket."""
    slot = reservation.slot
    venue = one_line(reservation.venue)
    when = f"{slot.date:%A %d %B %Y}, {slot.start_time:%H:%M}-{slot.end_time:%H:%M}"
    link = f"{sender.public_url.rstrip('/')}/reserve/{reservation.reservation_id}"
    code = display(reservation.ticket_code)
    message = _message(SUBJECTS[kind].format(venue=venue, when=when), sender, reservation.customer_email)
    show_qr = kind is not MailKind.CANCELLATION
    lines = [
        LEADS[kind],
        "",
        f"Venue: {venue}",
        f"Date and time: {when} ({reservation.timezone} time)",
        f"Ticket: {code}",
        "",
        "Show the QR code at the entrance, or give the ticket code above." if show_qr else "",
        f"View, move or cancel your reservation: {link}",
        "",
        "-- ",
        venue,
        *(reservation.venue_address or "").splitlines(),
    ]
    message.set_content("\n".join(lines))
    qr_cid = make_msgid(domain="admit")
    rows = "".join(
        f"<tr><th scope='row' align='left'>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in (
            ("Venue", venue),
            ("Date and time", f"{when} ({reservation.timezone} time)"),
            ("Ticket", code),
        )
    )
    qr_html = (
        f"<p><img src='cid:{qr_cid[1:-1]}' alt='QR code for ticket {escape(code)}' width='240' "
        "height='240'></p>"
        if show_qr
        else ""
    )
    message.add_alternative(
        f"<!doctype html><html><body><p>{escape(LEADS[kind])}</p><table>{rows}</table>{qr_html}"
        f"<p><a href='{escape(link)}'>View, move or cancel your reservation</a></p>"
        f"{_venue_footer(venue, reservation.venue_address)}</body></html>",
        subtype="html",
    )
    if show_qr:
        html_part = message.get_body(("html",))
        assert html_part is not None
        html_part.add_related(qr_png(qr_text), "image", "png", cid=qr_cid, filename="ticket-qr.png")
    if kind in PRINTED:
        printed = PrintedTicket(reservation, qr_text, link)
        message.add_attachment(
            ticket_pdf([printed], now=now, logo=logo),
            maintype="application",
            subtype="pdf",
            filename="ticket.pdf",
        )
    if kind in METHODS:
        method = METHODS[kind]
        invite = calendar_ics(
            reservation,
            link=link,
            now=now,
            method=method,
            organizer=sender.address,
            attendee=reservation.customer_email,
        )
        message.add_attachment(
            invite, maintype="text", subtype="calendar", params={"method": method}, filename="visit.ics"
        )
    return message


def _venue_footer(venue: str, address: str | None) -> str:
    """The venue's name and address at the foot of the message, one line each."""
    lines = [venue, *(address or "").splitlines()]
    return "<hr><p>" + "<br>".join(escape(line) for line in lines) + "</p>"


def slot_closed_message(reservation: ReservationView, *, sender: Sender) -> EmailMessage:
    """The venue closed the time of this visit: the ticket stays good, and its page offers another time."""
    slot = reservation.slot
    venue = one_line(reservation.venue)
    when = f"{slot.date:%A %d %B %Y}, {slot.start_time:%H:%M}-{slot.end_time:%H:%M}"
    link = f"{sender.public_url.rstrip('/')}/reserve/{reservation.reservation_id}"
    code = display(reservation.ticket_code)
    message = _message(
        f"Please choose another time: your visit to {venue} on {when}", sender, reservation.customer_email
    )
    lead = f"{venue} has had to close the time of your visit: {when} ({reservation.timezone} time)."
    still = f"Your ticket {code} is still valid. Choose another time on your reservation's page:"
    message.set_content(f"{lead}\n\n{still}\n{link}\n")
    message.add_alternative(
        f"<!doctype html><html><body><p>{escape(lead)}</p><p>{escape(still)}</p>"
        f"<p><a href='{escape(link)}'>Choose another time</a></p>"
        f"{_venue_footer(venue, reservation.venue_address)}</body></html>",
        subtype="html",
    )
    return message


def reserve_reminder(*, venue: str, ticket_code: str, recipient: str, sender: Sender) -> EmailMessage:
    """For a ticket activated days ago and still not booked."""
    venue = one_line(venue)
    link = f"{sender.public_url.rstrip('/')}/reserve?code={ticket_code}"
    message = _message(f"Book your visit to {venue}", sender, recipient)
    text = (
        f"Your ticket {display(ticket_code)} for {venue} is active but has no date yet.\n"
        f"Choose a date and time here: {link}\n"
    )
    message.set_content(text)
    message.add_alternative(
        f"<!doctype html><html><body><p>Your ticket <strong>{escape(display(ticket_code))}</strong> for "
        f"{escape(venue)} is active but has no date yet.</p>"
        f"<p><a href='{escape(link)}'>Choose a date and time</a></p></body></html>",
        subtype="html",
    )
    return message


def order_message(
    *, venue: str, tickets: list[tuple[str, TicketStatus]], recipient: str, sender: Sender
) -> EmailMessage:
    """The buyer's tickets: each code, how to activate a pre-made one, and where to book a visit."""
    venue = one_line(venue)
    base = f"{sender.public_url.rstrip('/')}/reserve"
    # The booking page opens with one ticket's code filled in: each ticket has its own link.
    listed = [(display(code), status, f"{base}?code={code}") for code, status in tickets]
    inactive = any(status is TicketStatus.INACTIVE for _, status, _ in listed)
    count = f"{len(listed)} tickets" if len(listed) != 1 else "1 ticket"
    message = _message(f"Your tickets for {venue}", sender, recipient)
    lead = f"Here are your tickets for {venue} ({count})."
    how = (
        "Tickets marked 'not activated yet' are ready for when you (or the person you give one to) want "
        "to use them: open the ticket's link, activate it, then pick a date and time. Activation is "
        "permanent."
        if inactive
        else "Open a ticket's link to pick the date and time of your visit."
    )
    lines = [lead, "", how, ""]
    for shown, status, link in listed:
        lines += [f"Ticket {shown} ({ORDER_STATES.get(status, status.value)})", f"  Book: {link}"]
    lines += ["", "Keep this e-mail: the ticket code is your ticket. Show it or its QR code at the entrance."]
    message.set_content("\n".join(lines))
    items = "".join(
        f"<li><strong>{escape(shown)}</strong> ({escape(ORDER_STATES.get(status, status.value))}) "
        f"<a href='{escape(link)}'>Book a visit with ticket {escape(shown)}</a></li>"
        for shown, status, link in listed
    )
    message.add_alternative(
        f"<!doctype html><html><body><p>{escape(lead)}</p><p>{escape(how)}</p><ul>{items}</ul>"
        "<p>Keep this e-mail: the ticket code is your ticket.</p></body></html>",
        subtype="html",
    )
    return message


def _message(subject: str, sender: Sender, recipient: str) -> EmailMessage:
    try:
        local_part, domain = mail_address(recipient)
    except ContactError as exc:
        raise errors.Undeliverable(f"the recipient address is not valid: {exc.reason}") from exc
    message = EmailMessage()
    message["Subject"] = one_line(subject)  # data in a header must never start a header of its own
    message["From"] = sender.mail_from
    message["To"] = Address(username=local_part, domain=domain)
    message["Message-ID"] = make_msgid(domain="admit")
    return message
