"""Issuance (admin): orders, payment confirmation, voiding."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr, field_validator

from admit import errors
from admit.api.deps import AdminDep, ContextDep, SessionDep
from admit.api.languages import Language, requested_language
from admit.api.schemas import MAX_ID, Body, IsoDate, TicketOut
from admit.context import AppContext
from admit.domain.contact import ContactError, normalise_email
from admit.domain.lifecycle import ActivationMode
from admit.services import issuance, tickets
from admit.services.issuance import MAX_QUANTITY, IssuedOrder
from admit.services.order_link import order_link

router = APIRouter(tags=["issuance"])

CodePath = Annotated[str, Path(max_length=80)]


class OrderIn(Body):
    orq: StrictInt = Field(ge=1, le=MAX_ID)
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY)
    activation_mode: ActivationMode
    paid: StrictBool
    customer_email: StrictStr | None = Field(default=None, max_length=320)
    valid_until: IsoDate | None = None
    language: Language | None = Field(
        default=None,
        description="The language of the buyer's e-mail; by default the request's Accept-Language, else the "
        "venue's default language.",
    )

    @field_validator("customer_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalise_email(value)
        except ContactError as exc:
            raise ValueError(exc.reason) from exc


class IssuedTicketOut(BaseModel):
    code: str
    status: str


class OrderOut(BaseModel):
    order_id: str
    status: str
    tickets: list[IssuedTicketOut]
    order_url: str = Field(
        description="The buyer's page of the order's tickets, to activate and book them together."
    )

    @classmethod
    def of(cls, order: IssuedOrder, context: AppContext) -> OrderOut:
        return cls(
            order_id=order.order_id,
            status="PAID" if order.paid else "PENDING_PAYMENT",
            tickets=[IssuedTicketOut(code=t.code, status=t.status.value) for t in order.tickets],
            order_url=order_link(context.settings.public_url, order.link_token),
        )


@router.post("/api/orders", status_code=201)
def create_order(
    body: OrderIn, request: Request, admin: AdminDep, context: ContextDep, session: SessionDep
) -> OrderOut:
    if body.orq != admin.orq:
        raise errors.OrganizationNotFound()
    order = issuance.create_order(
        session,
        orq=body.orq,
        quantity=body.quantity,
        activation_mode=body.activation_mode,
        paid=body.paid,
        customer_email=body.customer_email,
        valid_until=body.valid_until,
        language=requested_language(body.language, request),
        keys=context.keys,
        actor_id=admin.id,
        now=context.clock.now(),
    )
    return OrderOut.of(order, context)


@router.post("/api/orders/{order_id}/confirm-payment")
def confirm_payment(
    order_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    admin: AdminDep,
    context: ContextDep,
    session: SessionDep,
) -> OrderOut:
    order = issuance.confirm_payment(
        session,
        order_id=order_id,
        orq=admin.orq,
        keys=context.keys,
        actor_id=admin.id,
        now=context.clock.now(),
    )
    return OrderOut.of(order, context)


@router.post("/api/tickets/{code}/void")
def void_ticket(code: CodePath, admin: AdminDep, context: ContextDep, session: SessionDep) -> TicketOut:
    now = context.clock.now()
    issuance.void_ticket(session, code=code, orq=admin.orq, keys=context.keys, actor_id=admin.id, now=now)
    return TicketOut.of(tickets.ticket_status(session, code=code, keys=context.keys, now=now))
