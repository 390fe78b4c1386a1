"""Parties: the tickets booked together, on one page, moved or cancelled together; and the order link
their buyer books them from. Both are authorised by their unguessable ids, as a reservation is."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, BackgroundTasks, Depends, Path, Response
from pydantic import BaseModel

from admit import errors
from admit import ticket_pdf as printable
from admit.api.deps import ContextDep, SessionDep, limit_reservation_writes
from admit.api.reservations import (
    MoveIn,
    ReservationOut,
    full_out,
    links,
    party_link,
    private,
    qr_text,
    tell_dashboard,
)
from admit.api.schemas import TicketOut, TicketReservationOut
from admit.context import AppContext
from admit.errors import DomainError
from admit.services import reservations
from admit.services.identity import find_logo
from admit.services.order_link import order_by_link
from admit.services.reservations import PartyView
from admit.services.ticket_lookup import TicketRef, suffix_of, tickets_by_id
from admit.ticket_pdf import PrintedTicket

router = APIRouter(tags=["parties"])
log = structlog.get_logger()

Secret = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class PartyOut(BaseModel):
    party_id: str
    manage_url: str
    pdf_url: str
    # Every member, cancelled ones too, each with its own QR code: one person, one code at the door.
    reservations: list[ReservationOut]
    # The members a move or cancel of the whole party acts on (their reservation ids): those still
    # booked, not those already in, cancelled or expired.
    still_booked: list[str]


class OrderTicketReservationOut(TicketReservationOut):
    party_id: str


class OrderTicketOut(TicketOut):
    reservation: OrderTicketReservationOut | None = None


class OrderVenueOut(BaseModel):
    name: str
    timezone: str


class OrderLinkOut(BaseModel):
    orq: int
    venue: OrderVenueOut
    paid: bool
    tickets: list[OrderTicketOut]


def _party_out(party: PartyView, context: AppContext, session: SessionDep) -> PartyOut:
    link = party_link(context, party.party_id)
    return PartyOut(
        party_id=party.party_id,
        manage_url=link,
        pdf_url=f"{context.settings.public_url.rstrip('/')}/api/parties/{party.party_id}/tickets.pdf",
        reservations=[
            full_out(context, member, qr_text(member, context, session)) for member in party.members
        ],
        still_booked=[member.reservation_id for member in party.live],
    )


@router.get("/api/parties/{party_id}")
def get_party(party_id: Secret, context: ContextDep, session: SessionDep) -> PartyOut:
    party = reservations.get_party(session, party_id=party_id, keys=context.keys, now=context.clock.now())
    return _party_out(party, context, session)


@router.put("/api/parties/{party_id}", dependencies=[Depends(limit_reservation_writes)])
def move_party(
    party_id: Secret, body: MoveIn, background: BackgroundTasks, context: ContextDep, session: SessionDep
) -> PartyOut:
    """Move every member still booked into one slot, all or none (one member moves on its own page)."""
    try:
        party = reservations.move_party(
            session, party_id=party_id, slot_id=body.slot_id, keys=context.keys, now=context.clock.now()
        )
    except DomainError as refused:
        _refused("move", refused, context, session, slot_id=body.slot_id)
        raise
    _changed("moved", "reservation.modified", party, context)
    tell_dashboard(background, context, party.members[0].slot.orq)
    return _party_out(party, context, session)


@router.delete("/api/parties/{party_id}", dependencies=[Depends(limit_reservation_writes)])
def cancel_party(
    party_id: Secret, background: BackgroundTasks, context: ContextDep, session: SessionDep
) -> PartyOut:
    """Cancel every member still booked, all or none (one member cancels on its own page)."""
    try:
        party = reservations.cancel_party(
            session, party_id=party_id, keys=context.keys, now=context.clock.now()
        )
    except DomainError as refused:
        _refused("cancel", refused, context, session)
        raise
    _changed("cancelled", "reservation.cancelled", party, context)
    tell_dashboard(background, context, party.members[0].slot.orq)
    return _party_out(party, context, session)


def _changed(outcome: str, event: str, party: PartyView, context: AppContext) -> None:
    """Counted and logged per ticket, as a change of one reservation is: each ticket's story shows it."""
    changed = party.changed_members
    context.metrics.reservations.labels(outcome).inc(len(changed))
    for member in changed:
        log.info(
            event,
            ticket_id=member.ticket_id,
            code_suffix=suffix_of(member.ticket_code),
            reservation_id=member.reservation_id,
            slot_id=member.slot.id,
            party=True,
        )


def _refused(
    change: str,
    refused: DomainError,
    context: AppContext,
    session: SessionDep,
    **fields: object,
) -> None:
    context.metrics.refused_changes.labels(change, refused.code).inc()
    # One line per ticket the change would have acted on (the members still booked), like a single
    # change's: each one's story shows the refusal, and one already in, whose visit no change of the
    # party touches, shows none. A refusal before the members were read (no such party, or every member
    # cancelled) is one line that names no ticket.
    refs: list[TicketRef | None] = [*tickets_by_id(session, ticket_ids=refused.ticket_ids or [])]
    for ref in refs or [None]:
        log.info(
            "reservation.failed",
            change=change,
            ticket_id=ref.id if ref else None,
            code_suffix=ref.code_suffix if ref else None,
            party=True,
            reason=refused.code,
            **fields,
        )


@router.get("/api/parties/{party_id}/tickets.pdf", response_class=Response)
def party_pdf(party_id: Secret, context: ContextDep, session: SessionDep) -> Response:
    """One page per member still booked: the party's printout, each person's QR code on its own page."""
    party = reservations.get_party(session, party_id=party_id, keys=context.keys, now=context.clock.now())
    live = party.live
    if not live:
        raise errors.ReservationNotLive()
    printed = [
        PrintedTicket(
            member, qr_text(member, context, session), links(context, member.reservation_id)["manage_url"]
        )
        for member in live
    ]
    logo = find_logo(session, live[0].slot.orq)
    body = printable.ticket_pdf(printed, now=context.clock.now(), logo=logo.data if logo else None)
    headers = {**private(), "Content-Disposition": 'inline; filename="tickets.pdf"'}
    return Response(body, media_type="application/pdf", headers=headers)


@router.get("/api/order-links/{token}")
def order_link(token: Secret, context: ContextDep, session: SessionDep) -> OrderLinkOut:
    """The order's tickets as they are now (voided ones left out), for its buyer to activate and book."""
    order = order_by_link(session, token=token, keys=context.keys, now=context.clock.now())
    tickets = []
    for ticket in order.tickets:
        shown = TicketOut.of(ticket).model_dump()
        if ticket.reservation is not None:
            shown["reservation"] = {**shown["reservation"], "party_id": ticket.reservation.party_id}
        tickets.append(OrderTicketOut.model_validate(shown))
    return OrderLinkOut(
        orq=order.orq,
        venue=OrderVenueOut(name=order.venue, timezone=order.timezone),
        paid=order.paid,
        tickets=tickets,
    )
