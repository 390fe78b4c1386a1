"""Tickets as their holders see them: look-up by code, status, activation, reservability."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Organization, Reservation, Ticket, live_reservation_of
from admit.domain.entry import entry_closed
from admit.domain.lifecycle import (
    ActivationMode,
    ReservationStatus,
    TicketEvent,
    TicketStatus,
    effective_status,
    next_status,
)
from admit.domain.venue_time import local_now
from admit.security import codes
from admit.security.codes import CodeKeys
from admit.services.capacity import times
from admit.services.organizations import policy_of
from admit.services.rates import count_ticket_check
from admit.services.ticket_lookup import BY_CODE, BY_CODE_IN_ORGANIZATION, lookup_hash
from admit.services.transitions import CUSTOMER, apply_event


@dataclass(frozen=True)
class ReservationSummary:
    reservation_id: str
    slot_id: int
    date: date
    start_time: time
    end_time: time
    status: ReservationStatus
    party_id: str  # only for whoever holds the whole order (its link), never for one ticket's holder


@dataclass(frozen=True)
class TicketView:
    """What a holder (or the door) may know of a ticket, with expiry applied by the venue's clock."""

    id: int
    code: str
    orq: int
    status: TicketStatus
    activation_mode: ActivationMode
    activated_at: datetime | None
    valid_until: date | None
    reservation: ReservationSummary | None = None

    @property
    def activation_status(self) -> str:
        return "inactive" if self.activated_at is None else "active"


def find_ticket(
    session: Session, *, code: str, keys: CodeKeys, orq: int | None = None, lock: bool = False
) -> Ticket | None:
    """The ticket for a typed or scanned code; `orq` confines the look-up to one organization."""
    code_hash = lookup_hash(code, keys)
    if code_hash is None:
        return None
    query = _FIND_TICKET[orq is not None, lock]
    return session.scalars(query, {"code_hash": code_hash, "orq": orq}).first()


_FIND_TICKET = {
    (in_org, lock): (query.with_for_update() if lock else query)
    for in_org in (False, True)
    for lock in (False, True)
    for query in [select(Ticket).where(BY_CODE_IN_ORGANIZATION if in_org else BY_CODE)]
}


def get_ticket_or_raise(
    session: Session, *, code: str, keys: CodeKeys, orq: int | None = None, lock: bool = False
) -> Ticket:
    ticket = find_ticket(session, code=code, keys=keys, orq=orq, lock=lock)
    if ticket is None:
        raise errors.TicketNotFound()
    return ticket


def live_reservation(session: Session, ticket: Ticket, *, lock: bool = False) -> Reservation | None:
    """The ticket's reservation that is not cancelled (the database allows at most one)."""
    query = select(Reservation).where(live_reservation_of(ticket.id))
    return session.scalars(query.with_for_update() if lock else query).first()


def view(session: Session, ticket: Ticket, *, code: str, now: datetime) -> TicketView:
    org = session.get_one(Organization, ticket.orq)
    reservation = live_reservation(session, ticket)
    now_local = local_now(now, org.timezone)
    summary = None
    closed = False
    if reservation is not None:
        slot = reservation.slot
        closed = entry_closed(times(slot), policy_of(org).entry_window, now_local)
        summary = ReservationSummary(
            reservation_id=reservation.id,
            slot_id=slot.id,
            date=slot.date,
            start_time=slot.start_time,
            end_time=slot.end_time,
            status=reservation.status,
            party_id=reservation.party_id,
        )
    status = effective_status(
        ticket.status,
        now_local=now_local,
        valid_until=ticket.valid_until,
        entry_closed=closed,
    )
    if summary is not None and status is TicketStatus.EXPIRED:
        summary = replace(summary, status=ReservationStatus.EXPIRED)
    return TicketView(
        id=ticket.id,
        code=codes.normalise(code) or code,
        orq=ticket.orq,
        status=status,
        activation_mode=ticket.activation_mode,
        activated_at=ticket.activated_at,
        valid_until=ticket.valid_until,
        reservation=summary,
    )


def ticket_status(session: Session, *, code: str, keys: CodeKeys, now: datetime) -> TicketView:
    with session.begin():
        ticket = get_ticket_or_raise(session, code=code, keys=keys)
        return view(session, ticket, code=code, now=now)


def activate_ticket(session: Session, *, code: str, keys: CodeKeys, now: datetime) -> TicketView:
    """INACTIVE → ACTIVATED, once and for ever."""
    with session.begin():
        ticket = get_ticket_or_raise(session, code=code, keys=keys, lock=True)
        _refuse_if_expired(session, ticket, code=code, now=now)
        apply_event(session, ticket, TicketEvent.ACTIVATE, actor=CUSTOMER, now=now)
        return view(session, ticket, code=code, now=now)


def check_reservable(session: Session, *, code: str, keys: CodeKeys, now: datetime) -> TicketView:
    """The ticket's view if it may be reserved now, or the error that says why not."""
    with session.begin():
        ticket = get_ticket_or_raise(session, code=code, keys=keys)
        ticket_view = view(session, ticket, code=code, now=now)
        next_status(ticket_view.status, TicketEvent.RESERVE)
        org = session.get_one(Organization, ticket.orq)  # read by view() already: no query
        count_ticket_check(session, orq=ticket.orq, day=local_now(now, org.timezone).date())
        return ticket_view


def _refuse_if_expired(session: Session, ticket: Ticket, *, code: str, now: datetime) -> None:
    if view(session, ticket, code=code, now=now).status is TicketStatus.EXPIRED:
        raise errors.Expired()
