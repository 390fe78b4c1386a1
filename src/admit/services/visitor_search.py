"""The door's search for a visitor without their QR: today's and tomorrow's reservations (venue time).

Only the organization's slots of those two days are read (the slots' (orq, date, start) index), then
their reservations (by slot and status) and tickets (by id): however long the history, a search costs
two days of one venue's bookings. The e-mail and phone are matched on those rows; a ticket code only by
its last four characters in SQL, then a longer typed tail against the whole code, opened from its seal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from admit.db.models import Reservation, ReservationSlot, Ticket
from admit.domain.lifecycle import ReservationStatus
from admit.domain.venue_time import local_now
from admit.security.codes import CodeKeys
from admit.services.visitor_query import MAX_RESULTS, VisitorQuery


@dataclass(frozen=True)
class VisitorMatch:
    """A reservation found for the operator: its ticket's code is what the scan is then called with."""

    code: str
    slot_date: date
    start_time: time
    end_time: time
    email: str
    phone: str
    status: ReservationStatus
    party: int  # live reservations of this slot under the same e-mail: the group that booked together


@dataclass(frozen=True)
class SearchOutcome:
    matches: list[VisitorMatch]
    today: date  # the venue's: the other day searched is the day after
    more: bool  # more than MAX_RESULTS matched: the operator should type more


def search_visitors(
    session: Session, *, orq: int, query: VisitorQuery, timezone: str, keys: CodeKeys, now: datetime
) -> SearchOutcome:
    """Live reservations of today and tomorrow at the venue that match the query, earliest slot first."""
    today = local_now(now, timezone).date()
    days = (today, today + timedelta(days=1))
    with session.begin():
        rows = session.execute(
            select(
                Ticket.code_sealed,
                ReservationSlot.id,
                ReservationSlot.date,
                ReservationSlot.start_time,
                ReservationSlot.end_time,
                Reservation.customer_email,
                Reservation.customer_phone,
                Reservation.status,
            )
            .select_from(ReservationSlot)
            .join(Reservation, Reservation.slot_id == ReservationSlot.id)
            .join(Ticket, Ticket.id == Reservation.ticket_id)
            .where(
                ReservationSlot.orq == orq,
                ReservationSlot.date.in_(days),
                Reservation.status != ReservationStatus.CANCELLED,
                _matching(query),
            )
            .order_by(ReservationSlot.date, ReservationSlot.start_time, Reservation.customer_email, Ticket.id)
            .limit(MAX_RESULTS + 1)
        ).all()
        matches = []
        for sealed, slot_id, day, start, end, email, phone, status in rows:
            code = keys.unseal(sealed)
            if not _fits(query, code=code, email=email, phone=phone):
                continue  # only the last four characters matched, and the longer tail does not
            matches.append((slot_id, VisitorMatch(code, day, start, end, email, phone, status, party=1)))
        parties = _parties(session, {(slot_id, match.email) for slot_id, match in matches[:MAX_RESULTS]})
    found = [
        replace(match, party=parties[(slot_id, match.email)]) for slot_id, match in matches[:MAX_RESULTS]
    ]
    return SearchOutcome(found, today=today, more=len(rows) > MAX_RESULTS)


def _matching(query: VisitorQuery) -> ColumnElement[bool]:
    email = func.lower(Reservation.customer_email).contains(query.email, autoescape=True)
    phone = (
        Reservation.customer_phone.contains(query.phone_digits, autoescape=True)
        if query.phone_digits
        else false()
    )
    code = Ticket.code_suffix == query.code_suffix if query.code_suffix else false()
    return or_(email, phone, code)


def _fits(query: VisitorQuery, *, code: str, email: str, phone: str) -> bool:
    if query.email in email.lower() or (query.phone_digits and query.phone_digits in phone):
        return True
    return query.code_tail is not None and code.endswith(query.code_tail)


def _parties(session: Session, keys: set[tuple[int, str]]) -> Counter[tuple[int, str]]:
    """How many live reservations each (slot, e-mail) holds."""
    if not keys:
        return Counter()
    slot_ids = {slot_id for slot_id, _ in keys}
    rows = session.execute(
        select(Reservation.slot_id, Reservation.customer_email, func.count())
        .where(Reservation.slot_id.in_(slot_ids), Reservation.status != ReservationStatus.CANCELLED)
        .group_by(Reservation.slot_id, Reservation.customer_email)
    ).all()
    return Counter({(slot_id, email): count for slot_id, email, count in rows if (slot_id, email) in keys})
