"""What a visitor takes to the door: the QR code of the ticket and a calendar entry for the visit, and
the words for a visit's time that the e-mails, the printed ticket and the wallet pass share."""

from __future__ import annotations

import io
from datetime import date, datetime

import segno
from icalendar import Calendar, Event

from admit.db.models import ReservationSlot
from admit.domain.lifecycle import ReservationStatus
from admit.domain.venue_time import zone
from admit.i18n import N_, Translator, translator
from admit.security.codes import display
from admit.services.capacity import times
from admit.services.reservations import PartyView, ReservationView

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
    t = translator(reservation.language)
    description = [t._("Ticket %(code)s", code=display(reservation.ticket_code)), t._(SHOW)]
    return _calendar(
        [reservation],
        uid=f"{reservation.reservation_id}@admit",
        sequence=reservation.sequence,
        description=description,
        link=link,
        now=now,
        method=method,
        organizer=organizer,
        attendee=attendee,
    )


def party_calendar_ics(
    party: PartyView,
    *,
    link: str,
    now: datetime,
    method: str,
    organizer: str | None = None,
    attendee: str | None = None,
) -> bytes:
    """The one event of a party's visit: its live members (all of them once cancelled), from the first
    one's start to the last one's end.

    Its UID is the party's, so each invitation about the party supersedes the one before: its SEQUENCE
    grows with every move of a member (each raises that member's sequence) and every cancellation.
    """
    members = party.live or party.members
    t = translator(members[0].language)
    people = t.ngettext("%(num)d person", "%(num)d people", len(members))
    tickets = [t._("Ticket %(code)s", code=display(member.ticket_code)) for member in members]
    cancelled = sum(member.status is ReservationStatus.CANCELLED for member in party.members)
    return _calendar(
        members,
        uid=f"party-{party.party_id}@admit",
        sequence=sum(member.sequence for member in party.members) + cancelled,
        description=[people, *tickets, t._(SHOW_ALL)],
        link=link,
        now=now,
        method=method,
        organizer=organizer,
        attendee=attendee,
    )


SHOW = N_("Show the QR code at the entrance.")
SHOW_ALL = N_("Show the QR codes at the entrance.")


def _calendar(
    members: list[ReservationView],
    *,
    uid: str,
    sequence: int,
    description: list[str],
    link: str,
    now: datetime,
    method: str,
    organizer: str | None,
    attendee: str | None,
) -> bytes:
    first = members[0]
    tz = zone(first.timezone)
    spans = [times(member.slot) for member in members]
    t = translator(first.language)
    language = {"LANGUAGE": first.language}  # the text's language (RFC 5545 3.2.10)
    calendar = Calendar()
    calendar.add("prodid", "-//Admit//Timed entry//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", now)
    event.add("dtstart", min(span.starts_at for span in spans).replace(tzinfo=tz))
    event.add("dtend", max(span.ends_at for span in spans).replace(tzinfo=tz))
    event.add("summary", t._("Visit to %(venue)s", venue=first.venue), parameters=language)
    event.add("location", first.venue)
    event.add("description", "\n".join([*description, link]), parameters=language)
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
