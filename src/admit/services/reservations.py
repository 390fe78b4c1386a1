"""Reservations: book tickets into a slot (all or nothing), look one up, move it, cancel it.

Each use case is one transaction: tickets are locked first (in id order), then slots (in id order),
so concurrent bookings, moves and cancels can never wait for each other in a circle.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Organization, Reservation, ReservationSlot, Ticket
from admit.domain.calendar import SlotStatus
from admit.domain.changes import check_cancel_allowed, check_change_allowed
from admit.domain.contact import ContactError, normalise_email, normalise_phone
from admit.domain.lifecycle import ReservationStatus, TicketEvent, TicketStatus, effective_status, next_status
from admit.domain.mail import MailKind
from admit.domain.venue_time import local_now
from admit.outbox.writer import enqueue_for_members, enqueue_rows, message_row, party_named
from admit.security import codes
from admit.security.codes import CodeKeys
from admit.services.capacity import (
    check_room,
    lock_slots,
    move_places,
    release_places,
    take_places,
    times,
    with_alternatives,
)
from admit.services.organizations import SHOWN_NAME, policy_of, shown_name
from admit.services.ticket_lookup import BY_CODES
from admit.services.tickets import view
from admit.services.transitions import CUSTOMER, apply_event, change_statuses

MAX_BATCH = 50


@dataclass(frozen=True)
class ReservationView:
    reservation_id: str
    ticket_id: int
    ticket_code: str
    ticket_status: TicketStatus
    status: ReservationStatus
    slot: ReservationSlot
    customer_email: str
    customer_phone: str
    reserved_at: datetime
    sequence: int
    timezone: str
    venue: str  # the name visitors see
    venue_address: str | None = None
    language: str = "en"  # the one it was booked in: its e-mails, calendar entry and printout speak it
    party_id: str = ""  # the tickets booked together; never shown on a member's own page


class _Booked(Protocol):
    """What the answer needs of a reservation: a row as loaded, or one being written."""

    @property
    def id(self) -> str: ...
    @property
    def ticket_id(self) -> int: ...
    @property
    def customer_email(self) -> str: ...
    @property
    def customer_phone(self) -> str: ...
    @property
    def reserved_at(self) -> datetime: ...
    @property
    def sequence(self) -> int: ...
    @property
    def language(self) -> str: ...
    @property
    def party_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _NewReservation:
    id: str
    ticket_id: int
    customer_email: str
    customer_phone: str
    reserved_at: datetime
    language: str
    party_id: str
    sequence: int = 0

    def row(self, slot: ReservationSlot) -> dict[str, Any]:
        return {
            "id": self.id,
            "orq": slot.orq,
            "ticket_id": self.ticket_id,
            "slot_id": slot.id,
            "customer_email": self.customer_email,
            "customer_phone": self.customer_phone,
            "status": ReservationStatus.RESERVED,
            "sequence": self.sequence,
            "reserved_at": self.reserved_at,
            "updated_at": self.reserved_at,
            "language": self.language,
            "party_id": self.party_id,
        }


@dataclass(frozen=True)
class Contact:
    email: str
    phone: str


def checked_contact(email: str, phone: str, phone_region: str | None = None) -> Contact:
    """Both contact fields normalised, or INVALID_CONTACT naming every field that is wrong.

    `phone_region`: the country a phone number without its country code is read in.
    """
    problems: dict[str, str] = {}
    normalised: dict[str, str] = {}
    for field, value, rule in (
        ("customer_email", email, normalise_email),
        ("customer_phone", phone, lambda v, f: normalise_phone(v, f, phone_region)),
    ):
        try:
            normalised[field] = rule(value, field)
        except ContactError as exc:
            problems[exc.field] = exc.reason
    if problems:
        raise errors.InvalidContact(fields=problems)
    return Contact(normalised["customer_email"], normalised["customer_phone"])


def reserve(
    session: Session,
    *,
    ticket_codes: list[str],
    slot_id: int,
    contact: Contact,
    keys: CodeKeys,
    now: datetime,
    language: str | None = None,
) -> list[ReservationView]:
    """Book every ticket into the slot, or none of them; `language` (one of LANGUAGES, checked by the
    caller) is the visitor's, or None for the venue's default.

    The busiest write of all (a sale opening), so it runs plain statements, a fixed number however
    many tickets. The place is taken last, just before the commit, so a popular slot's row is locked
    only briefly.
    """
    canonical = _canonical_codes(ticket_codes)
    places = len(canonical)
    tickets: list[_LockedTicket] = []
    try:
        with session.begin():
            connection = session.connection()
            tickets, found = _lock_tickets(session, canonical, keys, slot_id=slot_id)
            # Another organization's slot does not exist for these tickets: nothing of it is told.
            if found is None or found.orq != tickets[0].orq:
                raise errors.SlotNotFound()
            for code, ticket in zip(canonical, tickets, strict=True):
                if ticket.orq != found.orq:
                    raise errors.TicketNotFound(ticket_code=code)
            # A copy of the row for the rules and the answer; it is never added to the session.
            slot = ReservationSlot(**{name: getattr(found, name) for name in _SLOT_FIELDS})
            now_local = local_now(now, found.timezone)
            check_room(slot, places, now_local=now_local)
            for code, ticket in zip(canonical, tickets, strict=True):
                _check_reservable(session, ticket, code=code, now=now, now_local=now_local)
            spoken = language or found.default_language
            party = secrets.token_urlsafe(16)
            made = [
                _NewReservation(
                    secrets.token_urlsafe(16), ticket.id, contact.email, contact.phone, now, spoken, party
                )
                for ticket in tickets
            ]
            connection.execute(_INSERT_RESERVATION, [new.row(slot) for new in made])
            change_statuses(
                connection,
                tickets=[(ticket.id, ticket.status) for ticket in tickets],
                orq=slot.orq,
                event=TicketEvent.RESERVE,
                actor=CUSTOMER,
                now=now,
                customer_email=contact.email,
                customer_phone=contact.phone,
            )
            # One confirmation: about the reservation, or about the party with every QR code in it.
            enqueue_rows(
                session,
                [
                    message_row(
                        orq=slot.orq,
                        kind=MailKind.CONFIRMATION,
                        recipient=contact.email,
                        now=now,
                        reservation_id=made[0].id,
                        ticket_id=made[0].ticket_id,
                        party_id=party_named(party, members=len(made)),
                    )
                ],
            )
            take_places(session, slot, places, now=now)
    except IntegrityError as exc:
        # The unique live-reservation index: another request reserved one of these tickets first.
        raise errors.AlreadyReserved() from exc
    except errors.SlotFull as full:
        with session.begin():  # `slot` is the copy read above, outside the session: the rollback kept it
            refused = with_alternatives(session, full, slot=slot, places=places, now_local=now_local)
        refused.ticket_ids = [ticket.id for ticket in tickets]
        raise refused from None
    except errors.DomainError as refused:
        refused.ticket_ids = [ticket.id for ticket in tickets] or None
        raise
    return [
        _view(
            new,
            slot=slot,
            code=code,
            timezone=found.timezone,
            venue=found.name,
            venue_address=found.address,
            ticket_status=TicketStatus.RESERVED,
            status=ReservationStatus.RESERVED,
        )
        for new, code in zip(made, canonical, strict=True)
    ]


_SLOT_FIELDS = ("id", "orq", "date", "start_time", "end_time", "total_capacity", "booked_count", "status")
_INSERT_RESERVATION = insert(Reservation)


def _check_reservable(
    session: Session, ticket: _LockedTicket, *, code: str, now: datetime, now_local: datetime
) -> None:
    if ticket.status is TicketStatus.ACTIVATED:  # the usual case: no reservation to look at
        status = effective_status(ticket.status, now_local=now_local, valid_until=ticket.valid_until)
    else:  # the refusal's reason may depend on the reservation the ticket has: read its whole view
        status = view(session, session.get_one(Ticket, ticket.id), code=code, now=now).status
    next_status(status, TicketEvent.RESERVE)


def get_reservation(
    session: Session, *, reservation_id: str, keys: CodeKeys, now: datetime
) -> ReservationView:
    with session.begin():
        return current_view(session, _get_or_raise(session, reservation_id), keys, now)


def move_reservation(
    session: Session, *, reservation_id: str, slot_id: int, keys: CodeKeys, now: datetime
) -> ReservationView:
    """Take the place in the new slot and free the old one in one step, where the policy allows."""
    moved = _move(session, Reservation.id == reservation_id, slot_id=slot_id, keys=keys, now=now)
    return moved.members[0]


def move_party(session: Session, *, party_id: str, slot_id: int, keys: CodeKeys, now: datetime) -> PartyView:
    """Move every member still booked (PartyView.live) into one slot, all or none."""
    return _move(
        session, Reservation.party_id == party_id, slot_id=slot_id, keys=keys, now=now, party=party_id
    )


def _move(
    session: Session,
    members: ColumnElement[bool],
    *,
    slot_id: int,
    keys: CodeKeys,
    now: datetime,
    party: str | None = None,
) -> PartyView:
    places = 1
    try:
        with session.begin():
            locked, org, now_local = _lock_for_change(session, members, keys, now, party=party)
            with _refusal_names(locked):
                policy = policy_of(org)
                for reservation, _ in locked:
                    old = reservation.slot
                    check_change_allowed(
                        policy,
                        slot_starts_at=times(old).starts_at,
                        now_local=now_local,
                        slot_closed=old.status is SlotStatus.CLOSED,
                    )
                moving = [
                    (reservation, ticket) for reservation, ticket in locked if reservation.slot_id != slot_id
                ]
                places = len(moving)
                if moving:
                    slots = lock_slots(
                        session, [slot_id, *(reservation.slot_id for reservation, _ in moving)]
                    )
                    new = slots.get(slot_id)
                    if new is None or new.orq != org.id:
                        raise errors.SlotNotFound()
                    check_room(new, len(moving), now_local=now_local)
                    for old_id, count in Counter(reservation.slot_id for reservation, _ in moving).items():
                        move_places(session, slots[old_id], new, count, now=now)
                    for reservation, ticket in moving:
                        reservation.slot = new
                        reservation.sequence += 1
                        reservation.updated_at = now
                        apply_event(session, ticket, TicketEvent.MOVE, actor=CUSTOMER, now=now)
            moved = [reservation for reservation, _ in moving]
            if moved:  # one e-mail: about the one reservation, or about the party's members together
                enqueue_for_members(session, moved, MailKind.UPDATE, now=now)
            return _party_view(session, party, [reservation for reservation, _ in locked], moved, keys, now)
    except errors.SlotFull as full:
        with session.begin():  # read again: the refused transaction's rollback expired what it read
            slot = session.get_one(ReservationSlot, slot_id)
            now_local = local_now(now, session.get_one(Organization, slot.orq).timezone)
            refused = with_alternatives(session, full, slot=slot, places=places, now_local=now_local)
        refused.ticket_ids = full.ticket_ids
        raise refused from None


def cancel_reservation(
    session: Session, *, reservation_id: str, keys: CodeKeys, now: datetime
) -> ReservationView:
    """Free the place; the ticket is ACTIVATED again and may book another slot."""
    return _cancel(session, Reservation.id == reservation_id, keys=keys, now=now).members[0]


def cancel_party(session: Session, *, party_id: str, keys: CodeKeys, now: datetime) -> PartyView:
    """Cancel every member still booked (PartyView.live), all or none."""
    return _cancel(session, Reservation.party_id == party_id, keys=keys, now=now, party=party_id)


def _cancel(
    session: Session, members: ColumnElement[bool], *, keys: CodeKeys, now: datetime, party: str | None = None
) -> PartyView:
    with session.begin():
        locked, org, now_local = _lock_for_change(session, members, keys, now, party=party)
        policy = policy_of(org)
        with _refusal_names(locked):
            for reservation, _ in locked:
                check_cancel_allowed(
                    policy, slot_starts_at=times(reservation.slot).starts_at, now_local=now_local
                )
        slots = lock_slots(session, [reservation.slot_id for reservation, _ in locked])
        for slot_id, count in Counter(reservation.slot_id for reservation, _ in locked).items():
            release_places(session, slots[slot_id], count, now=now)
        for reservation, ticket in locked:
            reservation.status = ReservationStatus.CANCELLED
            reservation.cancelled_at = reservation.updated_at = now
            apply_event(session, ticket, TicketEvent.CANCEL, actor=CUSTOMER, now=now)
        cancelled = [reservation for reservation, _ in locked]
        enqueue_for_members(session, cancelled, MailKind.CANCELLATION, now=now)
        return _party_view(session, party, cancelled, cancelled, keys, now)


@dataclass(frozen=True)
class PartyView:
    """The tickets booked together: every member, cancelled ones too, in the order they were booked."""

    party_id: str
    members: list[ReservationView]
    changed: frozenset[str] = frozenset()  # the reservations the change that made this view acted on

    @property
    def live(self) -> list[ReservationView]:
        """The members still booked: those a move or cancel of the whole party acts on, and what its
        page offers to change. One already in used their entry; a cancelled or expired one has no visit
        left to change: the party's change leaves them as they are."""
        return [member for member in self.members if member.status is ReservationStatus.RESERVED]

    @property
    def changed_members(self) -> list[ReservationView]:
        return [member for member in self.members if member.reservation_id in self.changed]


