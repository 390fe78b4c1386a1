"""The venue's numbers over a range of days: the stories' rates, utilisation, no-shows and the funnel.

Every figure is read through an index whose range is the days asked for, so its cost follows the range,
not the length of the history behind it:

- cohorts of tickets start with a transition in the range (the (orq, event, at) index) and look ahead
  along each ticket's own transitions (the (ticket_id, at) index);
- slots are read by (orq, date), their reservations by (slot_id, status), scans by (orq, scanned_at);
- visitors' ticket checks, which have no row of their own, are counted per day in `daily_counts`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Interval, exists, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from admit import errors
from admit.db.models import (
    DailyCount,
    Organization,
    Reservation,
    ReservationSlot,
    ScanEvent,
    TicketTransition,
)
from admit.domain.calendar import SlotTimes
from admit.domain.entry import entry_closed
from admit.domain.lifecycle import ReservationStatus, TicketEvent
from admit.domain.venue_time import local_now
from admit.services.organizations import policy_of
from admit.services.scans import day_bounds

# The stories' windows: pre-made tickets activated within 30 days, activated ones booked within 7.
ACTIVATION_WITHIN = timedelta(days=30)
RESERVATION_WITHIN = timedelta(days=7)
MAX_DAYS = 366
DEFAULT_DAYS = 28
TICKET_CHECKS = "ticket_checks"


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int

    @property
    def rate(self) -> float | None:
        """part / whole, or None when there is nothing to divide by."""
        return self.part / self.whole if self.whole else None


@dataclass
class DayFigures:
    day: date
    capacity: int = 0
    booked: int = 0
    admitted: int = 0
    no_shows: int = 0
    closed_reservations: int = 0  # reservations whose entry window has closed: where no-shows are counted


@dataclass
class Numbers:
    first: date
    last: date
    activation: Ratio  # pre-made tickets paid in the range, activated within 30 days
    reservation: Ratio  # tickets activated in the range, booked within 7 days
    no_show: Ratio  # closed reservations of the range's slots never admitted
    conversion: Ratio  # reservations made in the range / visitors' ticket checks in the range
    days: list[DayFigures]
    # (weekday 0 = Monday, hour) -> [booked, capacity]
    weekday_hour: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    # slot start "HH:MM" -> Ratio(no-shows, closed reservations)
    no_shows_by_start: dict[str, Ratio] = field(default_factory=dict)
    funnel: dict[str, int] = field(default_factory=dict)  # issued, activated, reserved, admitted
    validations: list[tuple[str, str, int]] = field(default_factory=list)  # result, reason, scans


def count_ticket_check(session: Session, *, orq: int, day: date) -> None:
    """One more visitor's ticket check on `day`, inside the caller's transaction."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(DailyCount)
        .values(orq=orq, name=TICKET_CHECKS, day=day, count=1)
        .on_conflict_do_update(
            index_elements=[DailyCount.orq, DailyCount.name, DailyCount.day],
            set_={"count": DailyCount.count + 1},
        )
    )


def numbers(session: Session, *, orq: int, first: date | None, last: date | None, now: datetime) -> Numbers:
    """The venue's figures for its days `first` to `last`, both included: at most MAX_DAYS, by default
    the DEFAULT_DAYS up to today."""
    with session.begin():
        org = session.get_one(Organization, orq)
        last = last or local_now(now, org.timezone).date()
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise errors.ValidationFailed(fields={"from": "on or before `to`"})
        if (last - first).days + 1 > MAX_DAYS:
            raise errors.ValidationFailed(
                fields={"to": f"at most {MAX_DAYS} days from `from`, both included"}
            )
        start, _ = day_bounds(first, org.timezone)
        _, end = day_bounds(last, org.timezone)
        events = _event_counts(session, orq, start, end)
        figures = Numbers(
            first=first,
            last=last,
            activation=_cohort(session, orq, start, end, (TicketEvent.PAY_PRE_MADE,), TicketEvent.ACTIVATE,
                               ACTIVATION_WITHIN),
            reservation=_cohort(session, orq, start, end, (TicketEvent.ACTIVATE, TicketEvent.PAY_IMMEDIATE),
                                TicketEvent.RESERVE, RESERVATION_WITHIN),
            no_show=Ratio(0, 0),
            conversion=Ratio(events[TicketEvent.RESERVE], _ticket_checks(session, orq, first, last)),
            days=[],
            funnel={
                "issued": events[TicketEvent.PAY_PRE_MADE] + events[TicketEvent.PAY_IMMEDIATE],
                "activated": events[TicketEvent.ACTIVATE] + events[TicketEvent.PAY_IMMEDIATE],
                "reserved": events[TicketEvent.RESERVE],
                "admitted": events[TicketEvent.VERIFY],
            },
        )  # fmt: skip
        _slots(session, org, figures, now)
        figures.validations = [
            (result, reason, count)
            for result, reason, count in session.execute(
                select(ScanEvent.result, ScanEvent.reason, func.count())
                .where(ScanEvent.orq == orq, ScanEvent.scanned_at >= start, ScanEvent.scanned_at < end)
                .group_by(ScanEvent.result, ScanEvent.reason)
                .order_by(func.count().desc(), ScanEvent.reason)
            )
        ]
    return figures


