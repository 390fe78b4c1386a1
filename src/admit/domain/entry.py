"""When a reservation admits its holder: the organization's entry window around the slot."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from admit.domain.calendar import SlotTimes
from admit.domain.policy import EntryWindow
from admit.domain.rules import PY, Ops


def entry_opens_at(slot: SlotTimes, window: EntryWindow) -> datetime:
    if window.is_day:
        return datetime.combine(slot.date, time.min)
    return slot.starts_at - timedelta(minutes=window.minutes_before_start or 0)


def entry_closed_rule(
    ops: Ops, *, slot_date: Any, slot_end: Any, now_local: datetime, window: EntryWindow
) -> Any:
    """Whether the reservation can no longer be used at `now_local` (venue time): its ticket is EXPIRED.

    Under the `day` window a reservation admits all of its day, so it closes at the day's end;
    otherwise when the slot has ended plus the minutes allowed after it. The minutes are taken off
    `now_local` rather than added to the slot's end, so that SQL compares the slot's columns with
    values and no database has to do date arithmetic (the expiry sweep runs this rule in SQL).
    """
    if window.is_day:
        return slot_date < now_local.date()
    latest_end = now_local - timedelta(minutes=window.minutes_after_end or 0)
    day = latest_end.date()
    return ops.any(slot_date < day, ops.all(slot_date == day, slot_end <= latest_end.time()))


def entry_closed(slot: SlotTimes, window: EntryWindow, now_local: datetime) -> bool:
    return bool(
        entry_closed_rule(PY, slot_date=slot.date, slot_end=slot.end_time, now_local=now_local, window=window)
    )
