"""Every status change of a ticket goes through here, so that each one is audited."""

from __future__ import annotations

from collections.abc import Sequence
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


def change_statuses(
    connection: Connection,
    *,
    tickets: Sequence[tuple[int, TicketStatus]],
    orq: int,
    event: TicketEvent,
    actor: str,
    now: datetime,
    **columns: Any,
) -> None:
    """`apply_event` for tickets read as plain rows (the hot paths): two statements, however many tickets.

    `tickets` are (id, status) pairs whose rows the caller has locked. `columns` are set with the status.
    """
    moves = [(ticket_id, before, next_status(before, event)) for ticket_id, before in tickets]
    connection.execute(
        _UPDATE_TICKET,
        [
            {"ticket": ticket_id, "status": after, "updated_at": now, **columns}
            for ticket_id, _, after in moves
        ],
    )
    connection.execute(
        _INSERT_TRANSITION,
        [
            {
                "ticket_id": ticket_id,
                "orq": orq,
                "event": event,
                "from_status": before,
                "to_status": after,
                "actor": actor,
                "at": now,
            }
            for ticket_id, before, after in moves
        ],
    )


def operator_actor(operator_id: int) -> str:
    return f"operator:{operator_id}"


CUSTOMER = "customer"
SYSTEM = "system"
