"""Taking and releasing places in a slot: the one place where `booked_count` changes.

Callers are inside a transaction. Taking is one conditional UPDATE, which both checks and takes
the capacity under the row's lock, so no interleaving of requests can overbook; on SQLite the
transaction already holds the database's write lock (BEGIN IMMEDIATE). A CHECK constraint in the
database backs the rule up.

Every change here also counts a change to the slot's day (services/cache_version.py), in the same
transaction: the calendar's answers are kept until that count moves.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, Row, Select, Update, and_, bindparam, or_, select, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from admit import errors
from admit.db.models import ReservationSlot
from admit.db.rules import SQL
from admit.domain.calendar import (
    SlotStatus,
    SlotTimes,
    has_room,
    has_started,
    room_rule,
    slot_status_rule,
)
from admit.services import cache_version

MAX_ALTERNATIVES = 5
ALTERNATIVES_WITHIN = timedelta(days=14)

Slot = ReservationSlot


def check_room(slot: Slot, places: int, *, now_local: datetime) -> None:
    """Refuse early what the slot as last read cannot take; `take_places` still decides under the lock."""
    if has_started(times(slot), now_local):
        raise errors.SlotInPast()
    if has_room(slot.status, booked=slot.booked_count, total=slot.total_capacity, places=places):
        return
    if slot.status is SlotStatus.CLOSED:
        raise errors.SlotClosed()
    raise errors.SlotFull(requested=places, available=slot.total_capacity - slot.booked_count)


def _change(places: object) -> Update:
    """booked_count += places (negative to release), status kept true, the new values returned."""
    booked = Slot.booked_count + places
    return (
        update(Slot)
        .where(Slot.id == bindparam("slot"))
        .values(
            booked_count=booked,
            status=slot_status_rule(SQL, current=Slot.status, booked=booked, total=Slot.total_capacity),
            updated_at=bindparam("now"),
        )
        .returning(Slot.booked_count, Slot.status)
    )


_PLACES = bindparam("places", type_=Integer)
# Built once: building a statement costs more than running it.
_TAKE = _change(_PLACES).where(
    room_rule(SQL, status=Slot.status, booked=Slot.booked_count, total=Slot.total_capacity, places=_PLACES)
)
_RELEASE = _change(-_PLACES)
_ROOM = select(Slot.status, Slot.total_capacity - Slot.booked_count).where(Slot.id == bindparam("slot"))


def take_places(session: Session, slot: Slot, places: int, *, now: datetime) -> None:
    """Book `places` in `slot` with one conditional UPDATE, or raise SLOT_CLOSED / SLOT_FULL.

    Callers do their other writes first: the row lock this takes is then held only until the commit.
    """
    _take(session, slot, places, now=now)
    cache_version.bump_calendar(session, orq=slot.orq, days=[slot.date])


def release_places(session: Session, slot: Slot, places: int, *, now: datetime) -> None:
    """Give `places` back to `slot` (a cancel, a revoked ticket)."""
    _release(session, slot, places, now=now)
    cache_version.bump_calendar(session, orq=slot.orq, days=[slot.date])


def move_places(session: Session, old: Slot, new: Slot, places: int, *, now: datetime) -> None:
    """Take `places` in `new` and give them back to `old`, or raise as `take_places` does.

    The two days are counted together, in date order, so that two moves in opposite directions
    cannot wait for each other's day.
    """
    _take(session, new, places, now=now)
    _release(session, old, places, now=now)
    cache_version.bump_calendar(session, orq=new.orq, days=[old.date, new.date])


def _take(session: Session, slot: Slot, places: int, *, now: datetime) -> None:
    connection = session.connection()
    taken = connection.execute(_TAKE, {"slot": slot.id, "places": places, "now": now}).first()
    if taken is not None:
        _remember(slot, taken.booked_count, taken.status)
        return
    status, available = connection.execute(_ROOM, {"slot": slot.id}).one()
    if status is SlotStatus.CLOSED:
        raise errors.SlotClosed()
    raise errors.SlotFull(requested=places, available=available)


def _release(session: Session, slot: Slot, places: int, *, now: datetime) -> None:
    released = session.connection().execute(_RELEASE, {"slot": slot.id, "places": places, "now": now}).one()
    _remember(slot, released.booked_count, released.status)


def _remember(slot: Slot, booked_count: int, status: SlotStatus) -> None:
    """Keep the loaded slot true to what the UPDATE wrote, without reading it back."""
    set_committed_value(slot, "booked_count", booked_count)
    set_committed_value(slot, "status", status)


def with_alternatives(
    session: Session, full: errors.SlotFull, *, slot: Slot, places: int, now_local: datetime
) -> errors.SlotFull:
    """SLOT_FULL with the nearest slots to `slot` that have room.

    In a transaction of its own, after the refused one has ended (so no lock is held while it reads).
    `slot` as the caller read it: a sale's refusals, most of its answers, read the wanted slot once.
    """
    wanted = datetime.combine(slot.date, slot.start_time)
    found = alternatives(session, slot.orq, wanted, places, now_local=now_local, skip=slot.id)
    return errors.SlotFull(**full.details, alternatives=[slot_json(row) for row in found])


def lock_slots(session: Session, slot_ids: list[int]) -> dict[int, Slot]:
    """Lock several slots in id order, so that two movers can never wait for each other."""
    rows = session.scalars(
        select(Slot)
        .where(Slot.id.in_(slot_ids))
        .order_by(Slot.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {slot.id: slot for slot in rows}


SlotRow = Row[int, date, time, time, int, int, SlotStatus]
SLOT_COLUMNS = (
    Slot.id,
    Slot.date,
    Slot.start_time,
    Slot.end_time,
    Slot.total_capacity,
    Slot.booked_count,
    Slot.status,
)


def _nearest(*, later: bool) -> Select[int, date, time, time, int, int, SlotStatus]:
    """Open slots with room on one side of the wanted start, nearest first: at most five are needed."""
    day, start = bindparam("day", type_=Slot.date.type), bindparam("start", type_=Slot.start_time.type)
    today, clock = bindparam("today", type_=Slot.date.type), bindparam("clock", type_=Slot.start_time.type)
    side = (
        or_(Slot.date > day, and_(Slot.date == day, Slot.start_time > start))
        if later
        else or_(Slot.date < day, and_(Slot.date == day, Slot.start_time < start))
    )
    query = select(*SLOT_COLUMNS).where(
        Slot.orq == bindparam("orq"),
        Slot.id != bindparam("skip"),
        Slot.status == SlotStatus.ACTIVE,
        Slot.total_capacity - Slot.booked_count >= bindparam("places"),
        Slot.date >= bindparam("first"),
        Slot.date <= bindparam("last"),
        or_(Slot.date > today, and_(Slot.date == today, Slot.start_time > clock)),  # not started yet
        side,
    )
    if later:
        return query.order_by(Slot.date, Slot.start_time).limit(MAX_ALTERNATIVES)
    return query.order_by(Slot.date.desc(), Slot.start_time.desc()).limit(MAX_ALTERNATIVES)


_LATER, _EARLIER = _nearest(later=True).subquery(), _nearest(later=False).subquery()
_NEAREST = union_all(select(_LATER), select(_EARLIER))


def alternatives(
    session: Session, orq: int, wanted: datetime, places: int, *, now_local: datetime, skip: int
) -> list[SlotRow]:
    """Up to five open slots nearest in time to `wanted` (venue time) that have room for the whole request.

    Only the five nearest on each side are read; ties in distance go to the earlier slot.
    """
    candidates: list[SlotRow] = list(
        session.connection().execute(
            _NEAREST,
            {
                "orq": orq,
                "skip": skip,
                "places": places,
                "day": wanted.date(),
                "start": wanted.time(),
                "today": now_local.date(),
                "clock": now_local.time(),
                "first": max(now_local.date(), (wanted - ALTERNATIVES_WITHIN).date()),
                "last": (wanted + ALTERNATIVES_WITHIN).date(),
            },
        )
    )

    def starts(row: SlotRow) -> datetime:
        return datetime.combine(row.date, row.start_time)

    candidates.sort(key=lambda row: (abs(starts(row) - wanted), starts(row)))
    return candidates[:MAX_ALTERNATIVES]


def times(slot: Slot) -> SlotTimes:
    return SlotTimes(slot.date, slot.start_time, slot.end_time)


def slot_json(slot: Slot | SlotRow) -> dict[str, object]:
    """The API's shape of a slot (also used inside error details)."""
    return slot_row_json(
        (
            slot.id,
            slot.date,
            slot.start_time,
            slot.end_time,
            slot.total_capacity,
            slot.booked_count,
            slot.status,
        ),
        slot.date.isoformat(),
    )


def slot_row_json(row: tuple[int, date, time, time, int, int, SlotStatus], day: str) -> dict[str, object]:
    """`slot_json` of a row read with SLOT_COLUMNS, its date already written (a calendar has a thousand)."""
    slot_id, _, start, end, total, booked, status = row
    return {
        "slot_id": slot_id,
        "date": day,
        "start_time": start.isoformat("minutes"),
        "end_time": end.isoformat("minutes"),
        "total_capacity": total,
        "booked_count": booked,
        "available_count": total - booked,
        "status": status,  # a StrEnum: JSON writes its value
    }
