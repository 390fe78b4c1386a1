"""Composing the e-mails: plain text and HTML, the QR code inline, the calendar invitation attached.

Each is written in its reader's language: the one the reservation (or order) was made in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from html import escape
from urllib.parse import urlencode

from admit import errors
from admit.confirmation import ZONE, calendar_ics, party_calendar_ics, qr_png, visit_when
from admit.domain.contact import ContactError, mail_address
from admit.domain.lifecycle import TicketStatus
from admit.domain.mail import MailKind
from admit.domain.text import one_line
from admit.domain.venue_time import local_now
from admit.i18n import N_, Translator, translator
from admit.security.codes import display
from admit.services.capacity import times
from admit.services.order_link import order_link
from admit.services.reservations import PartyView, ReservationView
from admit.ticket_pdf import PrintedTicket, ticket_pdf

SUBJECTS = {
    MailKind.CONFIRMATION: N_("Your visit to %(venue)s: %(when)s"),
    MailKind.UPDATE: N_("Changed: your visit to %(venue)s is now %(when)s"),
    MailKind.CANCELLATION: N_("Cancelled: your visit to %(venue)s on %(when)s"),
    MailKind.VISIT_REMINDER: N_("Tomorrow: your visit to %(venue)s, %(when)s"),
}
LEADS = {
    MailKind.CONFIRMATION: N_("Your visit is booked."),
    MailKind.UPDATE: N_("Your visit has moved. This replaces the earlier confirmation."),
    MailKind.CANCELLATION: N_("Your visit has been cancelled. The ticket can be booked for another time."),
    MailKind.VISIT_REMINDER: N_("See you tomorrow."),
}
# A reminder sent late (the sender was down) on the day itself must not say "tomorrow".
REMINDER_TODAY = (N_("Today: your visit to %(venue)s, %(when)s"), N_("See you today."))
ORDER_LINES = {
    TicketStatus.INACTIVE: N_("Ticket %(code)s (not activated yet)"),
    TicketStatus.ACTIVATED: N_("Ticket %(code)s (ready to book)"),
}
# The printable ticket goes with every message that gives a (new) time; a moved visit's QR code changes.
PRINTED = {MailKind.CONFIRMATION, MailKind.UPDATE}
# The invitation's METHOD: a new or changed event is a REQUEST, a cancelled one a CANCEL.
METHODS = {MailKind.CONFIRMATION: "REQUEST", MailKind.UPDATE: "REQUEST", MailKind.CANCELLATION: "CANCEL"}
# Where it helps to say "tomorrow" beside the date: messages read close to the visit. A confirmation may
# be read the day after it is sent, so it says "today" for a visit the same day (read later, the visit is
# over anyway) but never "tomorrow".
RELATIVE = {MailKind.VISIT_REMINDER}
PARTY_CANCELLED = N_("Your visit has been cancelled. The tickets can be booked for another time.")
SHOW_ONE = N_("Show the QR code at the entrance, or give the ticket code above.")
SHOW_ALL = N_("Show the QR codes at the entrance, or give the ticket codes above.")
# The link to the page where the visit is managed: its words, and the plain text's line with it.
MANAGE_ONE = (
    N_("View, move or cancel your reservation"),
    N_("View, move or cancel your reservation: %(link)s"),
)
MANAGE_ALL = (
    N_("View, move or cancel your group's visit"),
    N_("View, move or cancel your group's visit: %(link)s"),
)
# Translators: a ticket of a group whose members visit at different times, e.g.
# "ABCD-EFGH-JKLM-NPQR-STUV, Friday 21 November 2025, 14:30-15:30 (Europe/Amsterdam time)".
TICKET_AT = N_("%(code)s, %(when)s")
QR_ALT = N_("QR code for ticket %(code)s")


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
    party: PartyView | None = None,
) -> EmailMessage:
    """`qr_text` is what the QR code shows: the reservation's signed QR text (services.reservation_qr);
    `logo` the venue's, for the printed ticket; `party` the party it was booked in when it has other
    members, whose calendar entry the invitation then keeps up to date."""
    t = translator(reservation.language)
    link = page_link(sender, f"/reserve/{reservation.reservation_id}", t)
    printed = [PrintedTicket(reservation, qr_text, link)]
    return _visit_message(kind, printed, link=link, party=party, sender=sender, now=now, logo=logo)


def party_message(
    kind: MailKind,
    party: PartyView,
    members: list[tuple[ReservationView, str]],
    *,
    sender: Sender,
    now: datetime,
    logo: bytes | None = None,
) -> EmailMessage:
    """One message about several members of a party (each with its QR text), to the one who booked
    them: every QR code, one printout with a page each, the party's calendar entry."""
    t = translator(members[0][0].language)
    printed = [
        PrintedTicket(member, qr_text, page_link(sender, f"/reserve/{member.reservation_id}", t))
        for member, qr_text in members
    ]
    link = page_link(sender, f"/reserve/party/{party.party_id}", t)
    return _visit_message(kind, printed, link=link, party=party, sender=sender, now=now, logo=logo)


