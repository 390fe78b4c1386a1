"""Request and response shapes shared by several routers.

Dates, times and timestamps in responses are the strings the services write (`YYYY-MM-DD`, `HH:MM`, ISO
8601 with the venue's offset): typed as strings here so that a response model never rewrites them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, field_validator

from admit.db.types import MAX_ID as MAX_ID  # the routers' bound for ids, from the column's range
from admit.domain.calendar import SlotStatus
from admit.domain.venue_time import FIRST_DAY, LAST_DAY, is_supported_day
from admit.services.tickets import TicketView

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    """Dates are YYYY-MM-DD strings: not a number of seconds, not a timestamp."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("a date as YYYY-MM-DD")
    return value


def _supported_day(value: date) -> date:
    # Years 0001 or 9999 parse, but a day's bounds or a week's arithmetic around them would not.
    if not is_supported_day(value):
        raise ValueError(f"a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_supported_day)]


class Body(BaseModel):
    """Request bodies. Numbers, booleans and strings are strict (StrictInt…): "5" is not a number. A
    field the body does not have is refused, not ignored: a misspelt field would otherwise change nothing
    and answer 200."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # NUL cannot be stored in PostgreSQL text and is never meaningful in a field.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL characters")
        return value


class SlotOut(BaseModel):
    slot_id: int
    date: str
    start_time: str
    end_time: str
    total_capacity: int
    booked_count: int
    available_count: int
    status: SlotStatus


class TicketReservationOut(BaseModel):
    reservation_id: str
    slot_id: int
    date: str
    start_time: str
    end_time: str
    status: str


class TicketOut(BaseModel):
    code: str
    orq: int
    status: str
    activation_mode: str
    activation_status: str
    activated_at: datetime | None
    valid_until: date | None
    reservation: TicketReservationOut | None = None

    @classmethod
    def of(cls, ticket: TicketView) -> TicketOut:
        reservation = ticket.reservation
        return cls(
            reservation=None
            if reservation is None
            else TicketReservationOut(
                reservation_id=reservation.reservation_id,
                slot_id=reservation.slot_id,
                date=reservation.date.isoformat(),
                start_time=reservation.start_time.strftime("%H:%M"),
                end_time=reservation.end_time.strftime("%H:%M"),
                status=reservation.status.value,
            ),
            code=ticket.code,
            orq=ticket.orq,
            status=ticket.status.value,
            activation_mode=ticket.activation_mode.value,
            activation_status=ticket.activation_status,
            activated_at=ticket.activated_at,
            valid_until=ticket.valid_until,
        )
