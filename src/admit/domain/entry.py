"""When a reservation admits its holder: the organization's entry window around the slot."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from admit.domain.calendar import SlotTimes
from admit.domain.policy import EntryWindow


def entry_opens_at(slot: SlotTimes, window: EntryWindow) -> datetime:
    if window.is_day:
        return datetime.combine(slot.date, time.min)
    return slot.starts_at - timedelta(minutes=window.minutes_before_start or 0)


def entry_closes_at(slot: SlotTimes, window: EntryWindow) -> datetime:
    """After this moment (venue time) the reservation can no longer be used: the ticket is EXPIRED.

    Under the `day` window a reservation admits all of its day, so it expires at the day's end;
    otherwise when the slot has ended plus the minutes allowed after it.
    """
    if window.is_day:
        return datetime.combine(slot.date + timedelta(days=1), time.min)
    return slot.ends_at + timedelta(minutes=window.minutes_after_end or 0)
