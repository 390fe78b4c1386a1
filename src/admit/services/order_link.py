"""The order link: its buyer sees the order's tickets as they are now, to activate and book them together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Order, Organization, Ticket
from admit.domain.lifecycle import TicketStatus
from admit.security.codes import CodeKeys
from admit.services.organizations import shown_name
from admit.services.tickets import TicketView, view


def order_link(public_url: str, token: str) -> str:
    """The order link's address, in the API's answer and the buyer's e-mail alike."""
    return f"{public_url.rstrip('/')}/reserve?order={token}"


@dataclass(frozen=True)
class OrderLinkView:
    orq: int
    venue: str
    timezone: str
    paid: bool
    tickets: list[TicketView]  # as `order_tickets` gives them


def order_tickets(session: Session, *, order_id: str) -> Sequence[Ticket]:
    """An order's tickets as its buyer is shown them, on the order link and in the order e-mail alike:
    voided ones left out, in the order they were issued."""
    return session.scalars(
        select(Ticket)
        .where(Ticket.order_id == order_id, Ticket.status != TicketStatus.VOID)
        .order_by(Ticket.id)
    ).all()


def order_by_link(session: Session, *, token: str, keys: CodeKeys, now: datetime) -> OrderLinkView:
    with session.begin():
        order = session.scalars(select(Order).where(Order.link_token == token)).first()
        if order is None:
            raise errors.OrderNotFound()
        org = session.get_one(Organization, order.orq)
        tickets = order_tickets(session, order_id=order.id)
        return OrderLinkView(
            orq=org.id,
            venue=shown_name(org),
            timezone=org.timezone,
            paid=order.paid,
            tickets=[
                view(session, ticket, code=keys.unseal(ticket.code_sealed), now=now) for ticket in tickets
            ],
        )
