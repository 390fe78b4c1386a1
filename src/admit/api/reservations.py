"""Reservations, for visitors: authorised by ticket code to book, by the unguessable id after that."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, BackgroundTasks, Depends, Path, Request, Response
from pydantic import BaseModel, Field, StrictInt, StrictStr, model_validator

from admit import confirmation, errors
from admit import ticket_pdf as printable
from admit import wallet_pass as wallet
from admit.api.deps import ContextDep, SessionDep, limit_reservation_writes
from admit.api.languages import Language, requested_language
from admit.api.schemas import MAX_ID, Body, SlotOut
from admit.context import AppContext
from admit.domain.countries import is_country
from admit.domain.lifecycle import ReservationStatus
from admit.errors import DomainError
from admit.services import reservations
from admit.services.capacity import slot_json
from admit.services.identity import find_logo, phone_region_of_slot
from admit.services.reservation_qr import qr_payload
from admit.services.reservations import MAX_BATCH, ReservationView, checked_contact
from admit.services.ticket_lookup import reservation_ticket, suffix_of, ticket_refs
from admit.ticket_pdf import PrintedTicket

router = APIRouter(tags=["reservations"])
log = structlog.get_logger()

ReservationId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
SlotId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Code = Annotated[StrictStr, Field(min_length=1, max_length=80)]


class ReservationIn(Body):
    ticket_code: Code | None = None
    ticket_codes: list[Code] | None = Field(default=None, min_length=1, max_length=MAX_BATCH)
    slot_id: SlotId
    customer_email: StrictStr = Field(max_length=320)
    customer_phone: StrictStr = Field(max_length=40)
    # The country a phone number without its country code is in; by default the venue's.
    phone_country: StrictStr | None = Field(default=None, max_length=2)
    language: Language | None = Field(
        default=None,
        description="The language of its e-mails, calendar entry, printed ticket and wallet pass; by default "
        "the request's Accept-Language, else the venue's default language.",
    )

    @model_validator(mode="after")
    def _codes(self) -> ReservationIn:
        if (self.ticket_code is None) == (self.ticket_codes is None):
            raise ValueError("give ticket_code or ticket_codes")
        return self

    def codes(self) -> list[str]:
        return self.ticket_codes or [self.ticket_code or ""]


class MoveIn(Body):
    slot_id: SlotId


class ReservationBriefOut(BaseModel):
    reservation_id: str
    ticket_code: str
    slot_id: int
    date: str
    start_time: str
    end_time: str
    status: ReservationStatus
    qr_code_url: str
    calendar_url: str
    manage_url: str


class ReservationsOut(BaseModel):
    reservations: list[ReservationBriefOut]
    party_id: str = Field(
        description="The tickets booked together: their shared page, moved or cancelled together."
    )
    party_url: str


class ReservationTicketOut(BaseModel):
    code: str
    status: str


class VenueOut(BaseModel):
    name: str
    timezone: str


class ReservationOut(ReservationBriefOut):
    qr_payload: str
    ticket: ReservationTicketOut
    slot: SlotOut
    customer_email: str
    customer_phone: str
    reserved_at: str
    venue: VenueOut


def links(context: AppContext, reservation_id: str) -> dict[str, str]:
    base = context.settings.public_url.rstrip("/")
    return {
        "qr_code_url": f"{base}/api/reservations/{reservation_id}/qr.png",
        "calendar_url": f"{base}/api/reservations/{reservation_id}/calendar.ics",
        "manage_url": f"{base}/reserve/{reservation_id}",
    }


def party_link(context: AppContext, party_id: str) -> str:
    return f"{context.settings.public_url.rstrip('/')}/reserve/party/{party_id}"


def _brief_fields(context: AppContext, reservation: ReservationView) -> dict[str, object]:
    slot = reservation.slot
    return {
        "reservation_id": reservation.reservation_id,
        "ticket_code": reservation.ticket_code,
        "slot_id": slot.id,
        "date": slot.date.isoformat(),
        "start_time": slot.start_time.strftime("%H:%M"),
        "end_time": slot.end_time.strftime("%H:%M"),
        "status": reservation.status,
        **links(context, reservation.reservation_id),
    }


def brief_out(context: AppContext, reservation: ReservationView) -> ReservationBriefOut:
    return ReservationBriefOut.model_validate(_brief_fields(context, reservation))


def full_out(context: AppContext, reservation: ReservationView, qr_payload: str) -> ReservationOut:
    return ReservationOut.model_validate(
        {
            **_brief_fields(context, reservation),
            "qr_payload": qr_payload,
            "ticket": {"code": reservation.ticket_code, "status": reservation.ticket_status.value},
            "slot": slot_json(reservation.slot),
            "customer_email": reservation.customer_email,
            "customer_phone": reservation.customer_phone,
            "reserved_at": reservation.reserved_at.isoformat(),
            "venue": {"name": reservation.venue, "timezone": reservation.timezone},
        }
    )


def _phone_region(body: ReservationIn, session: SessionDep) -> str | None:
    if body.phone_country is not None:
        if not is_country(body.phone_country):
            raise errors.InvalidContact(fields={"phone_country": "an ISO 3166 country code, e.g. NL"})
        return body.phone_country
    if body.customer_phone.strip().startswith("+"):
        return None  # the number names its country: no look-up on the busiest write
    return phone_region_of_slot(session, body.slot_id)


def tell_dashboard(background: BackgroundTasks, context: AppContext, orq: int) -> None:
    """A booking, move or cancel changes the booked counts on the live dashboard: it is told once the
    answer has gone, so the visitor never waits for that write, and its failure is only logged (see
    admit.live)."""
    if context.live.due(orq):
        background.add_task(context.live.touched, orq)


def _create(
    body: ReservationIn,
    request: Request,
    background: BackgroundTasks,
    context: AppContext,
    session: SessionDep,
) -> ReservationsOut:
    try:
        contact = checked_contact(body.customer_email, body.customer_phone, _phone_region(body, session))
        made = reservations.reserve(
            session,
            ticket_codes=body.codes(),
            slot_id=body.slot_id,
            contact=contact,
            keys=context.keys,
            now=context.clock.now(),
            language=requested_language(body.language, request),
        )
    except DomainError as refused:
        context.metrics.reservations.labels(refused.code).inc()
        codes = body.codes()
        ids: list[int | None] = list(refused.ticket_ids or [])
        if len(ids) != len(codes):  # refused before the tickets were read
            refs = ticket_refs(session, ticket_codes=codes, keys=context.keys)
            ids = [ref.id if ref else None for ref in refs]
        # One line per ticket, like a booking's: each ticket's story shows the refusal.
        for code, ticket_id in zip(codes, ids, strict=True):
            log.info(
                "reservation.failed",
                ticket_id=ticket_id,
                code_suffix=suffix_of(code),
                slot_id=body.slot_id,
                tickets=len(codes),
                reason=refused.code,
            )
        raise
    context.metrics.reservations.labels("created").inc(len(made))
    for made_one in made:
        log.info(
            "reservation.created",
            ticket_id=made_one.ticket_id,
            code_suffix=suffix_of(made_one.ticket_code),
            reservation_id=made_one.reservation_id,
            slot_id=body.slot_id,
        )
    tell_dashboard(background, context, made[0].slot.orq)
    party = made[0].party_id
    return ReservationsOut(
        reservations=[brief_out(context, r) for r in made],
        party_id=party,
        party_url=party_link(context, party),
    )


@router.post("/api/reservations", status_code=201, dependencies=[Depends(limit_reservation_writes)])
def create_reservations(
    body: ReservationIn,
    request: Request,
    background: BackgroundTasks,
    context: ContextDep,
    session: SessionDep,
) -> ReservationsOut:
    return _create(body, request, background, context, session)


@router.post("/api/reservations/create", status_code=201, dependencies=[Depends(limit_reservation_writes)])
def create_reservation(
    body: ReservationIn,
    request: Request,
    background: BackgroundTasks,
    context: ContextDep,
    session: SessionDep,
) -> ReservationsOut:
    return _create(body, request, background, context, session)


@router.get("/api/reservations/{reservation_id}")
def get_reservation(
    reservation_id: ReservationId, context: ContextDep, session: SessionDep
) -> ReservationOut:
    found = _found(reservation_id, context, session)
    return full_out(context, found, qr_text(found, context, session))


@router.put("/api/reservations/{reservation_id}", dependencies=[Depends(limit_reservation_writes)])
def move_reservation(
    reservation_id: ReservationId,
    body: MoveIn,
    background: BackgroundTasks,
    context: ContextDep,
    session: SessionDep,
) -> ReservationOut:
    try:
        moved = reservations.move_reservation(
            session,
            reservation_id=reservation_id,
            slot_id=body.slot_id,
            keys=context.keys,
            now=context.clock.now(),
        )
    except DomainError as refused:
        _refused_change("move", refused, reservation_id, context, session, slot_id=body.slot_id)
        raise
    context.metrics.reservations.labels("moved").inc()
    log.info(
        "reservation.modified",
        ticket_id=moved.ticket_id,
        code_suffix=suffix_of(moved.ticket_code),
        reservation_id=reservation_id,
        slot_id=moved.slot.id,
    )
    tell_dashboard(background, context, moved.slot.orq)
    return full_out(context, moved, qr_text(moved, context, session))


@router.delete("/api/reservations/{reservation_id}", dependencies=[Depends(limit_reservation_writes)])
def cancel_reservation(
    reservation_id: ReservationId, background: BackgroundTasks, context: ContextDep, session: SessionDep
) -> ReservationOut:
    try:
        cancelled = reservations.cancel_reservation(
            session, reservation_id=reservation_id, keys=context.keys, now=context.clock.now()
        )
    except DomainError as refused:
        _refused_change("cancel", refused, reservation_id, context, session)
        raise
    context.metrics.reservations.labels("cancelled").inc()
    log.info(
        "reservation.cancelled",
        ticket_id=cancelled.ticket_id,
        code_suffix=suffix_of(cancelled.ticket_code),
        reservation_id=reservation_id,
        slot_id=cancelled.slot.id,
    )
    tell_dashboard(background, context, cancelled.slot.orq)
    return full_out(context, cancelled, qr_text(cancelled, context, session))


def _refused_change(
    change: str,
    refused: DomainError,
    reservation_id: str,
    context: AppContext,
    session: SessionDep,
    **fields: object,
) -> None:
    context.metrics.refused_changes.labels(change, refused.code).inc()
    ref = reservation_ticket(session, reservation_id=reservation_id)
    log.info(
        "reservation.failed",
        change=change,
        ticket_id=ref.id if ref else None,
        code_suffix=ref.code_suffix if ref else None,
        reservation_id=reservation_id,
        reason=refused.code,
        **fields,
    )


def _found(reservation_id: str, context: AppContext, session: SessionDep) -> ReservationView:
    return reservations.get_reservation(
        session, reservation_id=reservation_id, keys=context.keys, now=context.clock.now()
    )


def qr_text(reservation: ReservationView, context: AppContext, session: SessionDep) -> str:
    """What the reservation's QR code shows: its signed claim."""
    return qr_payload(
        session, reservation=reservation, offline_secrets=context.offline, now=context.clock.now()
    )


