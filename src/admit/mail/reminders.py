"""Reminders, each sent once: book a visit (activated N days ago, no reservation); your visit is tomorrow."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from admit.db.models import Organization, Reservation, ReservationSlot, Ticket
from admit.domain.lifecycle import ReservationStatus, TicketStatus
from admit.domain.mail import MailKind
from admit.domain.venue_time import local_now
from admit.mail.outbox import enqueue
from admit.services.organizations import policy_of


def queue_reminders(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """Queue the reminders that are due; returns how many were queued."""
    try:
        with sessions() as session, session.begin():
            return sum(_for_org(session, org, now) for org in session.scalars(select(Organization)))
    except IntegrityError:
        return 0  # another sender queued the same reminders at the same moment; theirs stand


def _for_org(session: Session, org: Organization, now: datetime) -> int:
    queued = 0
    tomorrow = local_now(now, org.timezone).date() + timedelta(days=1)
    visits = session.scalars(
        select(Reservation)
        .join(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
        .where(
            Reservation.orq == org.id,
            Reservation.status == ReservationStatus.RESERVED,
            ReservationSlot.date == tomorrow,
        )
    )
    for reservation in visits:
        key = f"visit:{reservation.id}:{tomorrow.isoformat()}"
        if enqueue(
            session,
            orq=org.id,
            kind=MailKind.VISIT_REMINDER,
            recipient=reservation.customer_email,
            now=now,
            reservation=reservation,
            ticket_id=reservation.ticket_id,
            dedupe_key=key,
        ):
            queued += 1
    days = policy_of(org).reminder_after_days
    if days is None:
        return queued
    unreserved = session.scalars(
        select(Ticket).where(
            Ticket.orq == org.id,
            Ticket.status == TicketStatus.ACTIVATED,
            Ticket.customer_email.is_not(None),
            Ticket.activated_at <= now - timedelta(days=days),
        )
    )
    for ticket in unreserved:
        if enqueue(
            session,
            orq=org.id,
            kind=MailKind.RESERVE_REMINDER,
            recipient=ticket.customer_email or "",
            now=now,
            ticket_id=ticket.id,
            dedupe_key=f"reserve:{ticket.id}",
        ):
            queued += 1
    return queued
