"""Finding tickets by code: the one way a typed or scanned code becomes a row.

The database keeps only a keyed hash of each code (a leak hands out no valid codes), so a code is
normalised (case, separators, look-alike characters), hashed, and matched on `code_hash`. Every query
that finds tickets by code filters with `BY_CODE` (bound as `code_hash`, and `orq` where the look-up is
confined to one organization) or `BY_CODES` (bound as `code_hashes`); statements are built once at import.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, select
from sqlalchemy.orm import Session

from admit.db.models import Reservation, Ticket
from admit.security import codes
from admit.security.codes import CodeKeys

BY_CODE: ColumnElement[bool] = Ticket.code_hash == bindparam("code_hash")
# Another organization's ticket is not found at all, exactly as an unknown code.
BY_CODE_IN_ORGANIZATION: ColumnElement[bool] = and_(BY_CODE, Ticket.orq == bindparam("orq"))
BY_CODES: ColumnElement[bool] = Ticket.code_hash.in_(bindparam("code_hashes", expanding=True))


def lookup_hash(code: str, keys: CodeKeys) -> str | None:
    """What `code` is found by, or None when it cannot be a ticket code at all."""
    canonical = codes.normalise(code)
    return None if canonical is None else keys.lookup_hash(canonical)


def code_suffix(canonical: str | None, code: str) -> str:
    """What logs and scan events keep of a code: its last four characters, never the whole."""
    return (canonical or code.strip().upper())[-4:]


def suffix_of(code: str) -> str:
    return code_suffix(codes.normalise(code), code)


@dataclass(frozen=True)
class TicketRef:
    """A ticket as a log line names it: its id and its code's last four characters."""

    id: int
    code_suffix: str


def ticket_refs(session: Session, *, ticket_codes: list[str], keys: CodeKeys) -> list[TicketRef | None]:
    """The tickets of these codes, in their order (None for a code that is no ticket), in one read.

    For the log line of a refusal: the use case has rolled back and said why, not which tickets.
    """
    hashes = [lookup_hash(code, keys) for code in ticket_codes]
    with session.begin():
        found = {
            code_hash: TicketRef(ticket_id, suffix)
            for ticket_id, code_hash, suffix in session.execute(
                _REFS, {"code_hashes": [h for h in hashes if h is not None]}
            )
        }
    return [found.get(code_hash) if code_hash else None for code_hash in hashes]


def reservation_ticket(session: Session, *, reservation_id: str) -> TicketRef | None:
    """The ticket a reservation id belongs to, for the log line of a refused change."""
    with session.begin():
        row = session.execute(_OF_RESERVATION, {"reservation": reservation_id}).first()
    return None if row is None else TicketRef(*row)


def tickets_by_id(session: Session, *, ticket_ids: list[int]) -> list[TicketRef]:
    """These tickets, in id order, for the log lines of a refusal that named them."""
    if not ticket_ids:
        return []
    with session.begin():
        return [TicketRef(*row) for row in session.execute(_BY_IDS, {"ids": ticket_ids})]


_REFS = select(Ticket.id, Ticket.code_hash, Ticket.code_suffix).where(BY_CODES)
_OF_RESERVATION = (
    select(Ticket.id, Ticket.code_suffix)
    .join(Reservation, Reservation.ticket_id == Ticket.id)
    .where(Reservation.id == bindparam("reservation"))
)
_BY_IDS = (
    select(Ticket.id, Ticket.code_suffix)
    .where(Ticket.id.in_(bindparam("ids", expanding=True)))
    .order_by(Ticket.id)
)
