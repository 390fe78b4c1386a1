"""Writing to the outbox: always inside the caller's transaction, so a rollback leaves no e-mail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from admit.db.models import OutboxMessage, Reservation
from admit.domain.mail import MailKind, MailStatus


def enqueue_for_reservation(
    session: Session, reservation: Reservation, kind: MailKind, *, now: datetime
) -> None:
    """Queue the e-mail about a reservation; it may not be flushed yet, the outbox row follows it."""
    enqueue_for_members(session, [reservation], kind, now=now)


def enqueue_for_members(
    session: Session, members: list[Reservation], kind: MailKind, *, now: datetime
) -> None:
    """Queue one e-mail about a change to members of one party: about the reservation when it is one,
    else about the party with every member in it (the row names the first)."""
    first = members[0]
    enqueue(
        session,
        orq=first.orq,
        kind=kind,
        recipient=first.customer_email,
        now=now,
        reservation=first,
        ticket_id=first.ticket.id,
        party_id=party_named(first.party_id, members=len(members)),
    )


def party_named(party_id: str, *, members: int) -> str | None:
    """The party a message names: one about several members is about their party; one about a single
    member is that reservation's own, even when it was booked with others."""
    return party_id if members > 1 else None


def enqueue(
    session: Session,
    *,
    orq: int,
    kind: MailKind,
    recipient: str,
    now: datetime,
    reservation: Reservation | None = None,
    ticket_id: int | None = None,
    dedupe_key: str | None = None,
    party_id: str | None = None,
) -> None:
    """Queue one message (reminders, queued once each by their dedupe key, are queued set-based)."""
    row = message_row(
        orq=orq,
        kind=kind,
        recipient=recipient,
        now=now,
        ticket_id=ticket_id,
        dedupe_key=dedupe_key,
        party_id=party_id,
    )
    # Through the relationship, the reservation's row is written first and its id filled in here.
    session.add(OutboxMessage(**row, reservation=reservation))


_INSERT = insert(OutboxMessage)


def enqueue_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue messages given as `message_row`s with one statement (the booking path, many tickets at once)."""
    session.connection().execute(_INSERT, rows)


def message_row(
    *,
    orq: int,
    kind: MailKind,
    recipient: str,
    now: datetime,
    reservation_id: str | None = None,
    ticket_id: int | None = None,
    dedupe_key: str | None = None,
    party_id: str | None = None,
) -> dict[str, Any]:
    """The columns of a message waiting to be sent; with `party_id`, about the whole party."""
    return {
        "orq": orq,
        "kind": kind,
        "reservation_id": reservation_id,
        "ticket_id": ticket_id,
        "recipient": recipient,
        "dedupe_key": dedupe_key,
        "party_id": party_id,
        "status": MailStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
