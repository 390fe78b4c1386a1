"""Time slots: creation and changes (admin), availability (public)."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool, StrictInt, model_validator
from sqlalchemy.orm import Session

from admit import errors
from admit.api.deps import AdminDep, ContextDep, SessionDep
from admit.api.schemas import MAX_ID, Body, IsoDate, SlotOut
from admit.context import AppContext
from admit.domain.calendar import DEFAULT_CAPACITY, DayLevel, SlotStatus
from admit.i18n import N_
from admit.services import slots
from admit.services.capacity import slot_json, slot_row_json
from admit.services.slots import Availability, NewSlot

router = APIRouter(tags=["slots"])

Capacity = Annotated[StrictInt, Field(ge=0, le=100_000)]


class SlotCreateIn(Body):
    """One slot (date, start_time, end_time) or a weekly schedule (from, to, weekdays, …)."""

    orq: StrictInt = Field(ge=1, le=MAX_ID)
    total_capacity: Capacity = DEFAULT_CAPACITY
    date: IsoDate | None = None
    start_time: time | None = None
    end_time: time | None = None
    from_: IsoDate | None = Field(default=None, alias="from")
    to: IsoDate | None = None
    weekdays: list[Annotated[StrictInt, Field(ge=0, le=6)]] | None = Field(default=None, max_length=7)
    first_start: time | None = None
    last_start: time | None = None
    every_minutes: Annotated[StrictInt, Field(ge=5, le=24 * 60)] | None = None
    duration_minutes: Annotated[StrictInt, Field(ge=1, le=24 * 60)] | None = None

    @model_validator(mode="after")
    def _one_or_schedule(self) -> SlotCreateIn:
        single = (self.date, self.start_time, self.end_time)
        schedule = (
            self.from_,
            self.to,
            self.weekdays,
            self.first_start,
            self.last_start,
            self.every_minutes,
            self.duration_minutes,
        )
        if all(v is not None for v in single) and all(v is None for v in schedule):
            return self
        if all(v is not None for v in schedule) and all(v is None for v in single):
            return self
        raise ValueError(
            "give either date, start_time and end_time, or from, to, weekdays, first_start, last_start, "
            "every_minutes and duration_minutes"
        )


class SlotPatchIn(Body):
    total_capacity: Capacity | None = None
    status: Literal["ACTIVE", "CLOSED"] | None = None
    # Closing a slot with visitors booked needs this said either way (else 409 SLOT_HAS_BOOKINGS):
    # true e-mails each a link to choose another time, false tells no one.
    notify: StrictBool | None = None


class SlotPatchedOut(SlotOut):
    notified: int  # visitors e-mailed a link to choose another time


class SkippedSlotOut(BaseModel):
    """A start that fell on a clock change at the venue, with why for each field."""

    date: str
    start_time: str
    end_time: str
    fields: dict[str, str]


class SlotsCreatedOut(BaseModel):
    slots: list[SlotOut]
    skipped_existing: int
    skipped_clock_changes: list[SkippedSlotOut]


class DayOut(BaseModel):
    date: str
    level: DayLevel
    slots: list[SlotOut]


class AvailabilityOut(BaseModel):
    orq: int
    timezone: str
    days: list[DayOut]


# The calendar is written without its model (see `availability_json`); the model documents it.
AVAILABILITY: dict[int | str, dict[str, Any]] = {
    200: {"model": AvailabilityOut, "description": "The calendar"}
}


@router.post("/api/reservation-slots/create", status_code=201)
def create_slots(
    body: SlotCreateIn, admin: AdminDep, context: ContextDep, session: SessionDep
) -> SlotsCreatedOut:
    if body.orq != admin.orq:
        raise errors.OrganizationNotFound()
    now = context.clock.now()
    if body.date is not None and body.start_time is not None and body.end_time is not None:
        slot = NewSlot(body.date, _minute(body.start_time), _minute(body.end_time))
        created = [slots.create_slot(session, orq=body.orq, slot=slot, capacity=body.total_capacity, now=now)]
        return SlotsCreatedOut.model_validate(
            {"slots": [slot_json(s) for s in created], "skipped_existing": 0, "skipped_clock_changes": []}
        )
    assert body.from_ and body.to and body.weekdays is not None and body.first_start and body.last_start
    assert body.every_minutes and body.duration_minutes
    schedule = slots.create_schedule(
        session,
        orq=body.orq,
        first=body.from_,
        last=body.to,
        weekdays=set(body.weekdays),
        first_start=_minute(body.first_start),
        last_start=_minute(body.last_start),
        every=timedelta(minutes=body.every_minutes),
        duration=timedelta(minutes=body.duration_minutes),
        capacity=body.total_capacity,
        now=now,
    )
    return SlotsCreatedOut.model_validate(
        {
            "slots": [slot_json(s) for s in schedule.created],
            "skipped_existing": schedule.skipped_existing,
            "skipped_clock_changes": [
                {
                    "date": slot.date.isoformat(),
                    "start_time": slot.start_time.strftime("%H:%M"),
                    "end_time": slot.end_time.strftime("%H:%M"),
                    "fields": problems,
                }
                for slot, problems in schedule.skipped_clock_changes
            ],
        }
    )


@router.patch("/api/reservation-slots/{slot_id}")
def patch_slot(
    slot_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: SlotPatchIn,
    admin: AdminDep,
    context: ContextDep,
    session: SessionDep,
) -> SlotPatchedOut:
    change = slots.update_slot(
        session,
        slot_id=slot_id,
        orq=admin.orq,
        capacity=body.total_capacity,
        status=SlotStatus(body.status) if body.status else None,
        notify=body.notify,
        now=context.clock.now(),
    )
    return SlotPatchedOut.model_validate({**slot_json(change.slot), "notified": change.notified})


@router.get("/api/reservation-slots/available", response_class=JSONResponse, responses=AVAILABILITY)
def available_slots(
    context: ContextDep,
    session: SessionDep,
    orq: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: Annotated[IsoDate | None, Query()] = None,
) -> Response:
    if orq is None:
        raise errors.MissingParameter(
            # Translators: keep orq as it is: it is the parameter's name in the address.
            N_("The orq query parameter (organization id) is required."),
            parameter="orq",
        )
    return calendar_response(context, session, orq=orq, first=from_, last=to)


def calendar_response(
    context: AppContext, session: Session, *, orq: int, first: date | None, last: date | None
) -> Response:
    """The calendar's answer, as written for the last reader unless a slot of those days changed since."""
    body = slots.written_availability(
        session,
        orq=orq,
        first=first,
        last=last,
        now=context.clock.now(),
        answers=context.calendars,
        write=availability_bytes,
    )
    return Response(body, media_type="application/json")


def availability_bytes(found: Availability) -> bytes:
    """Serialised here, without a response model and with orjson: a 90-day calendar has a thousand slots."""
    days = []
    for day in found.days:
        written = day.date.isoformat()
        slots_json = [slot_row_json(row, written) for row in day.slots]
        days.append({"date": written, "level": day.level.value, "slots": slots_json})
    return orjson.dumps({"orq": found.orq, "timezone": found.timezone, "days": days})


def _minute(value: time) -> time:
    """Slots start and end on whole minutes, in local time without an offset."""
    if value.tzinfo is not None:
        raise errors.ValidationFailed(fields={"time": "local time HH:MM, without an offset"})
    return value.replace(second=0, microsecond=0)
