"""Which e-mails Admit sends, and the retry rule for delivering them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

from admit.domain.venue_time import zone


class MailKind(StrEnum):
    CONFIRMATION = "confirmation"
    UPDATE = "update"  # the reservation moved
    CANCELLATION = "cancellation"
    RESERVE_REMINDER = "reserve_reminder"  # activated some days ago, still no reservation
    VISIT_REMINDER = "visit_reminder"  # the visit is tomorrow
    ORDER = "order"  # tickets issued to a buyer: the codes, how to activate them, where to book
    SLOT_CLOSED = "slot_closed"  # the venue closed the visit's time: choose another


class MailStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # given up: a manager can see it and send it again
    SKIPPED = "SKIPPED"  # superseded before it could be sent (a confirmation for a cancelled visit)


MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after the `attempts`-th failure: 30 s, 1 min, 2 min … capped at an hour."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), LONGEST_WAIT)


def gives_up(attempts: int) -> bool:
    return attempts >= MAX_ATTEMPTS


def reminded_if_booked_before(visit_day: date, timezone: str) -> datetime:
    """A visit booked on the day before it (venue time) or later gets no "tomorrow" reminder.

    Its confirmation has just said the same; a reminder hours after it would only repeat it. The
    answer is the venue's midnight starting that day: bookings made before it are reminded.
    """
    return datetime.combine(visit_day - timedelta(days=1), time.min, tzinfo=zone(timezone))
