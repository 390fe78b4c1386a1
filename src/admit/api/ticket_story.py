"""A ticket's whole story, for managers: by its code or its last characters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from admit.api.deps import ContextDep, ManagerDep, SessionDep
from admit.services.ticket_story import StoryEvent, StoryReservation, ticket_story

router = APIRouter(tags=["tickets"])

TicketRef = Annotated[str, Path(min_length=1, max_length=80)]


class StoryTicketOut(BaseModel):
    id: int
    code_suffix: str
    order_id: str
    status: str
    activation_mode: str
    valid_until: date | None
    created_at: datetime


class StoryReservationOut(BaseModel):
    reservation_suffix: str
    status: str
    slot_id: int
    date: str
    start_time: str
    end_time: str
    reserved_at: datetime
    cancelled_at: datetime | None

    @classmethod
    def of(cls, reservation: StoryReservation) -> StoryReservationOut:
        return cls(
            reservation_suffix=reservation.reservation_suffix,
            status=reservation.status,
            slot_id=reservation.slot_id,
            date=reservation.date.isoformat(),
            start_time=reservation.start_time.strftime("%H:%M"),
            end_time=reservation.end_time.strftime("%H:%M"),
            reserved_at=reservation.reserved_at,
            cancelled_at=reservation.cancelled_at,
        )


class StoryEventOut(BaseModel):
    """A status change (kind: issue, pay_immediate, pay_pre_made, activate, reserve, move, cancel,
    verify, expire, void), a scan (kind: scan) or an e-mail (kind: mail); fields of other kinds are null."""

    at: datetime
    kind: str
    actor: str | None
    from_status: str | None
    to_status: str | None
    device_id: str | None
    operator_id: int | None
    operator_name: str | None
    action: str | None
    result: str | None
    reason: str | None
    offline: bool | None
    mail_kind: str | None
    mail_status: str | None
    recipient: str | None
    sent_at: datetime | None

    @classmethod
    def of(cls, event: StoryEvent) -> StoryEventOut:
        return cls.model_validate(event, from_attributes=True)


class TicketStoryOut(BaseModel):
    ticket: StoryTicketOut
    reservations: list[StoryReservationOut]
    events: list[StoryEventOut]
    truncated: bool


@router.get("/api/tickets/{ticket}/story")
def get_ticket_story(
    ticket: TicketRef, manager: ManagerDep, context: ContextDep, session: SessionDep
) -> TicketStoryOut:
    """Issued, paid, activated, reserved, moved, cancelled, each scan and each e-mail, oldest first.

    `ticket` is the code or at least its last 4 characters; characters that end several of the
    organization's tickets are answered 409 AMBIGUOUS_TICKET with how many (`details.matches`).
    """
    story = ticket_story(session, orq=manager.orq, ref=ticket, keys=context.keys)
    return TicketStoryOut(
        ticket=StoryTicketOut(
            id=story.ticket_id,
            code_suffix=story.code_suffix,
            order_id=story.order_id,
            status=story.status,
            activation_mode=story.activation_mode,
            valid_until=story.valid_until,
            created_at=story.created_at,
        ),
        reservations=[StoryReservationOut.of(r) for r in story.reservations],
        events=[StoryEventOut.of(e) for e in story.events],
        truncated=story.truncated,
    )
