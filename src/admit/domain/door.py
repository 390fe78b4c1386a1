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


INVALID = _red("INVALID_TICKET", "INVALID TICKET", "This code is not a ticket for this venue.")

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
                "ALREADY VERIFIED",
                _verified_message(ticket, now_local.date()),
                entry_allowed=False,
                can_verify=True,
            )
        case TicketStatus.VOID:
            return _red("VOID", "TICKET REVOKED", "Ticket revoked")
        case TicketStatus.EXPIRED:
            return _red("EXPIRED", "TICKET EXPIRED", "Ticket expired")
        case TicketStatus.PENDING_PAYMENT:
            return _red("PAYMENT_PENDING", "PAYMENT PENDING", "Payment not completed")
        case TicketStatus.INACTIVE:
            return _red("NOT_ACTIVATED", "NOT ACTIVATED", "Ticket not activated")
        case TicketStatus.ACTIVATED:
            if policy.unreserved_entry is UnreservedEntry.ALLOW:
                return Verdict(
                    Result.YELLOW,
                    "NO_RESERVATION_ALLOWED",
                    "NO RESERVATION",
                    "No reservation - allowed",
                    entry_allowed=True,
                    can_verify=True,
                )
            return _red("NO_RESERVATION", "NO RESERVATION", "Customer must book a time slot first")
    # RESERVED, and its entry window has not closed yet.
    if slot is None:  # a reserved ticket always has its reservation; refuse rather than guess
        return INVALID
    if slot.date != now_local.date():
        return _red("WRONG_DATE", "WRONG DATE", f"Reserved for {slot.date.isoformat()}")
    opens = entry_opens_at(slot, window)
    if now_local < opens:
        return _red("TOO_EARLY", "TOO EARLY", f"Entry from {_clock(opens.time())} (slot {_slot_hours(slot)})")
    return Verdict(
        Result.GREEN,
        "VALID",
        "VALID TICKET",
        f"Reserved for today, {_slot_hours(slot)}",
        entry_allowed=True,
        can_verify=True,
    )


def _verified_message(ticket: TicketFacts, today: date) -> str:
    at = ticket.verified_at_local
    if at is None:
        return "Already verified"
    when = f"Verified at {_clock(at.time())}"
    if at.date() != today:
        when = f"Verified on {at.date().isoformat()} at {_clock(at.time())}"
    return f"{when} by {ticket.verified_by}" if ticket.verified_by else when


def _clock(moment: time) -> str:
    """09:30 AM, as the stories write it."""
    return moment.strftime("%I:%M %p")


def _slot_hours(slot: SlotTimes) -> str:
    return f"{slot.start_time.strftime('%H:%M')}-{slot.end_time.strftime('%H:%M')}"
