"""The expiry sweep: writes what reads already show (an entry window closed, a validity passed).

Safe to run from cron on several machines at once: rows are claimed with FOR UPDATE SKIP LOCKED on
PostgreSQL (SQLite has one writer at a time), and a row already expired is simply not selected again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from admit.db.models import Organization, Reservation, ReservationSlot, Ticket
from admit.db.rules import SQL
from admit.domain.entry import entry_closed_rule
from admit.domain.lifecycle import FINAL, ReservationStatus, TicketEvent, validity_passed_rule
from admit.domain.policy import EntryWindow
from admit.domain.venue_time import local_now
from admit.services.organizations import policy_of
from admit.services.tickets import live_reservation
from admit.services.transitions import SYSTEM, apply_event

BATCH = 500


class Expired(int):
    """How many tickets a pass expired, and `no_shows`: of them, the reserved ones whose entry window
    closed without a scan. Each ticket is expired once, by whichever pass claims it first, so no-shows
    are counted once however many nodes sweep."""

    no_shows: int

    def __new__(cls, tickets: int = 0, no_shows: int = 0) -> Expired:
        made = super().__new__(cls, tickets)
        made.no_shows = no_shows
        return made


def expire_due(session: Session, *, now: datetime) -> Expired:
    """Expire every ticket that is due, in batches; returns how many were expired."""
    with session.begin():
        orgs = [
            (org.id, org.timezone, policy_of(org).entry_window)
            for org in session.scalars(select(Organization))
        ]
    expired = no_shows = 0
    for orq, timezone, window in orgs:
        now_local = local_now(now, timezone)
        while batch := _expire_batch(session, orq=orq, now=now, now_local=now_local, window=window):
            expired += batch
            no_shows += batch.no_shows
    return Expired(expired, no_shows)


def _expire_batch(
    session: Session, *, orq: int, now: datetime, now_local: datetime, window: EntryWindow
) -> Expired:
    reserved_and_closed = (
        select(Ticket.id)
        .join(Reservation, Reservation.ticket_id == Ticket.id)
        .join(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
        .where(
            Ticket.orq == orq,
            Reservation.status == ReservationStatus.RESERVED,
            entry_closed_rule(
                SQL,
                slot_date=ReservationSlot.date,
                slot_end=ReservationSlot.end_time,
                now_local=now_local,
                window=window,
            ),
        )
    )
    past_validity = select(Ticket.id).where(
        Ticket.orq == orq, validity_passed_rule(SQL, valid_until=Ticket.valid_until, today=now_local.date())
    )
    with session.begin():
        # Tickets first, then their reservations: the lock order of every other use case.
        due = session.execute(
            select(Ticket, Ticket.id.in_(reserved_and_closed))
            .where(
                Ticket.status.not_in(FINAL),
                or_(Ticket.id.in_(reserved_and_closed), Ticket.id.in_(past_validity)),
            )
            .order_by(Ticket.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        no_shows = 0
        for ticket, window_closed in due:
            reservation = live_reservation(session, ticket, lock=True)
            if reservation is not None and reservation.status is ReservationStatus.RESERVED:
                reservation.status = ReservationStatus.EXPIRED
                reservation.updated_at = now
                no_shows += bool(window_closed)
            apply_event(session, ticket, TicketEvent.EXPIRE, actor=SYSTEM, now=now)
        return Expired(len(due), no_shows)