def _visit_message(
    kind: MailKind,
    tickets: list[PrintedTicket],
    *,
    link: str,
    party: PartyView | None,
    sender: Sender,
    now: datetime,
    logo: bytes | None,
) -> EmailMessage:
    """The message about one reservation, or about several members of a party together; `link` is
    the page where they are viewed, moved and cancelled."""
    members = [ticket.reservation for ticket in tickets]
    first = min(members, key=lambda member: times(member.slot).starts_at)
    t = translator(first.language)
    venue = one_line(first.venue)
    today = local_now(now, first.timezone).date()
    together = len(tickets) > 1
    when = visit_when(t, first.slot)  # in the subject: a reminder's says "Tomorrow:" itself
    subject, lead = t._(SUBJECTS[kind], venue=venue, when=when), t._(LEADS[kind])
    if together and kind is MailKind.CANCELLATION:
        lead = t._(PARTY_CANCELLED)
    if kind is MailKind.VISIT_REMINDER and first.slot.date == today:
        subject, lead = t._(REMINDER_TODAY[0], venue=venue, when=when), t._(REMINDER_TODAY[1])

    def zoned(member: ReservationView) -> str:
        relative = kind in RELATIVE or member.slot.date == today
        shown = visit_when(t, member.slot, today=today if relative else None)
        return f"{shown} ({t._(ZONE, zone=member.timezone)})"

    # Members of a party normally share a time; when they do not, each ticket says its own.
    shared = len({member.slot.id for member in members}) == 1
    codes = [display(member.ticket_code) for member in members]
    # (label, value) in the HTML table; the same as a whole sentence in the plain text.
    facts = [(t._("Venue"), venue, t._("Venue: %(venue)s", venue=venue))]
    if together:
        facts.append((t._("People"), str(len(members)), t._("People: %(num)d", num=len(members))))
    if shared:
        facts.append((t._("Date and time"), zoned(first), t._("Date and time: %(when)s", when=zoned(first))))
    for member, code in zip(members, codes, strict=True):
        ticket = code if shared else t._(TICKET_AT, code=code, when=zoned(member))
        facts.append((t._("Ticket"), ticket, t._("Ticket: %(code)s", code=ticket)))
    show_qr = kind is not MailKind.CANCELLATION
    show = t._(SHOW_ALL if together else SHOW_ONE) if show_qr else ""
    manage = t._(MANAGE_ALL[0] if together else MANAGE_ONE[0])
    message = _message(subject, sender, first.customer_email)
    lines = [
        lead,
        "",
        *(line for _, _, line in facts),
        "",
        show,
        t._(MANAGE_ALL[1] if together else MANAGE_ONE[1], link=link),
        "",
        "-- ",
        venue,
        *(first.venue_address or "").splitlines(),
    ]
    message.set_content("\n".join(lines))
    rows = "".join(
        f"<tr><th scope='row' align='left'>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value, _ in facts
    )
    cids = [make_msgid(domain="admit") for _ in tickets]
    images = "".join(
        f"<p><img src='cid:{cid[1:-1]}' alt='{escape(t._(QR_ALT, code=code))}' width='240' height='240'>"
        + (f"<br>{escape(code)}</p>" if together else "</p>")
        for cid, code in zip(cids, codes, strict=True)
    )
    message.add_alternative(
        f"<!doctype html><html{_lang(t)}><body><p>{escape(lead)}</p><table>{rows}</table>"
        f"{images if show_qr else ''}<p><a href='{escape(link)}'>{escape(manage)}</a></p>"
        f"{_venue_footer(venue, first.venue_address)}</body></html>",
        subtype="html",
    )
    if show_qr:
        html_part = message.get_body(("html",))
        assert html_part is not None
        for number, (cid, printed) in enumerate(zip(cids, tickets, strict=True), start=1):
            name = f"ticket-qr-{number}.png" if together else "ticket-qr.png"
            html_part.add_related(qr_png(printed.qr_text), "image", "png", cid=cid, filename=name)
    if kind in PRINTED:
        message.add_attachment(
            ticket_pdf(tickets, now=now, logo=logo),
            maintype="application",
            subtype="pdf",
            filename="tickets.pdf" if together else "ticket.pdf",
        )
    if kind in METHODS:
        address = {"organizer": sender.address, "attendee": first.customer_email}
        if party is None:
            method = METHODS[kind]
            invite = calendar_ics(first, link=link, now=now, method=method, **address)
        else:
            # A party's tickets share one calendar entry: any change to any of them re-issues it as it
            # is now, and it is cancelled only with the last of them.
            method = "REQUEST" if party.live else "CANCEL"
            party_link = page_link(sender, f"/reserve/party/{party.party_id}", t)
            invite = party_calendar_ics(party, link=party_link, now=now, method=method, **address)
        message.add_attachment(
            invite, maintype="text", subtype="calendar", params={"method": method}, filename="visit.ics"
        )
    return _in_language(message, t)