def get_party(session: Session, *, party_id: str, keys: CodeKeys, now: datetime) -> PartyView:
    with session.begin():
        return party_of(session, party_id=party_id, keys=keys, now=now)


def party_of(session: Session, *, party_id: str, keys: CodeKeys, now: datetime) -> PartyView:
    """The party as it is now, read in the caller's transaction (the e-mail sender's too)."""
    members = session.scalars(_PARTY.where(Reservation.party_id == party_id)).all()
    if not members:
        raise errors.PartyNotFound()
    return PartyView(party_id, [current_view(session, member, keys, now) for member in members])


_PARTY = select(Reservation).order_by(Reservation.ticket_id)


def _party_view(
    session: Session,
    party: str | None,
    acted_on: list[Reservation],
    changed: list[Reservation],
    keys: CodeKeys,
    now: datetime,
) -> PartyView:
    """After a change: the whole party, or for a change of one reservation that reservation alone."""
    ids = frozenset(reservation.id for reservation in changed)
    if party is None:
        return PartyView(acted_on[0].party_id, [current_view(session, acted_on[0], keys, now)], ids)
    return replace(party_of(session, party_id=party, keys=keys, now=now), changed=ids)


def _canonical_codes(ticket_codes: list[str]) -> list[str]:
    if not ticket_codes:
        raise errors.ValidationFailed(fields={"ticket_codes": "give at least one ticket code"})
    if len(ticket_codes) > MAX_BATCH:
        raise errors.ValidationFailed(fields={"ticket_codes": f"at most {MAX_BATCH} tickets at once"})
    canonical = []
    for raw in ticket_codes:
        code = codes.normalise(raw)
        if code is None:
            raise errors.TicketNotFound(ticket_code=raw[:40])
        canonical.append(code)
    if len(set(canonical)) != len(canonical):
        raise errors.ValidationFailed(fields={"ticket_codes": "a ticket is listed twice"})
    return canonical


