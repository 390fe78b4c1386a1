"""Every status change of a ticket goes through here, so that each one is audited."""

from __future__ import annotations

from datetime import datetime

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


def operator_actor(operator_id: int) -> str:
    return f"operator:{operator_id}"


CUSTOMER = "customer"
SYSTEM = "system"
