"""Offline bundles: what a scanner needs to decide a day's scans alone, signed by the organization.

A full bundle has one entry per ticket that is not VOID. A delta (`since`, the cursor of an earlier
bundle) has an entry for each ticket changed since, and the hashes of those voided since in `removed`;
the device replaces its entries by hash. Every status change writes a ticket transition (a move too:
RESERVED to RESERVED), so the organization's transitions are the change feed.

Transition ids are taken when a row is written, not when its transaction commits, so a transaction
still open while a bundle is read can commit a lower id than the bundle saw. A delta therefore also
takes the transitions written in the OVERLAP before the previous bundle; the device applies entries
idempotently, so an entry sent twice does no harm.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, bindparam, case, func, or_, select, type_coerce, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from admit import errors
from admit.db.models import (
    OfflineKey,
    Operator,
    Reservation,
    ReservationSlot,
    Ticket,
    TicketTransition,
    live_reservation_of,
)
from admit.domain import offline
from admit.domain.lifecycle import ReservationStatus, TicketStatus
from admit.domain.venue_time import zone
from admit.security.codes import CodeKeys
from admit.security.offline import BundleCursor, OfflineSecrets
from admit.services.organizations import Venue

# Longer than any write transaction stays open (row locks give up after seconds), plus any difference
# between the clocks of the nodes that write transitions and the one that made the cursor.
OVERLAP = timedelta(seconds=60)


@dataclass(frozen=True)
class OfflineKeyView:
    orq: int
    key_id: str
    public_key: str


@dataclass(frozen=True)
class Bundle:
    body: bytes  # the signed document as sent
    full: bool
    entries: int
    removed: int


def get_offline_key(
    session: Session, *, orq: int, offline_secrets: OfflineSecrets, now: datetime
) -> OfflineKeyView:
    """The organization's signing key, made on first use; nodes making it at once agree on one."""
    return _get_key(session, orq=orq, offline_secrets=offline_secrets, now=now)[0]


def build_bundle(
    session: Session,
    *,
    orq: int,
    day: date,
    since: str | None,
    venue: Venue,
    keys: CodeKeys,
    offline_secrets: OfflineSecrets,
    now: datetime,
) -> Bundle:
    """The signed bundle: full, or only what changed after the cursor `since`."""
    previous = _read_cursor(offline_secrets, since, orq=orq, day=day) if since is not None else None
    key, private_sealed = _get_key(session, orq=orq, offline_secrets=offline_secrets, now=now)
    with session.begin():
        connection = session.connection()
        # Read the feed's end before the tickets: a change in between is in both, never in neither.
        last = connection.execute(_LAST_TRANSITION, {"orq": orq}).scalar_one()
        if previous is None:
            rows = connection.execute(_FULL, {"orq": orq}).all()
        else:
            changed = {
                "orq": orq,
                "after": previous.last_transition,
                "from": previous.generated_at - OVERLAP,
            }
            rows = connection.execute(_CHANGED, changed).all()
    # The work without the database happens after its transaction: no lock is held for it.
    salt = previous.salt if previous else secrets.token_bytes(offline.SALT_BYTES)
    tickets, removed = _entries(rows, salt=salt, keys=keys, timezone=venue.timezone)
    cursor = BundleCursor(orq, day, salt, max(last, previous.last_transition if previous else 0), now)
    doc = {
        "orq": orq,
        "date": day.isoformat(),
        "timezone": venue.timezone,
        "policy": offline.policy_json(venue.policy),
        "generated_at": now.astimezone(zone(venue.timezone)).isoformat(),
        "full": previous is None,
        "cursor": offline_secrets.cursor(cursor),
        "salt": offline.b64url(salt),
        "key_id": key.key_id,
        "tickets": tickets,
        "removed": removed,
    }
    canonical = offline.canonical_json(doc)
    body = offline.signed_document(canonical, offline_secrets.sign(private_sealed, canonical))
    return Bundle(body, previous is None, len(tickets), len(removed))


def _read_cursor(offline_secrets: OfflineSecrets, since: str, *, orq: int, day: date) -> BundleCursor:
    try:
        cursor = offline_secrets.read_cursor(since)
    except (ValueError, TypeError) as exc:
        raise errors.ValidationFailed(fields={"since": "not a cursor from an offline bundle"}) from exc
    if cursor.orq != orq:  # told apart from a forged one by nothing: no hint of another organization
        raise errors.ValidationFailed(fields={"since": "not a cursor from an offline bundle"})
    if cursor.day != day:
        raise errors.ValidationFailed(
            fields={"since": f"continues the bundle of {cursor.day.isoformat()}: ask with that date"}
        )
    return cursor


def _get_key(
    session: Session, *, orq: int, offline_secrets: OfflineSecrets, now: datetime
) -> tuple[OfflineKeyView, str]:
    with session.begin():
        return signing_key(session, orq=orq, offline_secrets=offline_secrets, now=now)


def signing_key(
    session: Session, *, orq: int, offline_secrets: OfflineSecrets, now: datetime
) -> tuple[OfflineKeyView, str]:
    """(the key, its sealed private half), made on first use, inside the caller's transaction.

    Nodes making it at once agree on one: the loser's insert fails in its savepoint and it reads the
    winner's.
    """
    found = session.execute(_KEY, {"orq": orq}).first()
    if found is None:
        new = offline_secrets.new_key()
        try:
            with session.begin_nested():
                session.add(
                    OfflineKey(
                        orq=orq,
                        key_id=new.key_id,
                        public_key=new.public_key,
                        private_sealed=new.private_sealed,
                        created_at=now,
                    )
                )
        except IntegrityError:
            pass  # another request made the organization's key first: theirs is the one
        found = session.execute(_KEY, {"orq": orq}).one()
    key_id, public_key, private_sealed = found
    return OfflineKeyView(orq, key_id, public_key), private_sealed


