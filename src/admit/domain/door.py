"""The door's verdict: one pure function of the ticket, its reservation, the venue's now and the policy.

The same rules run online, in the offline scanner and in the tests; `tests/vectors/door.json` holds
the shared cases every implementation is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import StrEnum

from admit.domain.calendar import SlotTimes
from admit.domain.entry import entry_closed, entry_opens_at
from admit.domain.lifecycle import TicketStatus, effective_status
from admit.domain.policy import Policy, UnreservedEntry


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


def _red(code: str, title: str, message: str) -> Verdict:
    return Verdict(Result.RED, code, title, message)


INVALID = _red("INVALID_TICKET", "NOT A TICKET", "This code is not a ticket for this venue.")

# The verdicts that let a visitor in: a device that showed one of these and admitted has let someone in.
ENTRY_CODES = frozenset({"VALID", "NO_RESERVATION_ALLOWED"})


def decide(
    ticket: TicketFacts | None, slot: SlotTimes | None, *, now_local: datetime, policy: Policy
) -> Verdict:
    """The verdict for a scan. `ticket` is None for an unknown code or another organization's ticket;
    `slot` is the slot of the ticket's live reservation, if any; times are the venue's wall clock."""
    if ticket is None:
        return INVALID
    window = policy.entry_window
    status = effective_status(
        ticket.status,
        now_local=now_local,
        valid_until=ticket.valid_until,
        entry_closed=slot is not None and entry_closed(slot, window, now_local),
    )
    return replace(
        _decide_status(ticket, status, slot, now_local=now_local, policy=policy), ticket_status=status
    )


def _decide_status(
    ticket: TicketFacts, status: TicketStatus, slot: SlotTimes | None, *, now_local: datetime, policy: Policy
) -> Verdict:
    window = policy.entry_window
    match status:
        case TicketStatus.VERIFIED:
            return Verdict(
                Result.YELLOW,
                "ALREADY_VERIFIED",
                _verified_title(ticket, now_local.date()),
                _verified_message(ticket, now_local.date()),
                entry_allowed=False,
                can_verify=True,
            )
        case TicketStatus.VOID:
            return _red("VOID", "CANCELLED", "Ticket revoked")
        case TicketStatus.EXPIRED:
            return _red("EXPIRED", "EXPIRED", "Ticket expired")
        case TicketStatus.PENDING_PAYMENT:
            return _red("PAYMENT_PENDING", "NOT PAID", "Payment not completed")
        case TicketStatus.INACTIVE:
            return _red("NOT_ACTIVATED", "NOT ACTIVATED", "Ticket not activated")
        case TicketStatus.ACTIVATED:
            if policy.unreserved_entry is UnreservedEntry.ALLOW:
                return Verdict(
                    Result.YELLOW,
                    "NO_RESERVATION_ALLOWED",
                    "NOT BOOKED",
                    "No reservation - allowed",
                    entry_allowed=True,
                    can_verify=True,
                )
            return _red("NO_RESERVATION", "NOT BOOKED", "Customer must book a time slot first")
    # RESERVED, and its entry window has not closed yet.
    if slot is None:  # a reserved ticket always has its reservation; refuse rather than guess
        return INVALID
    today = now_local.date()
    if slot.date != today:
        return _red(
            "WRONG_DATE",
            f"{_day(slot.date, today).upper()} {_clock(slot.start_time)}",
            f"Reserved for {_day(slot.date, today, long=True)}, {_slot_hours(slot)}",
        )
    opens = entry_opens_at(slot, window)
    if now_local < opens:
        return _red(
            "TOO_EARLY",
            f"TOO EARLY — FROM {_clock(opens.time())}",
            f"Entry from {_clock(opens.time())} (slot {_slot_hours(slot)})",
        )
    return Verdict(
        Result.GREEN,
        "VALID",
        "VALID",
        f"Reserved for today, {_slot_hours(slot)}",
        entry_allowed=True,
        can_verify=True,
    )


def _verified_title(ticket: TicketFacts, today: date) -> str:
    """ALREADY IN — 08:51 BY JANE: when, and who let the visitor in (the first name, read from afar)."""
    at = ticket.verified_at_local
    if at is None:
        return "ALREADY IN"
    when = _clock(at.time()) if at.date() == today else _day(at.date(), today).upper()
    names = (ticket.verified_by or "").split()
    return f"ALREADY IN — {when}" + (f" BY {names[0].upper()}" if names else "")


def _verified_message(ticket: TicketFacts, today: date) -> str:
    at = ticket.verified_at_local
    if at is None:
        return "Already verified"
    when = f"Verified at {_clock(at.time())}"
    if at.date() != today:
        day = _day(at.date(), today, long=True)
        when = f"Verified {day if day in _RELATIVE.values() else 'on ' + day} at {_clock(at.time())}"
    return f"{when} by {ticket.verified_by}" if ticket.verified_by else when


# English names until the pages speak the visitor's language; the door's script has the same tables.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RELATIVE = {0: "today", 1: "tomorrow", -1: "yesterday"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day(day: date, today: date, *, long: bool = False) -> str:
    """A day as the door says it: "today", "tomorrow", "yesterday", else "Tue 1 Dec" (with the year,
    when `long`)."""
    relative = _RELATIVE.get((day - today).days)
    if relative is not None:
        return relative
    named = f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    return f"{named} {day.year}" if long else named


def _clock(moment: time) -> str:
    """09:30: one 24-hour clock on every page, e-mail and verdict."""
    return moment.strftime("%H:%M")


def _slot_hours(slot: SlotTimes) -> str:
    return f"{_clock(slot.start_time)}-{_clock(slot.end_time)}"