@dataclass(frozen=True)
class _LockedTicket:
    id: int
    code_hash: str
    orq: int
    status: TicketStatus
    valid_until: date | None


# The tickets, locked, each row with the slot and its venue beside it (nothing where there is no such
# slot): one round trip fewer on the busiest write. The slot is read, not locked: `take_places` decides.
_LOCK_TICKETS = (
    select(
        Ticket.id.label("ticket_id"),
        Ticket.code_hash,
        Ticket.orq.label("ticket_orq"),
        Ticket.status.label("ticket_status"),
        Ticket.valid_until,
        *(getattr(ReservationSlot, name) for name in _SLOT_FIELDS),
        Organization.timezone,
        SHOWN_NAME.label("name"),
        Organization.address,
        Organization.default_language,
    )
    .select_from(Ticket)
    .outerjoin(ReservationSlot, ReservationSlot.id == bindparam("slot"))
    .outerjoin(Organization, Organization.id == ReservationSlot.orq)
    .where(BY_CODES)
    .order_by(Ticket.id)
    .with_for_update(of=Ticket)
)


def _lock_tickets(
    session: Session, canonical: list[str], keys: CodeKeys, *, slot_id: int
) -> tuple[list[_LockedTicket], Row[Any] | None]:
    """The tickets in the order given, locked in id order, and the slot with its venue (None if none)."""
    hashes = [keys.lookup_hash(code) for code in canonical]
    rows = session.connection().execute(_LOCK_TICKETS, {"code_hashes": hashes, "slot": slot_id}).all()
    found = {
        row.code_hash: _LockedTicket(
            row.ticket_id, row.code_hash, row.ticket_orq, row.ticket_status, row.valid_until
        )
        for row in rows
    }
    for code, digest in zip(canonical, hashes, strict=True):
        if digest not in found:
            raise errors.TicketNotFound(ticket_code=code)
    slot = rows[0] if rows[0].id is not None else None
    return [found[digest] for digest in hashes], slot


