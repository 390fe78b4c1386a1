"""Every status change of a ticket goes through here, so that each one is audited.

`status_change` is the one definition of what a change writes (the status, its time, the moment of
activation, the audit row); the ORM path (`apply_event`) and the plain-statement path of the hot
routes (`change_statuses`) both write exactly that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.orm import Session

from admit.db.models import Ticket, TicketTransition
from admit.domain.lifecycle import TicketEvent, TicketStatus, activates, next_status


def status_change(before: TicketStatus, event: TicketEvent, *, now: datetime) -> dict[str, Any]:
    """The ticket columns that `event` writes from `before` (or the domain refusal)."""
    after = next_status(before, event)
    if activates(before, after):
        return {"status": after, "updated_at": now, "activated_at": now}
    return {"status": after, "updated_at": now}


def apply_event(session: Session, ticket: Ticket, event: TicketEvent, *, actor: str, now: datetime) -> None:
    """Move `ticket` through `event` (or raise the domain refusal) and record who did it."""
    before = ticket.status
    for column, value in status_change(before, event, now=now).items():
        setattr(ticket, column, value)
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
    row = audit_row(orq=ticket.orq, event=event, before=before, after=ticket.status, actor=actor, now=now)
    session.add(TicketTransition(ticket=ticket, **row))


def audit_row(
    *,
    orq: int,
    event: TicketEvent,
    before: TicketStatus | None,
    after: TicketStatus,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """The transition row of one change, less its ticket."""
    return {"orq": orq, "event": event, "from_status": before, "to_status": after, "actor": actor, "at": now}


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
    changes = [(ticket_id, before, status_change(before, event, now=now)) for ticket_id, before in tickets]
    # One UPDATE per set of columns written (an executemany needs the same columns in every row); an
    # event moves all its tickets alike, so in practice this is one statement.
    updates: dict[frozenset[str], list[dict[str, Any]]] = {}
    for ticket_id, _, change in changes:
        updates.setdefault(frozenset(change), []).append({"ticket": ticket_id, **change, **columns})
    for rows in updates.values():
        connection.execute(_UPDATE_TICKET, rows)
    connection.execute(
        _INSERT_TRANSITION,
        [
            {
                "ticket_id": ticket_id,
                **audit_row(
                    orq=orq, event=event, before=before, after=change["status"], actor=actor, now=now
                ),
            }
            for ticket_id, before, change in changes
        ],
    )


def operator_actor(operator_id: int) -> str:
    return f"operator:{operator_id}"


CUSTOMER = "customer"
SYSTEM = "system"
