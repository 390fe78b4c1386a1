"""The expiry sweep: writes what reads already show (a slot ended, a ticket past its validity).

Safe to run from cron on several machines at once: rows are claimed with FOR UPDATE SKIP LOCKED on
PostgreSQL (SQLite has one writer at a time), and a row already expired is simply not selected again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from admit.db.models import Organization, Reservation, ReservationSlot, Ticket
from admit.domain.lifecycle import FINAL, ReservationStatus, TicketEvent
from admit.domain.venue_time import local_now
from admit.services.tickets import live_reservation
from admit.services.transitions import SYSTEM, apply_event

BATCH = 500


def expire_due(session: Session, *, now: datetime) -> int:
    """Expire every ticket that is due, in batches; returns how many were expired."""
    with session.begin():
        orgs = [(org.id, org.timezone) for org in session.scalars(select(Organization))]
    expired = 0
    for orq, timezone in orgs:
        now_local = local_now(now, timezone)
        while batch := _expire_batch(session, orq=orq, now=now, now_local=now_local):
            expired += batch
    return expired


def _expire_batch(session: Session, *, orq: int, now: datetime, now_local: datetime) -> int:
    today, clock_time = now_local.date(), now_local.time()
    slot_ended = or_(
        ReservationSlot.date < today,
        and_(ReservationSlot.date == today, ReservationSlot.end_time <= clock_time),
    )
    reserved_and_ended = (
        select(Ticket.id)
        .join(Reservation, Reservation.ticket_id == Ticket.id)
        .join(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
        .where(Ticket.orq == orq, Reservation.status == ReservationStatus.RESERVED, slot_ended)
    )
    past_validity = select(Ticket.id).where(Ticket.orq == orq, Ticket.valid_until < today)
    with session.begin():
        # Tickets first, then their reservations: the lock order of every other use case.
        due = session.scalars(
            select(Ticket)
            .where(
                Ticket.status.not_in(FINAL),
                or_(Ticket.id.in_(reserved_and_ended), Ticket.id.in_(past_validity)),
            )
            .order_by(Ticket.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        for ticket in due:
            reservation = live_reservation(session, ticket, lock=True)
            if reservation is not None and reservation.status is ReservationStatus.RESERVED:
                reservation.status = ReservationStatus.EXPIRED
                reservation.updated_at = now
            apply_event(session, ticket, TicketEvent.EXPIRE, actor=SYSTEM, now=now)
        return len(due)
