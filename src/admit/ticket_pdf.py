"""The printable ticket: one A4 page per reservation with the venue, the time, the QR code and the code.

The QR code carries the same signed text as the reservation's page and e-mail, so the door (online or
offline) reads a printout exactly as it reads a phone's screen.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files

from fpdf import FPDF

from admit.confirmation import ZONE, qr_png, visit_times
from admit.domain.text import one_line
from admit.i18n import Translator, translator
from admit.security.codes import display
from admit.services.reservations import ReservationView

# A Unicode font of our own: the PDF's built-in fonts cover Latin-1 only, and venue names do not.
FONTS = files("admit") / "fonts"
QR_SIZE_MM = 80
LOGO_MM = 20


@dataclass(frozen=True)
class PrintedTicket:
    reservation: ReservationView
    qr_text: str  # the reservation's QR text (services.reservation_qr)
    link: str  # the reservation's own page


def ticket_pdf(tickets: list[PrintedTicket], *, now: datetime, logo: bytes | None = None) -> bytes:
    """One page per person of a party (a single reservation is a party of one), under the venue's
    logo (PNG or JPEG, as the venue uploaded it) when it has one; in the language it was booked in."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(auto=False)
    pdf.set_creation_date(now)  # the same reservation prints the same document
    pdf.set_creator("Admit")
    pdf.add_font("Sans", fname=str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("Sans", style="B", fname=str(FONTS / "DejaVuSans-Bold.ttf"))
    venue = one_line(tickets[0].reservation.venue) if tickets else ""
    t = translator(tickets[0].reservation.language if tickets else "en")
    pdf.set_lang(t.language)
    pdf.set_title(t._("Tickets for %(venue)s", venue=venue))
    for number, ticket in enumerate(tickets, start=1):
        _page(pdf, t, ticket, number=number, of=len(tickets), logo=logo)
    return bytes(pdf.output())


def _page(
    pdf: FPDF, t: Translator, ticket: PrintedTicket, *, number: int, of: int, logo: bytes | None
) -> None:
    reservation = ticket.reservation
    slot = reservation.slot
    width = pdf.epw
    pdf.add_page()
    if logo is not None:
        # Centred in a band LOGO_MM high across the page, its proportions kept.
        placed = pdf.image(io.BytesIO(logo), x=pdf.l_margin, w=width, h=LOGO_MM, keep_aspect_ratio=True)
        pdf.set_y(pdf.t_margin + placed.rendered_height + 4)
    pdf.set_font("Sans", style="B", size=24)
    pdf.multi_cell(width, 11, one_line(reservation.venue), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Sans", size=16)
    pdf.cell(width, 9, t.date(slot.date), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", style="B", size=20)
    pdf.cell(width, 10, visit_times(t, slot), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", size=10)
    pdf.cell(width, 6, t._(ZONE, zone=reservation.timezone), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", size=13)
    who = (
        t._("Admission for 1 person · ticket %(number)d of %(of)d", number=number, of=of)
        if of > 1
        else t._("Admission for 1 person")
    )
    pdf.multi_cell(width, 8, who, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    x = pdf.l_margin + (width - QR_SIZE_MM) / 2
    pdf.image(io.BytesIO(qr_png(ticket.qr_text)), x=x, y=pdf.get_y(), w=QR_SIZE_MM, h=QR_SIZE_MM)
    pdf.set_y(pdf.get_y() + QR_SIZE_MM + 4)
    pdf.set_font("Sans", size=10)
    pdf.cell(width, 6, t._("Ticket code"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", style="B", size=18)
    pdf.cell(width, 10, display(reservation.ticket_code), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Sans", size=11)
    pdf.multi_cell(
        width,
        6,
        t._(
            "Show the QR code at the entrance, on paper or on a screen, or give the ticket code. "
            "The code is the ticket: keep it to yourself."
        ),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font("Sans", size=9)
    change = t._("Change or cancel: %(link)s", link=ticket.link)
    pdf.multi_cell(width, 5, change, align="C", new_x="LMARGIN", new_y="NEXT")