def _lang(t: Translator) -> str:
    """The HTML part's language attribute, so that a screen reader reads it in the right voice."""
    return f" lang='{t.language}'"


def page_link(sender: Sender, path: str, t: Translator, **query: str) -> str:
    """A link to one of the visitor's pages that opens in the message's language (and the page then
    remembers it), whatever language the device that opens it prefers."""
    return f"{sender.public_url.rstrip('/')}{path}?{urlencode({**query, 'lang': t.language})}"


def _venue_footer(venue: str, address: str | None) -> str:
    """The venue's name and address at the foot of the message, one line each."""
    lines = [venue, *(address or "").splitlines()]
    return "<hr><p>" + "<br>".join(escape(line) for line in lines) + "</p>"


def slot_closed_message(
    reservation: ReservationView, *, sender: Sender, party: tuple[str, list[ReservationView]] | None = None
) -> EmailMessage:
    """The venue closed the time of this visit: the ticket stays good, and its page offers another time.

    With `party` (its id and the members in the closed time, `reservation` the first), one message for
    them all, pointing to the party's page, where they move together."""
    t = translator(reservation.language)
    venue = one_line(reservation.venue)
    when = visit_when(t, reservation.slot)
    message = _message(
        t._("Please choose another time: your visit to %(venue)s on %(when)s", venue=venue, when=when),
        sender,
        reservation.customer_email,
    )
    lead = t._(
        "%(venue)s has had to close the time of your visit: %(when)s (%(zone)s).",
        venue=venue,
        when=when,
        zone=t._(ZONE, zone=reservation.timezone),
    )
    if party is None:
        link = page_link(sender, f"/reserve/{reservation.reservation_id}", t)
        still = t._(
            "Your ticket %(code)s is still valid. Choose another time on your reservation's page:",
            code=display(reservation.ticket_code),
        )
    else:
        party_id, members = party
        link = page_link(sender, f"/reserve/party/{party_id}", t)
        still = t._(
            "Your tickets %(codes)s are still valid. Choose another time for your group on its page:",
            codes=", ".join(display(member.ticket_code) for member in members),
        )
    message.set_content(f"{lead}\n\n{still}\n{link}\n")
    choose = t._("Choose another time")
    message.add_alternative(
        f"<!doctype html><html{_lang(t)}><body><p>{escape(lead)}</p><p>{escape(still)}</p>"
        f"<p><a href='{escape(link)}'>{escape(choose)}</a></p>"
        f"{_venue_footer(venue, reservation.venue_address)}</body></html>",
        subtype="html",
    )
    return _in_language(message, t)