@router.get("/api/reservations/{reservation_id}/qr.png", response_class=Response)
def qr_png(reservation_id: ReservationId, context: ContextDep, session: SessionDep) -> Response:
    found = _found(reservation_id, context, session)
    return Response(
        confirmation.qr_png(qr_text(found, context, session)), media_type="image/png", headers=private()
    )


@router.get("/api/reservations/{reservation_id}/qr.svg", response_class=Response)
def qr_svg(reservation_id: ReservationId, context: ContextDep, session: SessionDep) -> Response:
    found = _found(reservation_id, context, session)
    return Response(
        confirmation.qr_svg(qr_text(found, context, session), code=found.ticket_code),
        media_type="image/svg+xml",
        headers=private(),
    )


@router.get("/api/reservations/{reservation_id}/calendar.ics", response_class=Response)
def calendar(reservation_id: ReservationId, context: ContextDep, session: SessionDep) -> Response:
    found = _found(reservation_id, context, session)
    now: datetime = context.clock.now()
    method = "CANCEL" if found.status is ReservationStatus.CANCELLED else "PUBLISH"
    body = confirmation.calendar_ics(
        found, link=links(context, reservation_id)["manage_url"], now=now, method=method
    )
    headers = {**private(), "Content-Disposition": 'attachment; filename="visit.ics"'}
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


