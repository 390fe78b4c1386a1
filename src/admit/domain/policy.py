"""An organization's policy, with the safe defaults of the design."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class UnreservedEntry(StrEnum):
    DENY = "deny"
    ALLOW = "allow"


class ReservationChanges(StrEnum):
    NONE = "none"
    UNTIL_CUTOFF = "until_cutoff"


@dataclass(frozen=True)
class EntryWindow:
    """`None` minutes means the whole reserved day; otherwise minutes around the slot."""

    minutes_before_start: int | None = None
    minutes_after_end: int | None = None

    @property
    def is_day(self) -> bool:
        return self.minutes_before_start is None


@dataclass(frozen=True)
class Policy:
    unreserved_entry: UnreservedEntry = UnreservedEntry.DENY
    reservation_changes: ReservationChanges = ReservationChanges.UNTIL_CUTOFF
    change_cutoff_hours: int = 24
    cancellation_allowed: bool = True
    entry_window: EntryWindow = EntryWindow()
    # Days after activation before an unreserved ticket's holder is reminded to book; None: never.
    reminder_after_days: int | None = 7