def reserve_reminder(
    *, venue: str, ticket_code: str, recipient: str, sender: Sender, language: str
) -> EmailMessage:
    """For a ticket activated days ago and still not booked; in the language its order was made in."""
    t = translator(language)
    venue = one_line(venue)
    link = page_link(sender, "/reserve", t, code=ticket_code)
    message = _message(t._("Book your visit to %(venue)s", venue=venue), sender, recipient)
    active = t._(
        "Your ticket %(code)s for %(venue)s is active but has no date yet.",
        code=display(ticket_code),
        venue=venue,
    )
    here = t._("Choose a date and time here: %(link)s", link=link)
    message.set_content(f"{active}\n{here}\n")
    choose = t._("Choose a date and time")
    message.add_alternative(
        f"<!doctype html><html{_lang(t)}><body><p>{escape(active)}</p>"
        f"<p><a href='{escape(link)}'>{escape(choose)}</a></p></body></html>",
        subtype="html",
    )
    return _in_language(message, t)


def order_message(
    *,
    venue: str,
    tickets: list[tuple[str, TicketStatus]],
    order_token: str,
    recipient: str,
    sender: Sender,
    language: str,
) -> EmailMessage:
    """The buyer's tickets: the order link (book a time for them all at once), each code, how to
    activate a pre-made one, and where to book it alone; in the language the order was made in."""
    t = translator(language)
    venue = one_line(venue)
    # The order link as the API gives it, opening in the message's language as `page_link`s do.
    order = f"{order_link(sender.public_url, order_token)}&{urlencode({'lang': t.language})}"
    book_all = t._("Book a time for all your tickets")
    # The booking page opens with one ticket's code filled in: each ticket has its own link.
    listed = [
        (
            display(code),
            t._(ORDER_LINES.get(status, N_("Ticket %(code)s")), code=display(code)),
            page_link(sender, "/reserve", t, code=code),
        )
        for code, status in tickets
    ]
    inactive = any(status is TicketStatus.INACTIVE for _, status in tickets)
    subject = t.ngettext("Your ticket for %(venue)s", "Your tickets for %(venue)s", len(listed), venue=venue)
    message = _message(subject, sender, recipient)
    lead = t.ngettext(
        "Here is your ticket for %(venue)s (%(num)d ticket).",
        "Here are your tickets for %(venue)s (%(num)d tickets).",
        len(listed),
        venue=venue,
    )
    how = (
        t._(
            "Tickets marked 'not activated yet' are ready for when you (or the person you give one to) want "
            "to use them: open the ticket's link, activate it, then pick a date and time. Activation is "
            "permanent."
        )
        if inactive
        else t._("Open a ticket's link to pick the date and time of your visit.")
    )
    lines = [lead, "", t._("Book a time for all your tickets: %(link)s", link=order), "", how, ""]
    for _shown, line, link in listed:
        lines += [line, "  " + t._("Book: %(link)s", link=link)]
    lines += [
        "",
        t._("Keep this e-mail: the ticket code is your ticket. Show it or its QR code at the entrance."),
    ]
    message.set_content("\n".join(lines))
    items = "".join(
        f"<li>{escape(line)} <a href='{escape(link)}'>{escape(book)}</a></li>"
        for book, line, link in (
            (t._("Book a visit with ticket %(code)s", code=shown), line, link) for shown, line, link in listed
        )
    )
    keep = t._("Keep this e-mail: the ticket code is your ticket.")
    message.add_alternative(
        f"<!doctype html><html{_lang(t)}><body><p>{escape(lead)}</p>"
        f"<p><a href='{escape(order)}'><strong>{escape(book_all)}</strong></a></p>"
        f"<p>{escape(how)}</p><ul>{items}</ul>"
        f"<p>{escape(keep)}</p></body></html>",
        subtype="html",
    )
    return _in_language(message, t)


def _in_language(message: EmailMessage, t: Translator) -> EmailMessage:
    """The message's language (RFC 3282), set last: setting content or making a part multipart moves or
    clears a message's Content- headers."""
    message["Content-Language"] = t.language
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
