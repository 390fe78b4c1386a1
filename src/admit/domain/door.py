"""The door's verdict: one pure function of the ticket, its reservation, the venue's now and the policy.

The same rules run online, in the offline scanner and in the tests; `tests/vectors/door.json` holds
the shared cases every implementation is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import StrEnum

from babel.dates import format_skeleton, get_relative_name

from admit.domain.calendar import SlotTimes
from admit.domain.entry import entry_closed, entry_opens_at
from admit.domain.lifecycle import TicketStatus, effective_status
from admit.domain.policy import Policy, UnreservedEntry
from admit.i18n import N_, Translator, translator


class Result(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


@dataclass(frozen=True)
class TicketFacts:
    status: TicketStatus
    valid_until: date | None = None
    verified_at_local: datetime | None = None
    verified_by: str | None = None


@dataclass(frozen=True)
class Verdict:
    result: Result
    code: str
    title: str
    message: str
    entry_allowed: bool = False
    can_verify: bool = False
    ticket_status: TicketStatus | None = None  # as the door sees it: expiry applied


@dataclass(frozen=True)
class Party:
    """The visitor's party in the slot, as the door shows it: how many of them to expect in all, and
    how many are in already (this visitor too, once admitted)."""

    size: int
    admitted: int


def party_at_door(size: int, admitted: int, *, admitted_now: bool) -> Party | None:
    """The party of a scanned visitor: `size` live members booked together in its slot, `admitted` of
    them let in before this scan. None for someone booked alone: there is no one else to expect."""
    if size < 2:
        return None
    return Party(size, min(size, admitted + (1 if admitted_now else 0)))


def _red(code: str, title: str, message: str) -> Verdict:
    return Verdict(Result.RED, code, title, message)


# Translators: a verdict title at the door, shown in huge letters: keep it short and in capitals.
INVALID = _red("INVALID_TICKET", N_("NOT A TICKET"), N_("This code is not a ticket for this venue."))


# The verdicts that let a visitor in: a device that showed one of these and admitted has let someone in.
ENTRY_CODES = frozenset({"VALID", "NO_RESERVATION_ALLOWED"})


def decide(
    ticket: TicketFacts | None,
    slot: SlotTimes | None,
    *,
    now_local: datetime,
    policy: Policy,
    language: str = "en",
) -> Verdict:
    """The verdict for a scan. `ticket` is None for an unknown code or another organization's ticket;
    `slot` is the slot of the ticket's live reservation, if any; times are the venue's wall clock.
    The title and message are in `language` (the operator's); the result and code are the same in all."""
    words = translator(language)
    if ticket is None:
        return _invalid(words)
    window = policy.entry_window
    status = effective_status(
        ticket.status,
        now_local=now_local,
        valid_until=ticket.valid_until,
        entry_closed=slot is not None and entry_closed(slot, window, now_local),
    )
    return replace(
        _decide_status(ticket, status, slot, now_local=now_local, policy=policy, t=words),
        ticket_status=status,
    )


def _invalid(words: Translator) -> Verdict:
    return replace(INVALID, title=words._(INVALID.title), message=words._(INVALID.message))


def _decide_status(
    ticket: TicketFacts,
    status: TicketStatus,
    slot: SlotTimes | None,
    *,
    now_local: datetime,
    policy: Policy,
    t: Translator,
) -> Verdict:
    window = policy.entry_window
    today = now_local.date()
    # The titles, in capitals, are read from afar: in huge letters, short, in every language.
    match status:
        case TicketStatus.VERIFIED:
            return Verdict(
                Result.YELLOW,
                "ALREADY_VERIFIED",
                _verified_title(ticket, today, t),
                _verified_message(ticket, today, t),
                entry_allowed=False,
                can_verify=True,
            )
        case TicketStatus.VOID:
            return _red("VOID", t._("CANCELLED"), t._("Ticket revoked"))
        case TicketStatus.EXPIRED:
            return _red("EXPIRED", t._("EXPIRED"), t._("Ticket expired"))
        case TicketStatus.PENDING_PAYMENT:
            return _red("PAYMENT_PENDING", t._("NOT PAID"), t._("Payment not completed"))
        case TicketStatus.INACTIVE:
            return _red("NOT_ACTIVATED", t._("NOT ACTIVATED"), t._("Ticket not activated"))
        case TicketStatus.ACTIVATED:
            if policy.unreserved_entry is UnreservedEntry.ALLOW:
                return Verdict(
                    Result.YELLOW,
                    "NO_RESERVATION_ALLOWED",
                    t._("NOT BOOKED"),
                    t._("No reservation - allowed"),
                    entry_allowed=True,
                    can_verify=True,
                )
            return _red("NO_RESERVATION", t._("NOT BOOKED"), t._("Customer must book a time slot first"))
    # RESERVED, and its entry window has not closed yet.
    if slot is None:  # a reserved ticket always has its reservation; refuse rather than guess
        return _invalid(t)
    hours = _slot_hours(slot)
    if slot.date != today:
        relative = _relative_day(slot.date, today, t)
        message = (
            t._("Reserved for %(day)s, %(hours)s", day=relative, hours=hours)
            if relative
            # Translators: %(date)s is a day as in "Tue, 1 Dec 2026".
            else t._("Reserved for %(date)s, %(hours)s", date=_long_day(slot.date, t), hours=hours)
        )
        # Translators: a verdict title: the day the visit is booked for ("TOMORROW", "TUE 1 DEC") and
        # its start time. Change the order only if your language needs it.
        title = t._("%(day)s %(time)s", day=_day_title(slot.date, today, t), time=_clock(slot.start_time))
        return _red("WRONG_DATE", title, message)
    opens = entry_opens_at(slot, window)
    if now_local < opens:
        return _red(
            "TOO_EARLY",
            t._("TOO EARLY — FROM %(time)s", time=_clock(opens.time())),
            t._("Entry from %(time)s (slot %(hours)s)", time=_clock(opens.time()), hours=hours),
        )
    return Verdict(
        Result.GREEN,
        "VALID",
        t._("VALID"),
        t._("Reserved for today, %(hours)s", hours=hours),
        entry_allowed=True,
        can_verify=True,
    )


def _verified_title(ticket: TicketFacts, today: date, t: Translator) -> str:
    """ALREADY IN — 08:51 BY JANE: when, and who let the visitor in (the first name, read from afar)."""
    at = ticket.verified_at_local
    if at is None:
        return t._("ALREADY IN")
    when = _clock(at.time()) if at.date() == today else _day_title(at.date(), today, t)
    names = (ticket.verified_by or "").split()
    if names:
        # Translators: a verdict title: %(when)s is a time ("08:51"), a day ("YESTERDAY", "MON 30
        # NOV"); %(name)s the first name of the operator who let the visitor in.
        return t._("ALREADY IN — %(when)s BY %(name)s", when=when, name=names[0].upper())
    return t._("ALREADY IN — %(when)s", when=when)


def _verified_message(ticket: TicketFacts, today: date, t: Translator) -> str:
    at = ticket.verified_at_local
    if at is None:
        return t._("Already verified")
    by, time_ = ticket.verified_by, _clock(at.time())
    if at.date() == today:
        if by:
            return t._("Verified at %(time)s by %(name)s", time=time_, name=by)
        return t._("Verified at %(time)s", time=time_)
    relative = _relative_day(at.date(), today, t)
    if relative:
        # Translators: %(day)s is "yesterday" or "tomorrow" in your language.
        if by:
            return t._("Verified %(day)s at %(time)s by %(name)s", day=relative, time=time_, name=by)
        return t._("Verified %(day)s at %(time)s", day=relative, time=time_)
    long = _long_day(at.date(), t)
    if by:
        return t._("Verified on %(date)s at %(time)s by %(name)s", date=long, time=time_, name=by)
    return t._("Verified on %(date)s at %(time)s", date=long, time=time_)


# Days as the language says them, from CLDR (Babel here, the browser's Intl in the door's script, which
# read the same data): "tomorrow", "morgen", "demain"; "Tue 1 Dec", "di 1 dec", "mar. 1 déc.".
_RELATIVE_DAYS = (-1, 0, 1)


def _relative_day(day: date, today: date, t: Translator) -> str | None:
    """ "yesterday", "today", "tomorrow" in the language, else None."""
    offset = (day - today).days
    if offset not in _RELATIVE_DAYS:
        return None
    return get_relative_name("day", offset, locale=t.locale)


def _day_title(day: date, today: date, t: Translator) -> str:
    """A day in a verdict title: "TOMORROW", else "TUE 1 DEC"."""
    return (_relative_day(day, today, t) or format_skeleton("MMMEd", day, locale=t.locale)).upper()


def _long_day(day: date, t: Translator) -> str:
    return format_skeleton("yMMMEd", day, locale=t.locale)


def _clock(moment: time) -> str:
    """09:30: one 24-hour clock on every page, e-mail and verdict."""
    return moment.strftime("%H:%M")


def _slot_hours(slot: SlotTimes) -> str:
    return f"{_clock(slot.start_time)}-{_clock(slot.end_time)}"
