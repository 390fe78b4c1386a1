"""The venue's numbers over a range of days, for managers: as JSON for the trends page, and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from admit.api.deps import ContextDep, ManagerDep, SessionDep
from admit.api.schemas import IsoDate
from admit.services import rates

router = APIRouter(tags=["reports"])


class RatioOut(BaseModel):
    part: int
    whole: int
    rate: float | None  # part / whole; null when there is nothing to divide by

    @classmethod
    def of(cls, ratio: rates.Ratio) -> RatioOut:
        return cls(part=ratio.part, whole=ratio.whole, rate=ratio.rate)


class DayOut(BaseModel):
    date: date
    capacity: int
    booked: int
    utilisation: float | None
    admitted: int
    no_shows: int
    closed_reservations: int


class CellOut(BaseModel):
    weekday: int  # 0 = Monday
    hour: int
    booked: int
    capacity: int
    utilisation: float | None


class StartOut(BaseModel):
    start_time: str
    no_shows: RatioOut


class ValidationOut(BaseModel):
    result: str
    reason: str
    scans: int


class FunnelOut(BaseModel):
    issued: int
    activated: int
    reserved: int
    admitted: int


class NumbersOut(BaseModel):
    """Rates: activation (pre-made tickets paid in the range, activated within 30 days), reservation
    (tickets activated in the range, booked within 7 days), no-show (reservations of the range's slots
    whose entry has closed, never admitted) and conversion (reservations made / visitors' ticket checks)."""

    from_: date = Field(serialization_alias="from")
    to: date
    activation_rate: RatioOut
    reservation_rate: RatioOut
    no_show_rate: RatioOut
    conversion: RatioOut
    funnel: FunnelOut
    days: list[DayOut]
    weekday_hour: list[CellOut]
    no_shows_by_start: list[StartOut]
    validations: list[ValidationOut]


def _ratio(part: int, whole: int) -> float | None:
    return rates.Ratio(part, whole).rate


@router.get("/api/reports/numbers")
def numbers(
    manager: ManagerDep,
    context: ContextDep,
    session: SessionDep,
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: Annotated[IsoDate | None, Query()] = None,
) -> NumbersOut:
    """The venue's rates, utilisation, no-shows, funnel and door results over its days `from`-`to`
    (default: the last 28 days up to today; at most 366 days)."""
    found = rates.numbers(session, orq=manager.orq, first=from_, last=to, now=context.clock.now())
    return NumbersOut(
        from_=found.first,
        to=found.last,
        activation_rate=RatioOut.of(found.activation),
        reservation_rate=RatioOut.of(found.reservation),
        no_show_rate=RatioOut.of(found.no_show),
        conversion=RatioOut.of(found.conversion),
        funnel=FunnelOut(**found.funnel),
        days=[
            DayOut(
                date=d.day,
                capacity=d.capacity,
                booked=d.booked,
                utilisation=_ratio(d.booked, d.capacity),
                admitted=d.admitted,
                no_shows=d.no_shows,
                closed_reservations=d.closed_reservations,
            )
            for d in found.days
        ],
        weekday_hour=[
            CellOut(weekday=w, hour=h, booked=b, capacity=c, utilisation=_ratio(b, c))
            for (w, h), (b, c) in sorted(found.weekday_hour.items())
        ],
        no_shows_by_start=[
            StartOut(start_time=start, no_shows=RatioOut.of(ratio))
            for start, ratio in found.no_shows_by_start.items()
        ],
        validations=[ValidationOut(result=r, reason=why, scans=n) for r, why, n in found.validations],
    )


CSV_COLUMNS = ["date", "capacity", "booked", "utilisation", "admitted", "no_shows", "closed_reservations"]


@router.get(
    "/api/reports/numbers.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}}
)
def numbers_csv(
    manager: ManagerDep,
    context: ContextDep,
    session: SessionDep,
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: Annotated[IsoDate | None, Query()] = None,
) -> Response:
    """The same range a day a row: capacity, booked, utilisation, admitted, no-shows."""
    found = rates.numbers(session, orq=manager.orq, first=from_, last=to, now=context.clock.now())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for d in found.days:
        utilisation = _ratio(d.booked, d.capacity)
        writer.writerow(
            [
                d.day.isoformat(),
                d.capacity,
                d.booked,
                "" if utilisation is None else f"{utilisation:.4f}",
                d.admitted,
                d.no_shows,
                d.closed_reservations,
            ]
        )
    filename = f"numbers-{found.first.isoformat()}-{found.last.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
