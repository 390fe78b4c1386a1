"""Time slots: creation (one or a weekly schedule), capacity changes, closing, and availability."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from operator import itemgetter

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from admit import errors
from admit.cache import Answers
from admit.clock import Clock
from admit.db.models import Organization, Reservation, ReservationSlot
from admit.domain.calendar import (
    DEFAULT_RANGE_DAYS,
    MAX_RANGE_DAYS,
    DayLevel,
    SlotStatus,
    day_level,
    schedule_size,
    schedule_starts,
    status_after_booking,
)
from admit.domain.lifecycle import ReservationStatus
from admit.domain.mail import MailKind
from admit.domain.venue_time import local_now, slot_time_problems
from admit.outbox.writer import enqueue_for_members
from admit.services import cache_version
from admit.services.capacity import SLOT_COLUMNS, SlotRow
from admit.services.organizations import get_organization_or_raise

Slot = ReservationSlot
MAX_SCHEDULE_SLOTS = 5000


@dataclass(frozen=True)
class NewSlot:
    date: date
    start_time: time
    end_time: time


@dataclass(frozen=True)
class Schedule:
    created: list[Slot]
    skipped_existing: int
    # (slot, {field: why}) of the starts that fell on a clock change at the venue
    skipped_clock_changes: list[tuple[NewSlot, dict[str, str]]]


def create_slot(session: Session, *, orq: int, slot: NewSlot, capacity: int, now: datetime) -> Slot:
    try:
        with session.begin():
            org = get_organization_or_raise(session, orq)
            problems = slot_time_problems(slot.date, slot.start_time, slot.end_time, org.timezone)
            if problems:
                raise errors.ValidationFailed(fields=problems)
            created = _new(orq, slot, capacity, now)
            session.add(created)
            cache_version.bump_calendar(session, orq=orq, days=[slot.date])
    except IntegrityError as exc:  # the unique (orq, date, start_time) index decides, even in a race
        raise errors.DuplicateSlot(
            date=slot.date.isoformat(), start_time=slot.start_time.strftime("%H:%M")
        ) from exc
    return created


def create_schedule(
    session: Session,
    *,
    orq: int,
    first: date,
    last: date,
    weekdays: set[int],
    first_start: time,
    last_start: time,
    every: timedelta,
    duration: timedelta,
    capacity: int,
    now: datetime,
) -> Schedule:
    """Create a weekly schedule's slots.

    Existing (date, start) pairs are skipped and counted. Starts on a clock change (a wall-clock time
    that the night skips or repeats) are skipped and listed: a schedule through the night meets them
    twice a year, and refusing it whole would make the admin cut every such request around them.
    """
    _check_schedule(first=first, last=last, first_start=first_start, last_start=last_start)
    # Counted before anything is made: the answer to an overlong request costs nothing.
    size = schedule_size(
        first=first, last=last, weekdays=weekdays, first_start=first_start, last_start=last_start, every=every
    )
    if not weekdays:
        raise errors.ValidationFailed(fields={"weekdays": "choose at least one weekday"})
    if size == 0:
        raise errors.ValidationFailed(
            fields={"weekdays": "no day from `from` to `to` falls on these weekdays: no slot would be made"}
        )
    if size > MAX_SCHEDULE_SLOTS:
        raise errors.ValidationFailed(
            fields={"to": f"a schedule makes at most {MAX_SCHEDULE_SLOTS} slots; this one would make {size}"},
            slots=size,
            max_slots=MAX_SCHEDULE_SLOTS,
        )
    starts = schedule_starts(
        first=first, last=last, weekdays=weekdays, first_start=first_start, last_start=last_start, every=every
    )
    new_slots = [NewSlot(day, start, _end(start, duration)) for day, start in starts]
    with session.begin():
        org = get_organization_or_raise(session, orq)
        taken = select(Slot.date, Slot.start_time).where(
            Slot.orq == orq, Slot.date >= first, Slot.date <= last
        )
        existing = {(day, start) for day, start in session.execute(taken)}
        fresh = [s for s in new_slots if (s.date, s.start_time) not in existing]
        on_clock_changes = []
        created = []
        for slot in fresh:
            problems = slot_time_problems(slot.date, slot.start_time, slot.end_time, org.timezone)
            if problems:
                on_clock_changes.append((slot, problems))
            else:
                created.append(_new(orq, slot, capacity, now))
        session.add_all(created)
        cache_version.bump_calendar(session, orq=orq, days=[slot.date for slot in created])
    return Schedule(created, len(new_slots) - len(fresh), on_clock_changes)


def _check_schedule(*, first: date, last: date, first_start: time, last_start: time) -> None:
    if last < first:
        raise errors.ValidationFailed(fields={"to": "must not be before from"})
    if (last - first).days > MAX_RANGE_DAYS:
        raise errors.ValidationFailed(fields={"to": f"at most {MAX_RANGE_DAYS} days after from"})
    if last_start < first_start:
        raise errors.ValidationFailed(fields={"last_start": "must not be before first_start"})


def _end(start: time, duration: timedelta) -> time:
    end = datetime.combine(date.min, start) + duration
    if end.date() != date.min:
        raise errors.ValidationFailed(fields={"duration_minutes": "a slot must end on the day it starts"})
    return end.time()


def _new(orq: int, slot: NewSlot, capacity: int, now: datetime) -> Slot:
    if slot.end_time <= slot.start_time:
        raise errors.ValidationFailed(fields={"end_time": "must be after start_time"})
    return Slot(
        orq=orq,
        date=slot.date,
        start_time=slot.start_time,
        end_time=slot.end_time,
        total_capacity=capacity,
        booked_count=0,
        status=status_after_booking(SlotStatus.ACTIVE, booked=0, total=capacity),
        created_at=now,
        updated_at=now,
    )


@dataclass(frozen=True)
class SlotChange:
    slot: Slot
    notified: int  # booked visitors e-mailed a link to choose another time


def update_slot(
    session: Session,
    *,
    slot_id: int,
    orq: int,
    capacity: int | None,
    status: SlotStatus | None,
    notify: bool | None,
    now: datetime,
) -> SlotChange:
    """Change capacity (never below booked) and close or reopen; the status stays true to the counts.

    Closing a slot strands the visitors booked in it, so it needs `notify` said either way: with true,
    each is e-mailed (in this transaction) a link to their reservation's page to choose another time.
    The slot's lock keeps anyone from booking into it meanwhile.
    """
    with session.begin():
        slot = session.scalars(
            select(Slot).where(Slot.id == slot_id, Slot.orq == orq).with_for_update()
        ).first()
        if slot is None:
            raise errors.SlotNotFound()
        stranded: list[Reservation] = []
        if status is SlotStatus.CLOSED and slot.status is not SlotStatus.CLOSED:
            stranded = list(session.scalars(_BOOKED.where(Reservation.slot_id == slot.id)))
        if stranded and notify is None:
            raise errors.SlotHasBookings(booked=len(stranded))
        if capacity is not None:
            if capacity < slot.booked_count:
                raise errors.CapacityBelowBooked(booked_count=slot.booked_count, requested=capacity)
            slot.total_capacity = capacity
        if status is not None:
            slot.status = SlotStatus.CLOSED if status is SlotStatus.CLOSED else SlotStatus.ACTIVE
        slot.status = status_after_booking(slot.status, booked=slot.booked_count, total=slot.total_capacity)
        slot.updated_at = now
        cache_version.bump_calendar(session, orq=orq, days=[slot.date])
        if notify:
            # One message to each party: its members were booked together and move together.
            parties: dict[str, list[Reservation]] = {}
            for reservation in stranded:
                parties.setdefault(reservation.party_id, []).append(reservation)
            for members in parties.values():
                enqueue_for_members(session, members, MailKind.SLOT_CLOSED, now=now)
    return SlotChange(slot, len(stranded) if notify else 0)


# The visitors a closing strands: booked and not yet let in (a verified visitor has had the visit).
_BOOKED = select(Reservation).where(Reservation.status == ReservationStatus.RESERVED).order_by(Reservation.id)


@dataclass(frozen=True)
class Day:
    date: date
    level: DayLevel
    slots: list[SlotRow]


@dataclass(frozen=True)
class Availability:
    orq: int
    timezone: str
    days: list[Day]


_AVAILABLE = (
    select(*SLOT_COLUMNS)
    .where(
        Slot.orq == bindparam("orq"),
        Slot.date >= bindparam("first"),
        Slot.date <= bindparam("last"),
        Slot.status != SlotStatus.CLOSED,
        # From today on (first), so a slot of today is on offer only until it starts.
        or_(Slot.date > bindparam("today"), Slot.start_time > bindparam("clock", type_=Slot.start_time.type)),
    )
    .order_by(Slot.date, Slot.start_time)
)


def availability(
    session: Session, *, orq: int, first: date | None, last: date | None, now: datetime
) -> Availability:
    """Open and full slots by day, from today (venue time) on; past days and started slots never appear."""
    with session.begin():
        span = _calendar_span(session, orq=orq, first=first, last=last, now=now)
        return _read_availability(session, span)


@dataclass(frozen=True)
class CalendarKey:
    """Everything a calendar's answer depends on; `version` moves with any change to its days' slots."""

    orq: int
    timezone: str
    today: date
    first: date
    last: date
    version: int


def written_availability(
    session: Session,
    *,
    orq: int,
    first: date | None,
    last: date | None,
    now: datetime,
    answers: Answers[CalendarKey],
    write: Callable[[Availability], bytes],
) -> bytes:
    """`write(availability(…))`, kept in `answers` until a slot on those days changes or one of today's
    slots starts (a started slot leaves the calendar)."""
    with session.begin():
        span = _calendar_span(session, orq=orq, first=first, last=last, now=now)
        # Read before the slots: an answer is never kept under a version newer than the rows it shows.
        version = cache_version.read_calendar(session.connection(), orq=orq, first=span.first, last=span.last)
        key = CalendarKey(orq, span.timezone, span.now_local.date(), span.first, span.last, version)
        found = answers.get(key, span.now_local)
        if found is not None:
            return found
        calendar = _read_availability(session, span)
        return answers.put(key, write(calendar), until=_next_start(calendar, span.now_local))


@dataclass(frozen=True)
class _Span:
    orq: int
    timezone: str
    now_local: datetime
    first: date
    last: date


_TIMEZONE = select(Organization.timezone).where(Organization.id == bindparam("orq"))


def _calendar_span(
    session: Session, *, orq: int, first: date | None, last: date | None, now: datetime
) -> _Span:
    timezone = session.connection().execute(_TIMEZONE, {"orq": orq}).scalar()
    if timezone is None:
        raise errors.OrganizationNotFound()
    now_local = local_now(now, timezone)
    today = now_local.date()
    first = max(first or today, today)
    last = last or today + timedelta(days=DEFAULT_RANGE_DAYS)
    if last < first:
        raise errors.ValidationFailed(fields={"to": "must not be before from (or today)"})
    if (last - first).days > MAX_RANGE_DAYS:
        raise errors.ValidationFailed(fields={"to": f"at most {MAX_RANGE_DAYS} days after from"})
    return _Span(orq, timezone, now_local, first, last)


def _read_availability(session: Session, span: _Span) -> Availability:
    # Plain rows through the connection, not ORM objects: this is the hottest read of the booking path.
    rows = (
        session.connection()
        .execute(
            _AVAILABLE,
            {
                "orq": span.orq,
                "first": span.first,
                "last": span.last,
                "today": span.now_local.date(),
                "clock": span.now_local.time(),
            },
        )
        .all()
    )
    days = []
    for day, group in groupby(rows, key=itemgetter(1)):
        day_slots = list(group)
        days.append(Day(day, day_level((row[4], row[5]) for row in day_slots), day_slots))
    return Availability(orq=span.orq, timezone=span.timezone, days=days)


def _next_start(calendar: Availability, now_local: datetime) -> datetime:
    """When the calendar next changes by the clock alone: today's first slot to start, or midnight."""
    today = now_local.date()
    if calendar.days and calendar.days[0].date == today:
        return datetime.combine(today, calendar.days[0].slots[0][2])
    return datetime.combine(today + timedelta(days=1), time())


def upcoming_slots(sessions: sessionmaker[Session], clock: Clock, *, days: int) -> list[tuple[int, int, int]]:
    """(days ahead, booked, capacity) of every organization's slots from today (each venue's today) for
    `days` days, for the metrics: one read per distinct venue date, however many organizations."""
    now = clock.now()
    with sessions() as session, session.begin():
        by_today: dict[date, list[int]] = {}
        for orq, timezone in session.execute(select(Organization.id, Organization.timezone)):
            by_today.setdefault(local_now(now, timezone).date(), []).append(orq)
        rows = []
        for today, orgs in by_today.items():
            found = select(Slot.date, Slot.booked_count, Slot.total_capacity).where(
                Slot.orq.in_(orgs), Slot.date >= today, Slot.date < today + timedelta(days=days)
            )
            rows += [(((day - today).days), booked, total) for day, booked, total in session.execute(found)]
        return rows
