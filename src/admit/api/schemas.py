"""Response shapes shared by several routers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from admit.services.tickets import TicketView


class Body(BaseModel):
    """Request bodies. Numbers, booleans and strings are strict (StrictInt…): "5" is not a number."""


class TicketOut(BaseModel):
    code: str
    orq: int
    status: str
    activation_mode: str
    activation_status: str
    activated_at: datetime | None
    valid_until: date | None
    reservation: dict[str, Any] | None = None

    @classmethod
    def of(cls, ticket: TicketView) -> TicketOut:
        reservation = ticket.reservation
        return cls(
            reservation=None
            if reservation is None
            else {
                "reservation_id": reservation.reservation_id,
                "slot_id": reservation.slot_id,
                "date": reservation.date.isoformat(),
                "start_time": reservation.start_time.strftime("%H:%M"),
                "end_time": reservation.end_time.strftime("%H:%M"),
                "status": reservation.status.value,
            },
            code=ticket.code,
            orq=ticket.orq,
            status=ticket.status.value,
            activation_mode=ticket.activation_mode.value,
            activation_status=ticket.activation_status,
            activated_at=ticket.activated_at,
            valid_until=ticket.valid_until,
        )
