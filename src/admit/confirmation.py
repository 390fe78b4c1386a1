"""What a visitor takes to the door: the QR code of the ticket and a calendar entry for the visit, and
the words for a visit's time that the e-mails, the printed ticket and the wallet pass share."""

from __future__ import annotations

import io
from datetime import date, datetime

import segno
from icalendar import Calendar, Event

from admit.db.models import ReservationSlot
from admit.domain.venue_time import zone
from admit.i18n import N_, Translator, translator
from admit.security.codes import display
from admit.services.capacity import times
from admit.services.reservations import ReservationView

# Translators: a visit's time, e.g. "14:30-15:30".
TIME_RANGE = N_("%(start)s-%(end)s")
# Translators: a visit's date and time, e.g. "Friday 21 November 2025, 14:30-15:30".
WHEN = N_("%(date)s, %(times)s")
# Translators: the time zone a visit's times are in, e.g. "Europe/Amsterdam time".
ZONE = N_("%(zone)s time")
RELATIVE = {
    # Translators: a visit today, e.g. "Today, Friday 21 November 2025, 14:30-15:30".
    0: N_("Today, %(when)s"),
    # Translators: as "Today, %(when)s", for a visit tomorrow.
    1: N_("Tomorrow, %(when)s"),
}


def visit_times(t: Translator, slot: ReservationSlot) -> str:
    return t._(TIME_RANGE, start=t.time(slot.start_time), end=t.time(slot.end_time))


def visit_when(t: Translator, slot: ReservationSlot, *, today: date | None = None) -> str:
    """The full date and times, in the translator's language; "Today, …" or "Tomorrow, …" in front when
    `today` (the venue's) is given and the visit is that close. The date is always there: a message is
    often read a day after it was written."""
    when = t._(WHEN, date=t.date(slot.date), times=visit_times(t, slot))
    relative = RELATIVE.get((slot.date - today).days) if today is not None else None
    return t._(relative, when=when) if relative else when


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
    t = translator(reservation.language)
    language = {"LANGUAGE": reservation.language}  # the text's language (RFC 5545 3.2.10)
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
    event.add("summary", t._("Visit to %(venue)s", venue=reservation.venue), parameters=language)
    event.add("location", reservation.venue)
    description = [
        t._("Ticket %(code)s", code=display(reservation.ticket_code)),
        t._("Show the QR code at the entrance."),
        link,
    ]
    event.add("description", "\n".join(description), parameters=language)
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
