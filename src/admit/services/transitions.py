"""Every status change of a ticket goes through here, so that each one is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.orm import Session

from admit.db.models import Ticket, TicketTransition
from admit.domain.lifecycle import TicketEvent, TicketStatus, next_status


def apply_event(session: Session, ticket: Ticket, event: TicketEvent, *, actor: str, now: datetime) -> None:
    """Move `ticket` through `event` (or raise the domain refusal) and record who did it."""
    before = ticket.status
    ticket.status = next_status(before, event)
    ticket.updated_at = now
    if ticket.status is TicketStatus.ACTIVATED and ticket.activated_at is None:
        ticket.activated_at = now
    record(session, ticket, event, before=before, actor=actor, now=now)


def record(
    session: Session,
    ticket: Ticket,
    event: TicketEvent,
    *,
    before: TicketStatus | None,
    actor: str,
    now: datetime,
) -> None:
    session.add(
        TicketTransition(
            ticket=ticket,
            orq=ticket.orq,
            event=event,
            from_status=before,
            to_status=ticket.status,
            actor=actor,
            at=now,
        )
    )


# Built once (the door's path). With no values given, the update sets the columns named in its parameters.
_UPDATE_TICKET = update(Ticket).where(Ticket.id == bindparam("ticket"))
_INSERT_TRANSITION = insert(TicketTransition)


def change_status(
    connection: Connection,
    *,
    ticket_id: int,
    orq: int,
    before: TicketStatus,
    event: TicketEvent,
    actor: str,
    now: datetime,
    **columns: Any,
) -> TicketStatus:
    """`apply_event` for a ticket read as a plain row (the door's path): two statements, no objects.

    The caller holds the ticket's row lock, so `before` is still its status. `columns` are set with it.
    """
    after = next_status(before, event)
    connection.execute(_UPDATE_TICKET, {"ticket": ticket_id, "status": after, "updated_at": now, **columns})
    connection.execute(
        _INSERT_TRANSITION,
        {
            "ticket_id": ticket_id,
            "orq": orq,
            "event": event,
            "from_status": before,
            "to_status": after,
            "actor": actor,
            "at": now,
        },
    )
    return after


def operator_actor(operator_id: int) -> str:
    return f"operator:{operator_id}"


CUSTOMER = "customer"
SYSTEM = "system"
