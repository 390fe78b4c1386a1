"""Reminders, each sent once: book a visit (activated N days ago, no reservation); your visit is tomorrow
(one to each party, about all its members).

Queued set-based: one INSERT … SELECT per distinct "tomorrow" among the venues' time zones (at most
three at any moment) and one per distinct reminder delay, however many organizations and rows there
are. The unique dedupe key says what was queued already: rows whose key exists are not selected (so
no id is spent on them), and ON CONFLICT DO NOTHING settles two senders queueing at the same moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, sessionmaker

from admit.db.models import Organization, OutboxMessage, Reservation, ReservationSlot, Ticket
from admit.domain.lifecycle import ReservationStatus, TicketStatus
from admit.domain.mail import MailKind, reminded_if_booked_before
from admit.domain.venue_time import local_now
from admit.outbox.writer import message_row

_INSERTS: dict[str, Callable[[Any], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def queue_reminders(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """Queue the reminders that are due; returns how many were queued."""
    with sessions() as session, session.begin():
        venues = session.execute(
            select(Organization.timezone, Organization.reminder_after_days).distinct()
        ).all()
        # "Tomorrow" is each venue's own: time zones sharing a local date share a statement.
        zones_by_tomorrow: dict[date, set[str]] = defaultdict(set)
        for timezone, _ in venues:
            zones_by_tomorrow[local_now(now, timezone).date() + timedelta(days=1)].add(timezone)
        statements = [_visits(tomorrow, zones, now) for tomorrow, zones in sorted(zones_by_tomorrow.items())]
        delays = sorted({days for _, days in venues if days is not None})
        statements += [_unreserved(days, now) for days in delays]
        insert = _INSERTS[session.get_bind().dialect.name]
        queued = 0
        for columns, rows in statements:
            statement = insert(OutboxMessage).from_select(columns, rows)
            statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"]).execution_options(
                preserve_rowcount=True  # an INSERT's row count is kept only when asked for
            )
            queued += session.connection().execute(statement).rowcount
        return queued


def _constants(kind: MailKind, now: datetime) -> dict[str, ColumnElement[Any]]:
    """The columns every new reminder shares, as `message_row` sets them for any new message."""
    row = message_row(orq=0, kind=kind, recipient="", now=now)
    names = ("kind", "status", "attempts", "next_attempt_at", "created_at")
    return {name: literal(row[name], OutboxMessage.__table__.c[name].type) for name in names}


def _not_queued(key: ColumnElement[str]) -> ColumnElement[bool]:
    return ~exists().where(OutboxMessage.dedupe_key == key)


def _visits(tomorrow: date, zones: set[str], now: datetime) -> tuple[list[str], Select[Any]]:
    """One reminder per party visiting tomorrow (a single booking is a party of one), named after its
    first member visiting tomorrow; the sender tells about every member visiting that day."""
    key = literal("visit:") + Reservation.party_id + literal(f":{tomorrow.isoformat()}")
    constants = _constants(MailKind.VISIT_REMINDER, now)
    other, other_slot = aliased(Reservation), aliased(ReservationSlot)
    earlier_member = (
        exists()
        .where(
            other.party_id == Reservation.party_id,
            other.ticket_id < Reservation.ticket_id,
            other.status == ReservationStatus.RESERVED,
            other_slot.id == other.slot_id,
            other_slot.date == tomorrow,
        )
        .correlate(Reservation)
    )
    rows = (
        select(
            Reservation.orq,
            Reservation.id,
            Reservation.ticket_id,
            Reservation.party_id,
            Reservation.customer_email,
            key,
            *constants.values(),
        )
        .join(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
        .join(Organization, Organization.id == Reservation.orq)
        .where(
            or_(
                *(
                    and_(
                        Organization.timezone == timezone,
                        Reservation.reserved_at < reminded_if_booked_before(tomorrow, timezone),
                    )
                    for timezone in sorted(zones)
                )
            ),
            ReservationSlot.date == tomorrow,
            Reservation.status == ReservationStatus.RESERVED,
            ~earlier_member,
            _not_queued(key),
        )
        .order_by(Reservation.id)  # one order for every sender: racing inserts wait, never deadlock
    )
    return ["orq", "reservation_id", "ticket_id", "party_id", "recipient", "dedupe_key", *constants], rows


def _unreserved(days: int, now: datetime) -> tuple[list[str], Select[Any]]:
    key = literal("reserve:") + cast(Ticket.id, String)
    constants = _constants(MailKind.RESERVE_REMINDER, now)
    rows = (
        select(Ticket.orq, Ticket.id, Ticket.customer_email, key, *constants.values())
        .join(Organization, Organization.id == Ticket.orq)
        .where(
            Organization.reminder_after_days == days,
            Ticket.status == TicketStatus.ACTIVATED,
            Ticket.customer_email.is_not(None),
            Ticket.activated_at <= now - timedelta(days=days),
            _not_queued(key),
        )
        .order_by(Ticket.id)
    )
    return ["orq", "ticket_id", "recipient", "dedupe_key", *constants], rows