def _event_counts(session: Session, orq: int, start: datetime, end: datetime) -> dict[TicketEvent, int]:
    counts: dict[TicketEvent, int] = defaultdict(int)
    query = (
        select(TicketTransition.event, func.count())
        .where(TicketTransition.orq == orq, TicketTransition.at >= start, TicketTransition.at < end)
        .group_by(TicketTransition.event)
    )
    for event, count in session.execute(query):
        counts[event] = count
    return counts


def _cohort(
    session: Session,
    orq: int,
    start: datetime,
    end: datetime,
    starting: tuple[TicketEvent, ...],
    then: TicketEvent,
    within: timedelta,
) -> Ratio:
    """Tickets with a `starting` transition in [start, end), and how many of them took `then` within."""
    began, followed = aliased(TicketTransition), aliased(TicketTransition)
    took_it = exists().where(
        followed.ticket_id == began.ticket_id,
        followed.event == then,
        followed.at >= began.at,
        followed.at < _later(began.at, within, session.get_bind().dialect.name),
    )
    whole, part = session.execute(
        select(func.count(), func.count().filter(took_it)).where(
            began.orq == orq, began.event.in_(starting), began.at >= start, began.at < end
        )
    ).one()
    return Ratio(part, whole)


def _later(at: Any, delta: timedelta, dialect: str) -> Any:
    """The instant `delta` after the column `at`. SQLite keeps instants as text, to the microsecond,
    and its datetime() answers to the second: a bound that is at most a second early."""
    if dialect == "postgresql":
        return at + literal(delta, Interval())
    return func.datetime(at, f"+{delta.days} days")


def _ticket_checks(session: Session, orq: int, first: date, last: date) -> int:
    total = session.scalar(
        select(func.sum(DailyCount.count)).where(
            DailyCount.orq == orq,
            DailyCount.name == TICKET_CHECKS,
            DailyCount.day >= first,
            DailyCount.day <= last,
        )
    )
    return int(total or 0)


def _slots(session: Session, org: Organization, figures: Numbers, now: datetime) -> None:
    """Capacity, bookings, admissions and no-shows per day, per weekday and hour, and per start time."""
    window = policy_of(org).entry_window
    now_local = local_now(now, org.timezone)
    live = (
        select(
            Reservation.slot_id,
            func.count().label("live"),
            func.count().filter(Reservation.status == ReservationStatus.VERIFIED).label("admitted"),
        )
        .where(Reservation.status != ReservationStatus.CANCELLED)
        .group_by(Reservation.slot_id)
        .subquery()
    )
    rows = session.execute(
        select(
            ReservationSlot.date,
            ReservationSlot.start_time,
            ReservationSlot.end_time,
            ReservationSlot.total_capacity,
            func.coalesce(live.c.live, 0),
            func.coalesce(live.c.admitted, 0),
        )
        .join(live, live.c.slot_id == ReservationSlot.id, isouter=True)
        .where(
            ReservationSlot.orq == org.id,
            ReservationSlot.date >= figures.first,
            ReservationSlot.date <= figures.last,
        )
        .order_by(ReservationSlot.date, ReservationSlot.start_time)
    ).all()
    days: dict[date, DayFigures] = {}
    no_shows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for day, starts, ends, capacity, booked, admitted in rows:
        figure = days.setdefault(day, DayFigures(day))
        figure.capacity += capacity
        figure.booked += booked
        figure.admitted += admitted
        cell = figures.weekday_hour.setdefault((day.weekday(), starts.hour), [0, 0])
        cell[0] += booked
        cell[1] += capacity
        if entry_closed(SlotTimes(day, starts, ends), window, now_local):
            figure.closed_reservations += booked
            figure.no_shows += booked - admitted
            by_start = no_shows[starts.strftime("%H:%M")]
            by_start[0] += booked - admitted
            by_start[1] += booked
    figures.days = list(days.values())
    figures.no_show = Ratio(
        sum(d.no_shows for d in figures.days), sum(d.closed_reservations for d in figures.days)
    )
    figures.no_shows_by_start = {start: Ratio(*counts) for start, counts in sorted(no_shows.items())}
