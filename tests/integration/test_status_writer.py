"""One ticket status writer: the ORM path and the hot routes' plain statements write the same change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from admit.context import AppContext
from admit.db.models import TicketTransition
from admit.domain.lifecycle import TicketEvent
from admit.services.tickets import get_ticket_or_raise
from admit.services.transitions import SYSTEM, apply_event, change_statuses
from tests.builders import Builders

# Paid on activation, booked, cancelled: the cancel returns to ACTIVATED but is not an activation.
STEPS = (TicketEvent.PAY_IMMEDIATE, TicketEvent.RESERVE, TicketEvent.CANCEL)


def walk(context: AppContext, code: str, *, plain_statements: bool) -> None:
    start = context.clock.now()
    for minutes, event in enumerate(STEPS):
        now = start + timedelta(minutes=minutes)
        with context.sessions() as session, session.begin():
            ticket = get_ticket_or_raise(session, code=code, keys=context.keys, lock=True)
            if plain_statements:
                tickets = [(ticket.id, ticket.status)]
                change_statuses(
                    session.connection(), tickets=tickets, orq=ticket.orq, event=event, actor=SYSTEM, now=now
                )
            else:
                apply_event(session, ticket, event, actor=SYSTEM, now=now)


def written(context: AppContext, code: str) -> dict[str, Any]:
    with context.sessions() as session, session.begin():
        ticket = get_ticket_or_raise(session, code=code, keys=context.keys)
        audit = session.execute(
            select(
                TicketTransition.event,
                TicketTransition.from_status,
                TicketTransition.to_status,
                TicketTransition.at,
            )
            .where(TicketTransition.ticket_id == ticket.id)
            .order_by(TicketTransition.id)
        ).all()
        return {
            "status": ticket.status,
            "activated_at": ticket.activated_at,
            "updated_at": ticket.updated_at,
            "audit": [tuple(row) for row in audit],
        }


@pytest.mark.parametrize("plain_statements", [False, True], ids=["orm", "plain"])
def test_activation_keeps_its_first_moment_through_a_cancel(
    make: Builders, context: AppContext, plain_statements: bool
) -> None:
    orq = make.org()
    code = make.ticket(orq, "PENDING_PAYMENT")
    walk(context, code, plain_statements=plain_statements)
    after = written(context, code)
    assert after["status"] == "ACTIVATED"
    assert after["activated_at"] == context.clock.now()
    assert after["updated_at"] == context.clock.now() + timedelta(minutes=2)


def test_both_paths_write_the_same_columns_and_audit(make: Builders, context: AppContext) -> None:
    orq = make.org()
    by_orm, by_statements = make.ticket(orq, "PENDING_PAYMENT"), make.ticket(orq, "PENDING_PAYMENT")
    walk(context, by_orm, plain_statements=False)
    walk(context, by_statements, plain_statements=True)
    orm, plain = written(context, by_orm), written(context, by_statements)
    assert orm == plain
    assert [event for event, *_ in orm["audit"]] == ["issue", *STEPS]