def _get_or_raise(session: Session, reservation_id: str) -> Reservation:
    reservation = session.scalars(select(Reservation).where(Reservation.id == reservation_id)).first()
    if reservation is None:
        raise errors.ReservationNotFound()
    return reservation


def _lock_for_change(
    session: Session, members: ColumnElement[bool], keys: CodeKeys, now: datetime, *, party: str | None
) -> tuple[list[tuple[Reservation, Ticket]], Organization, datetime]:
    """Lock the tickets (in id order), then their live reservations; refuse unless there is at least one
    and each may still change. A reservation changes only under its ticket's lock, so the live ones read
    after it are the ones this change acts on: of a party, those still booked (PartyView.live), unless
    none is, when the first says why nothing can change."""
    ticket_ids = session.scalars(select(Reservation.ticket_id).where(members)).all()
    if not ticket_ids:
        raise errors.ReservationNotFound() if party is None else errors.PartyNotFound()
    tickets = {
        ticket.id: ticket
        for ticket in session.scalars(
            select(Ticket).where(Ticket.id.in_(ticket_ids)).order_by(Ticket.id).with_for_update()
        )
    }
    live = session.scalars(
        _PARTY.where(members, Reservation.status != ReservationStatus.CANCELLED)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if not live:
        raise errors.NotReserved()
    views = {reservation.id: current_view(session, reservation, keys, now) for reservation in live}
    if party is not None:
        booked = {member.reservation_id for member in PartyView(party, list(views.values())).live}
        live = [reservation for reservation in live if reservation.id in booked] or live
    locked = [(reservation, tickets[reservation.ticket_id]) for reservation in live]
    with _refusal_names(locked):
        for reservation in live:
            next_status(views[reservation.id].ticket_status, TicketEvent.MOVE)
    org = session.get_one(Organization, locked[0][1].orq)
    return locked, org, local_now(now, org.timezone)


@contextmanager
def _refusal_names(locked: list[tuple[Reservation, Ticket]]) -> Iterator[None]:
    """A refusal raised inside names the tickets the change would have acted on, for its log lines: of a
    party, those still booked, not the members it leaves as they are (with none booked, those whose
    state the refusal gives as its reason)."""
    try:
        yield
    except errors.DomainError as refused:
        refused.ticket_ids = [ticket.id for _, ticket in locked]
        raise


def current_view(
    session: Session, reservation: Reservation, keys: CodeKeys, now: datetime
) -> ReservationView:
    code = keys.unseal(reservation.ticket.code_sealed)
    ticket_view = view(session, reservation.ticket, code=code, now=now)
    org = session.get_one(Organization, reservation.orq)
    status = reservation.status
    if ticket_view.status is TicketStatus.EXPIRED and status is ReservationStatus.RESERVED:
        status = ReservationStatus.EXPIRED
    return _view(
        reservation,
        slot=reservation.slot,
        code=code,
        timezone=org.timezone,
        venue=shown_name(org),
        venue_address=org.address,
        ticket_status=ticket_view.status,
        status=status,
    )


def _view(
    reservation: _Booked,
    *,
    slot: ReservationSlot,
    code: str,
    timezone: str,
    venue: str,
    venue_address: str | None,
    ticket_status: TicketStatus,
    status: ReservationStatus,
) -> ReservationView:
    """The one answer about a reservation, from a loaded row or from one just written."""
    return ReservationView(
        reservation_id=reservation.id,
        ticket_id=reservation.ticket_id,
        ticket_code=code,
        ticket_status=ticket_status,
        status=status,
        slot=slot,
        customer_email=reservation.customer_email,
        customer_phone=reservation.customer_phone,
        reserved_at=reservation.reserved_at,
        sequence=reservation.sequence,
        timezone=timezone,
        venue=venue,
        venue_address=venue_address,
        language=reservation.language,
        party_id=reservation.party_id,
    )
