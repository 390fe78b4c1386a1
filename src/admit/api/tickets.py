"""Tickets, for their holders: authorised by the code itself."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictStr

from admit.api.deps import ContextDep, SessionDep, limit_validation
from admit.api.orders import CodePath
from admit.api.schemas import Body, IsoDate, TicketOut
from admit.api.slots import AVAILABILITY, calendar_response
from admit.context import AppContext
from admit.errors import DomainError
from admit.services import tickets
from admit.services.ticket_lookup import suffix_of, ticket_refs

router = APIRouter(tags=["tickets"])
log = structlog.get_logger()


class ActivatedOut(BaseModel):
    status: str
    activated_at: datetime | None
    ticket: TicketOut


class CodeIn(Body):
    code: StrictStr = Field(min_length=1, max_length=80)


class ValidOut(BaseModel):
    valid: bool
    ticket: TicketOut


@router.get("/api/tickets/{code}/status", dependencies=[Depends(limit_validation)])
def ticket_status(code: CodePath, context: ContextDep, session: SessionDep) -> TicketOut:
    return TicketOut.of(tickets.ticket_status(session, code=code, keys=context.keys, now=context.clock.now()))


@router.post("/api/tickets/{code}/activate", dependencies=[Depends(limit_validation)])
def activate_ticket(code: CodePath, context: ContextDep, session: SessionDep) -> ActivatedOut:
    try:
        view = tickets.activate_ticket(session, code=code, keys=context.keys, now=context.clock.now())
    except DomainError as refused:
        context.metrics.activations.labels("refused", refused.code).inc()
        log.info("ticket.activation.failure", reason=refused.code, **_ticket_of(code, context, session))
        raise
    except Exception:
        context.metrics.activations.labels("error", "none").inc()
        raise
    context.metrics.activations.labels("activated", "none").inc()
    log.info(
        "ticket.activation.success",
        ticket_id=view.id,
        code_suffix=suffix_of(view.code),
        orq=view.orq,
        mode=view.activation_mode.value,
    )
    return ActivatedOut(status=view.status.value, activated_at=view.activated_at, ticket=TicketOut.of(view))


@router.get(
    "/api/tickets/{code}/availability",
    response_class=JSONResponse,
    responses=AVAILABILITY,
    dependencies=[Depends(limit_validation)],
)
def ticket_availability(
    code: CodePath,
    context: ContextDep,
    session: SessionDep,
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: Annotated[IsoDate | None, Query()] = None,
) -> Response:
    now = context.clock.now()
    orq = tickets.ticket_status(session, code=code, keys=context.keys, now=now).orq
    return calendar_response(context, session, orq=orq, first=from_, last=to)


@router.post("/api/tickets/validate", dependencies=[Depends(limit_validation)])
def validate_ticket(body: CodeIn, context: ContextDep, session: SessionDep) -> ValidOut:
    try:
        view = tickets.check_reservable(session, code=body.code, keys=context.keys, now=context.clock.now())
    except DomainError as refused:
        context.metrics.validations.labels("refused", refused.code).inc()
        log.info(
            "ticket.validated", valid=False, reason=refused.code, **_ticket_of(body.code, context, session)
        )
        raise
    except Exception:
        context.metrics.validations.labels("error", "none").inc()
        raise
    context.metrics.validations.labels("valid", "none").inc()
    log.info(
        "ticket.validated",
        valid=True,
        ticket_id=view.id,
        code_suffix=suffix_of(view.code),
        orq=view.orq,
        status=view.status.value,
    )
    return ValidOut(valid=True, ticket=TicketOut.of(view))


def _ticket_of(code: str, context: AppContext, session: SessionDep) -> dict[str, object]:
    """A refused code's ticket for the log line: its id when the code is a ticket, and its last four."""
    (ref,) = ticket_refs(session, ticket_codes=[code], keys=context.keys)
    return {"ticket_id": ref.id if ref else None, "code_suffix": suffix_of(code)}
