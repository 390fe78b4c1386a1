"""Taking and releasing places in a slot: the one place where `booked_count` changes.

Callers are inside a transaction. Taking is one conditional UPDATE, which both checks and takes
the capacity under the row's lock, so no interleaving of requests can overbook; on SQLite the
transaction already holds the database's write lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import ReservationSlot
from admit.domain.calendar import SlotStatus, SlotTimes, has_started

MAX_ALTERNATIVES = 5
ALTERNATIVES_WITHIN = timedelta(days=14)

Slot = ReservationSlot


def _status_for(booked: object) -> object:
    """SQL for the status after `booked_count` becomes `booked` (a closed slot stays closed)."""
    return case(
        (Slot.status == SlotStatus.CLOSED, Slot.status),
        (booked >= Slot.total_capacity, SlotStatus.FULL),
        else_=SlotStatus.ACTIVE,
    )


def take_places(session: Session, slot: Slot, places: int, *, now: datetime, now_local: datetime) -> None:
    """Book `places` in `slot` or raise SLOT_IN_PAST / SLOT_CLOSED / SLOT_FULL (with alternatives)."""
    if has_started(times(slot), now_local):
        raise errors.SlotInPast()
    booked = Slot.booked_count + places
    taken = session.execute(
        update(Slot)
        .where(Slot.id == slot.id, Slot.status != SlotStatus.CLOSED, booked <= Slot.total_capacity)
        .values(booked_count=booked, status=_status_for(booked), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(slot)
    if taken.rowcount == 1:  # type: ignore[attr-defined]
        return
    if slot.status is SlotStatus.CLOSED:
        raise errors.SlotClosed()
    raise errors.SlotFull(
        requested=places,
        available=slot.available_count,
        alternatives=[slot_json(s) for s in alternatives(session, slot, places, now_local=now_local)],
    )


def release_places(session: Session, slot: Slot, places: int, *, now: datetime) -> None:
    """Give `places` back to `slot` (a cancel, a move away, a revoked ticket)."""
    booked = Slot.booked_count - places
    session.execute(
        update(Slot)
        .where(Slot.id == slot.id)
        .values(booked_count=booked, status=_status_for(booked), updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(slot)


def lock_slots(session: Session, slot_ids: list[int]) -> dict[int, Slot]:
    """Lock several slots in id order, so that two movers can never wait for each other."""
    rows = session.scalars(
        select(Slot).where(Slot.id.in_(slot_ids)).order_by(Slot.id).with_for_update()
    ).all()
    return {slot.id: slot for slot in rows}


def alternatives(session: Session, slot: Slot, places: int, *, now_local: datetime) -> list[Slot]:
    """Up to five open slots nearest in time to `slot` that still have room for the whole request."""
    wanted = times(slot).starts_at
    candidates = session.scalars(
        select(Slot).where(
            Slot.orq == slot.orq,
            Slot.id != slot.id,
            Slot.status == SlotStatus.ACTIVE,
            Slot.total_capacity - Slot.booked_count >= places,
            Slot.date >= max(now_local.date(), (wanted - ALTERNATIVES_WITHIN).date()),
            Slot.date <= (wanted + ALTERNATIVES_WITHIN).date(),
        )
    ).all()
    open_ones = [c for c in candidates if not has_started(times(c), now_local)]
    open_ones.sort(key=lambda c: (abs(times(c).starts_at - wanted), times(c).starts_at))
    return open_ones[:MAX_ALTERNATIVES]


def times(slot: Slot) -> SlotTimes:
    return SlotTimes(slot.date, slot.start_time, slot.end_time)


def slot_json(slot: Slot) -> dict[str, object]:
    """The API's shape of a slot (also used inside error details)."""
    return {
        "slot_id": slot.id,
        "date": slot.date.isoformat(),
        "start_time": slot.start_time.strftime("%H:%M"),
        "end_time": slot.end_time.strftime("%H:%M"),
        "total_capacity": slot.total_capacity,
        "booked_count": slot.booked_count,
        "available_count": slot.available_count,
        "status": slot.status.value,
    }