def find_public_key(session: Session, *, orq: int) -> str | None:
    """The organization's public key inside the caller's transaction, None before it has one."""
    return session.execute(_PUBLIC_KEY, {"orq": orq}).scalar_one_or_none()


def _entries(
    rows: Sequence[Any], *, salt: bytes, keys: CodeKeys, timezone: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """The bundle's entries (tickets not VOID) and removed hashes (VOID), from rows of _tickets()."""
    venue_zone = zone(timezone)
    # The rows hold every live member of each party they touch (see _CHANGED), so counting them here
    # gives each party's size in its slot.
    sizes = Counter((row[-3], row[-2]) for row in rows if row[-1] in _BOOKED)
    reservations: dict[tuple[Any, ...], dict[str, Any]] = {}
    tickets: list[dict[str, Any]] = []
    removed: list[str] = []
    # Read as plain tuples: a hundred thousand rows make attribute look-ups count.
    for bulk, fernet, status, valid_until, verified_at, verified_by, *reserved in rows:
        # Tickets issued before bulk seals existed are opened from their Fernet seal, 20 times slower.
        h = offline.entry_hash(salt, keys.unseal_bulk(bulk) if bulk is not None else keys.unseal(fernet))
        if status == TicketStatus.VOID:
            removed.append(h)
            continue
        reservation = None if reserved[0] is None else _reservation(reserved, sizes, salt, reservations)
        tickets.append(
            offline.ticket_entry(
                h,
                status=status,
                valid_until=valid_until,
                reservation=reservation,
                verified_at_local=verified_at.astimezone(venue_zone) if verified_at else None,
                verified_by=verified_by,
            )
        )
    return tickets, removed


def _reservation(
    reserved: Sequence[Any], sizes: Counter[tuple[str, int]], salt: bytes, shown: dict[tuple[Any, ...], Any]
) -> dict[str, Any]:
    """An entry's live reservation: one dict per slot, version and party, shared by the entries showing it."""
    day, start, end, version, party_id, slot_id, _ = reserved
    size = sizes[party_id, slot_id]
    key = (day, start, end, version, party_id if size >= 2 else None)
    found = shown.get(key)
    if found is None:
        party = offline.party_json(size, salt=salt, party_id=party_id)
        found = shown[key] = offline.reservation_json(day, start, end, version, party=party)
    return found


# The statements are built once: building one costs more than running it.
_KEY = select(OfflineKey.key_id, OfflineKey.public_key, OfflineKey.private_sealed).where(
    OfflineKey.orq == bindparam("orq")
)
_PUBLIC_KEY = select(OfflineKey.public_key).where(OfflineKey.orq == bindparam("orq"))
_LAST_TRANSITION = select(func.coalesce(func.max(TicketTransition.id), 0)).where(
    TicketTransition.orq == bindparam("orq")
)


def _tickets() -> Select[Any]:
    """Tickets with who verified them and their live reservation's slot, version and party, in _entries'
    order."""
    return (
        select(
            Ticket.code_sealed_bulk.label("bulk"),
            case((Ticket.code_sealed_bulk.is_(None), Ticket.code_sealed)).label("fernet"),
            # The status as stored, a string: an enum made for each of 100,000 rows costs a tenth of a second.
            type_coerce(Ticket.status, String(20)).label("status"),
            Ticket.valid_until,
            Ticket.verified_at,
            Operator.name.label("verified_by"),
            ReservationSlot.date,
            ReservationSlot.start_time,
            ReservationSlot.end_time,
            Reservation.sequence,
            Reservation.party_id,
            Reservation.slot_id,
            type_coerce(Reservation.status, String(20)).label("reservation_status"),
        )
        .select_from(Ticket)
        .outerjoin(
            Reservation,
            live_reservation_of(Ticket.id),
        )
        .outerjoin(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
        .outerjoin(Operator, Operator.id == Ticket.verified_by)
        .where(Ticket.orq == bindparam("orq"))
    )


_BOOKED = frozenset({ReservationStatus.RESERVED.value, ReservationStatus.VERIFIED.value})
_FULL = _tickets().where(Ticket.status != TicketStatus.VOID)
_CHANGED_IDS = select(TicketTransition.ticket_id).where(
    TicketTransition.orq == bindparam("orq"),
    or_(TicketTransition.id > bindparam("after"), TicketTransition.at >= bindparam("from")),
)
# A member booked, moved or cancelled changes the size of its party in the slots it left and joined:
# every live member of such a party comes again with its new size, though its own ticket is unchanged.
_MEMBER, _TOUCHED = aliased(Reservation), aliased(Reservation)
_MEMBERS_OF_CHANGED = select(_MEMBER.ticket_id).where(
    _MEMBER.status.in_(_BOOKED),
    _MEMBER.party_id.in_(select(_TOUCHED.party_id).where(_TOUCHED.ticket_id.in_(_CHANGED_IDS))),
)
# One set of ids (a UNION, not an OR of two INs): the planner then looks each ticket up by its key.
_CHANGED = _tickets().where(Ticket.id.in_(union(_CHANGED_IDS, _MEMBERS_OF_CHANGED)))
