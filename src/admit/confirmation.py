"""What a visitor takes to the door: the QR code of the ticket and a calendar entry for the visit."""

from __future__ import annotations

import io
from datetime import datetime

import segno
from icalendar import Calendar, Event

from admit.domain.venue_time import zone
from admit.security.codes import display
from admit.services.capacity import times
from admit.services.reservations import ReservationView


def qr_png(text: str, *, scale: int = 8) -> bytes:
    """The QR code of `text`: a reservation's signed QR text, or a ticket code alone."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(text: str, *, code: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer, kind="svg", scale=8, border=4, xmldecl=False, title=f"Ticket {code}"
    )
    return buffer.getvalue()


def calendar_ics(
    reservation: ReservationView,
    *,
    link: str,
    now: datetime,
    method: str = "PUBLISH",
    organizer: str | None = None,
    attendee: str | None = None,
) -> bytes:
    """An RFC 5545 calendar with one event in the venue's time zone; its UID is stable per reservation.

    An invitation sent by e-mail (METHOD REQUEST or CANCEL) names its organizer and attendee (RFC 5546).
    """
    tz = zone(reservation.timezone)
    slot = times(reservation.slot)
    calendar = Calendar()
    calendar.add("prodid", "-//Admit//Timed entry//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"{reservation.reservation_id}@admit")
    event.add("sequence", reservation.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", slot.starts_at.replace(tzinfo=tz))
    event.add("dtend", slot.ends_at.replace(tzinfo=tz))
    event.add("summary", f"Visit to {reservation.venue}")
    event.add("location", reservation.venue)
    event.add(
        "description", f"Ticket {display(reservation.ticket_code)}\nShow the QR code at the entrance.\n{link}"
    )
    event.add("url", link)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if organizer:
        event.add("organizer", f"mailto:{organizer}")
    if attendee:
        event.add("attendee", f"mailto:{attendee}")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ics: bytes = calendar.to_ical()
    return ics