@router.get("/api/reservations/{reservation_id}/ticket.pdf", response_class=Response)
def ticket_pdf(reservation_id: ReservationId, context: ContextDep, session: SessionDep) -> Response:
    found = _live(reservation_id, context, session)
    link = links(context, reservation_id)["manage_url"]
    printed = PrintedTicket(found, qr_text(found, context, session), link)
    logo = find_logo(session, found.slot.orq)
    body = printable.ticket_pdf([printed], now=context.clock.now(), logo=logo.data if logo else None)
    name = f"ticket-{found.ticket_code[-4:]}.pdf"
    headers = {**private(), "Content-Disposition": f'inline; filename="{name}"'}
    return Response(body, media_type="application/pdf", headers=headers)


@router.get("/api/reservations/{reservation_id}/pass.pkpass", response_class=Response)
def wallet_pass(reservation_id: ReservationId, context: ContextDep, session: SessionDep) -> Response:
    if context.wallet is None:
        raise errors.WalletPassNotConfigured()
    found = _live(reservation_id, context, session)
    link = links(context, reservation_id)["manage_url"]
    body = wallet.pkpass(found, qr_text=qr_text(found, context, session), link=link, signer=context.wallet)
    headers = {**private(), "Content-Disposition": f'attachment; filename="{wallet.pass_name(found)}"'}
    return Response(body, media_type="application/vnd.apple.pkpass", headers=headers)


def _live(reservation_id: str, context: AppContext, session: SessionDep) -> ReservationView:
    """A reservation that can still be used: a printout or pass of any other would not get anyone in."""
    found = _found(reservation_id, context, session)
    if found.status is not ReservationStatus.RESERVED:
        raise errors.ReservationNotLive()
    return found


def private() -> dict[str, str]:
    # The QR code is the ticket itself: never kept by shared caches.
    return {"Cache-Control": "private, no-store"}
