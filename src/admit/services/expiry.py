"""The expiry sweep: writes what reads already show (an entry window closed, a validity passed).

Safe to run from cron on several machines at once: rows are claimed with FOR UPDATE SKIP LOCKED on
PostgreSQL (SQLite has one writer at a time), and a row already expired is simply not selected again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from admit.db.models import Organization, Reservation, ReservationSlot, Ticket
from admit.domain.lifecycle import FINAL, ReservationStatus, TicketEvent
from admit.domain.policy import EntryWindow
from admit.domain.venue_time import local_now
from admit.services.organizations import policy_of
from admit.services.tickets import live_reservation
from admit.services.transitions import SYSTEM, apply_event

BATCH = 500


def expire_due(session: Session, *, now: datetime) -> int:
    """Expire every ticket that is due, in batches; returns how many were expired."""
    with session.begin():
        orgs = [
            (org.id, org.timezone, policy_of(org).entry_window)
            for org in session.scalars(select(Organization))
        ]
    expired = 0
    for orq, timezone, window in orgs:
        now_local = local_now(now, timezone)
        while batch := _expire_batch(session, orq=orq, now=now, now_local=now_local, window=window):
            expired += batch
    return expired


def _entry_closed(now_local: datetime, window: EntryWindow) -> ColumnElement[bool]:
    """SQL for "this slot's entry window has closed": the moment of domain.entry.entry_closes_at."""
    if window.is_day:
        return ReservationSlot.date < now_local.date()
    latest_end = now_local - timedelta(minutes=window.minutes_after_end or 0)
    return or_(
        ReservationSlot.date < latest_end.date(),
        and_(ReservationSlot.date == latest_end.date(), ReservationSlot.end_time <= latest_end.time()),
    )


def _expire_batch(
    session: Session, *, orq: int, now: datetime, now_local: datetime, window: EntryWindow
) -> int:
    reserved_and_closed = (
        select(Ticket.id)
        .join(Reservation, Reservation.ticket_id == Ticket.id)
        .join(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
        .where(
            Ticket.orq == orq,
            Reservation.status == ReservationStatus.RESERVED,
            _entry_closed(now_local, window),
        )
    )
    past_validity = select(Ticket.id).where(Ticket.orq == orq, Ticket.valid_until < now_local.date())
    with session.begin():
        # Tickets first, then their reservations: the lock order of every other use case.
        due = session.scalars(
            select(Ticket)
            .where(
                Ticket.status.not_in(FINAL),
                or_(Ticket.id.in_(reserved_and_closed), Ticket.id.in_(past_validity)),
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
