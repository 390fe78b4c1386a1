"""Issuance: orders make tickets; payment confirms them; an admin can void one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Order, Organization, Ticket
from admit.domain.lifecycle import ActivationMode, ReservationStatus, TicketEvent, TicketStatus, payment_event
from admit.domain.mail import MailKind
from admit.domain.venue_time import local_now
from admit.outbox.writer import enqueue, enqueue_for_reservation
from admit.security import codes
from admit.security.codes import CodeKeys
from admit.services.capacity import lock_slots, release_places
from admit.services.tickets import get_ticket_or_raise, live_reservation
from admit.services.transitions import apply_event, operator_actor, record

MAX_QUANTITY = 500


@dataclass(frozen=True)
class IssuedTicket:
    code: str
    status: TicketStatus


@dataclass(frozen=True)
class IssuedOrder:
    order_id: str
    paid: bool
    tickets: list[IssuedTicket]
    link_token: str  # the buyer's order link: `/reserve?order=<link_token>`


def create_order(
    session: Session,
    *,
    orq: int,
    quantity: int,
    activation_mode: ActivationMode,
    paid: bool,
    customer_email: str | None,
    valid_until: date | None,
    keys: CodeKeys,
    actor_id: int,
    now: datetime,
    language: str | None = None,
) -> IssuedOrder:
    """Issue `quantity` tickets; the codes are returned here once and stored only hashed and sealed.
    The buyer's e-mail is written in `language` (one of LANGUAGES), else in the venue's default."""
    with session.begin():
        org = session.get(Organization, orq)
        if org is None:
            raise errors.OrganizationNotFound()
        if valid_until is not None and valid_until < local_now(now, org.timezone).date():
            raise errors.ValidationFailed(fields={"valid_until": "must not be before today (venue time)"})
        order = Order(
            id=secrets.token_hex(16),
            orq=orq,
            quantity=quantity,
            activation_mode=activation_mode,
            paid=paid,
            customer_email=customer_email,
            valid_until=valid_until,
            created_at=now,
            paid_at=now if paid else None,
            language=language or org.default_language,
            link_token=secrets.token_urlsafe(16),
        )
        session.add(order)
        issued = []
        for _ in range(quantity):
            code = codes.new_code()
            ticket = Ticket(
                orq=orq,
                order_id=order.id,
                code_hash=keys.lookup_hash(code),
                code_suffix=codes.suffix(code),
                code_sealed=keys.seal(code),
                code_sealed_bulk=keys.seal_for_bulk(code),
                status=TicketStatus.PENDING_PAYMENT,
                activation_mode=activation_mode,
                valid_until=valid_until,
                customer_email=customer_email,
                created_at=now,
                updated_at=now,
            )
            session.add(ticket)
            actor = operator_actor(actor_id)
            record(session, ticket, TicketEvent.ISSUE, before=None, actor=actor, now=now)
            if paid:
                apply_event(session, ticket, payment_event(activation_mode), actor=actor, now=now)
            issued.append(IssuedTicket(code=code, status=ticket.status))
        if paid:
            session.flush()  # the tickets' ids, for the order e-mail's row
            _queue_order_mail(session, order, now=now)
    return IssuedOrder(order_id=order.id, paid=paid, tickets=issued, link_token=order.link_token)


def confirm_payment(
    session: Session, *, order_id: str, orq: int, keys: CodeKeys, actor_id: int, now: datetime
) -> IssuedOrder:
    """Tickets awaiting payment become INACTIVE or ACTIVATED; confirming again changes nothing."""
    with session.begin():
        order = session.scalars(
            select(Order).where(Order.id == order_id, Order.orq == orq).with_for_update()
        ).first()
        if order is None:
            raise errors.OrderNotFound()
        tickets = list(
            session.scalars(
                select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.id).with_for_update()
            )
        )
        if not order.paid:
            order.paid = True
            order.paid_at = now
            for ticket in tickets:
                if ticket.status is TicketStatus.PENDING_PAYMENT:
                    event = payment_event(order.activation_mode)
                    apply_event(session, ticket, event, actor=operator_actor(actor_id), now=now)
            _queue_order_mail(session, order, now=now)
    issued = [IssuedTicket(code=keys.unseal(t.code_sealed), status=t.status) for t in tickets]
    return IssuedOrder(order_id=order.id, paid=True, tickets=issued, link_token=order.link_token)


def _queue_order_mail(session: Session, order: Order, *, now: datetime) -> None:
    """The buyer's one e-mail with the tickets, once the order is paid and only if an address was given.

    Its dedupe key names the order, so no path (a repeated confirmation included) can queue a second.
    """
    if order.customer_email is None:
        return
    first = session.scalar(select(Ticket.id).where(Ticket.order_id == order.id).order_by(Ticket.id).limit(1))
    enqueue(
        session,
        orq=order.orq,
        kind=MailKind.ORDER,
        recipient=order.customer_email,
        now=now,
        ticket_id=first,
        dedupe_key=f"order:{order.id}",
    )


def void_ticket(
    session: Session, *, code: str, orq: int, keys: CodeKeys, actor_id: int, now: datetime
) -> Ticket:
    """Revoke a ticket for good (refund, fraud); a place it holds in a coming slot is freed."""
    with session.begin():
        ticket = get_ticket_or_raise(session, code=code, keys=keys, orq=orq, lock=True)
        reservation = live_reservation(session, ticket, lock=True)
        apply_event(session, ticket, TicketEvent.VOID, actor=operator_actor(actor_id), now=now)
        if reservation is not None and reservation.status is ReservationStatus.RESERVED:
            lock_slots(session, [reservation.slot_id])
            release_places(session, reservation.slot, 1, now=now)
            reservation.status = ReservationStatus.CANCELLED
            reservation.cancelled_at = reservation.updated_at = now
            enqueue_for_reservation(session, reservation, MailKind.CANCELLATION, now=now)
    return ticket
