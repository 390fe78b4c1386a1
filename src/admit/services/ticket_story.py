"""A ticket's whole story for a manager settling a dispute: every status change, every reservation,
every scan (device, operator, verdict) and every e-mail, oldest first.

The ticket is named by its code, or by its last characters (at least four, as a visitor reads them
from a receipt or a log line carries them); a few characters shared by several of the organization's
tickets are refused with how many share them, never answered with a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Operator as OperatorRow
from admit.db.models import (
    OutboxMessage,
    Reservation,
    ReservationSlot,
    ScanEvent,
    Ticket,
    TicketTransition,
)
from admit.security import codes
from admit.security.codes import CodeKeys
from admit.services.ticket_lookup import BY_CODE_IN_ORGANIZATION, lookup_hash

# Fewer characters than these match too many tickets to mean one.
SHORTEST_END = 4
# A ticket's story is read in full up to this many rows of each kind; a longer one is cut, and says so.
MAX_ROWS = 500


@dataclass(frozen=True)
class StoryEvent:
    """One thing that happened to the ticket; the fields of its kind are set, the others None."""

    at: datetime
    kind: str  # a status change's event (issue, activate, reserve, move, …), "scan" or "mail"
    actor: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    device_id: str | None = None
    operator_id: int | None = None
    operator_name: str | None = None
    action: str | None = None
    result: str | None = None
    reason: str | None = None
    offline: bool | None = None
    mail_kind: str | None = None
    mail_status: str | None = None
    recipient: str | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class StoryReservation:
    reservation_suffix: str  # the id is the holder's credential: its last four characters only
    status: str
    slot_id: int
    date: date
    start_time: time
    end_time: time
    reserved_at: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True)
class TicketStory:
    ticket_id: int
    code_suffix: str
    order_id: str
    status: str
    activation_mode: str
    valid_until: date | None
    created_at: datetime
    reservations: list[StoryReservation]
    events: list[StoryEvent]
    truncated: bool = field(default=False)


def find_story_ticket(session: Session, *, orq: int, ref: str, keys: CodeKeys) -> Ticket:
    """The organization's ticket with this code or these last characters, or why there is none."""
    if codes.normalise(ref) is not None:
        found = session.scalars(
            select(Ticket).where(BY_CODE_IN_ORGANIZATION), {"code_hash": lookup_hash(ref, keys), "orq": orq}
        ).first()
        if found is None:
            raise errors.TicketNotFound()
        return found
    end = codes.code_end(ref, shortest=SHORTEST_END)
    if end is None:
        raise errors.ValidationFailed(
            fields={"ticket": f"a ticket code, or at least its last {SHORTEST_END} characters"}
        )
    candidates = session.scalars(_BY_SUFFIX, {"orq": orq, "suffix": end[-4:]}).all()
    if len(end) > 4:  # the look-up keeps four characters; the rest is checked against each code
        candidates = [t for t in candidates if keys.unseal(t.code_sealed).endswith(end)]
    if not candidates:
        raise errors.TicketNotFound()
    if len(candidates) > 1:
        raise errors.AmbiguousTicket(matches=len(candidates))
    return candidates[0]


def ticket_story(session: Session, *, orq: int, ref: str, keys: CodeKeys) -> TicketStory:
    with session.begin():
        ticket = find_story_ticket(session, orq=orq, ref=ref, keys=keys)
        by_ticket = {"ticket": ticket.id, "limit": MAX_ROWS}
        transitions = session.execute(_TRANSITIONS, by_ticket).all()
        scans = session.execute(_SCANS, by_ticket).all()
        mails = session.execute(_MAILS, by_ticket).all()
        reservations = session.execute(_RESERVATIONS, by_ticket).all()
    events = [
        StoryEvent(
            at=at, kind=event.value, actor=actor, from_status=before and before.value, to_status=after.value
        )
        for event, before, after, actor, at in transitions
    ]
    events += [
        StoryEvent(
            at=at,
            kind="scan",
            actor=name,
            device_id=device,
            operator_id=operator_id,
            operator_name=name,
            action=action,
            result=result,
            reason=reason,
            offline=offline,
        )
        for at, device, operator_id, name, action, result, reason, offline in scans
    ]
    events += [
        StoryEvent(
            at=at, kind="mail", mail_kind=kind.value, mail_status=status.value, recipient=to, sent_at=sent
        )
        for at, kind, status, to, sent in mails
    ]
    events.sort(key=lambda event: event.at)
    return TicketStory(
        ticket_id=ticket.id,
        code_suffix=ticket.code_suffix,
        order_id=ticket.order_id,
        status=ticket.status.value,
        activation_mode=ticket.activation_mode.value,
        valid_until=ticket.valid_until,
        created_at=ticket.created_at,
        reservations=[
            StoryReservation(codes.suffix(rid), status.value, slot, day, start, end, reserved, cancelled)
            for rid, status, slot, day, start, end, reserved, cancelled in reservations
        ],
        events=events,
        truncated=any(len(rows) == MAX_ROWS for rows in (transitions, scans, mails, reservations)),
    )


_BY_SUFFIX = (
    select(Ticket)
    .where(Ticket.orq == bindparam("orq"), Ticket.code_suffix == bindparam("suffix"))
    .limit(MAX_ROWS)
)
_TRANSITIONS = (
    select(
        TicketTransition.event,
        TicketTransition.from_status,
        TicketTransition.to_status,
        TicketTransition.actor,
        TicketTransition.at,
    )
    .where(TicketTransition.ticket_id == bindparam("ticket"))
    .order_by(TicketTransition.at, TicketTransition.id)
    .limit(bindparam("limit"))
)
_SCANS = (
    select(
        ScanEvent.scanned_at,
        ScanEvent.device_id,
        ScanEvent.operator_id,
        OperatorRow.name,
        ScanEvent.action,
        ScanEvent.result,
        ScanEvent.reason,
        ScanEvent.offline,
    )
    .join(OperatorRow, OperatorRow.id == ScanEvent.operator_id)
    .where(ScanEvent.ticket_id == bindparam("ticket"))
    .order_by(ScanEvent.scanned_at, ScanEvent.id)
    .limit(bindparam("limit"))
)
_MAILS = (
    select(
        OutboxMessage.created_at,
        OutboxMessage.kind,
        OutboxMessage.status,
        OutboxMessage.recipient,
        OutboxMessage.sent_at,
    )
    .where(OutboxMessage.ticket_id == bindparam("ticket"))
    .order_by(OutboxMessage.created_at, OutboxMessage.id)
    .limit(bindparam("limit"))
)
_RESERVATIONS = (
    select(
        Reservation.id,
        Reservation.status,
        ReservationSlot.id,
        ReservationSlot.date,
        ReservationSlot.start_time,
        ReservationSlot.end_time,
        Reservation.reserved_at,
        Reservation.cancelled_at,
    )
    .join(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
    .where(Reservation.ticket_id == bindparam("ticket"))
    .order_by(Reservation.reserved_at, Reservation.id)
    .limit(bindparam("limit"))
)
