"""CSV exports for managers: the scan history (with the history's filters) and a day's reservations.

Both are read in keyset pages, each in a short transaction of its own, and written out page by page: a
busy year exports in constant memory and without holding a connection for the whole download.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import date, time
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, aliased

from admit.db.models import Operator, Organization, Reservation, ReservationSlot, Ticket
from admit.domain.venue_time import zone
from admit.services.scans import HistoryFilter, scan_history

PAGE = 500
# A cell a spreadsheet would read as a formula is written with a leading apostrophe (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

SCAN_COLUMNS = [
    "scanned_at",
    "operator_id",
    "operator_name",
    "device_id",
    "action",
    "result",
    "reason",
    "ticket_code_suffix",
    "verified",
    "offline",
    "second_entry",
    "reservation_date",
    "reservation_start",
]
RESERVATION_COLUMNS = [
    "start_time",
    "end_time",
    "reservation_id",
    "ticket_code_suffix",
    "party_size",
    "customer_email",
    "customer_phone",
    "status",
    "verified_at",
    "verified_by_id",
    "verified_by_name",
]


def safe_cell(value: object) -> str:
    """The cell as text, made inert if a spreadsheet would run it."""
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(columns: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """The header, then the rows, as CSV text in chunks of about a page each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(value) for value in row])
        if count % PAGE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def scan_rows(sessions: Callable[[], Session], *, orq: int, where: HistoryFilter) -> Iterator[list[Any]]:
    """The history's rows, newest first, through its own cursor: one page in memory at a time."""
    cursor: str | None = None
    while True:
        with sessions() as session:
            events, cursor = scan_history(session, orq=orq, where=where, limit=PAGE, cursor=cursor)
        for event in events:
            reservation = event["reservation"] or {}
            yield [
                event["scanned_at"],
                event["operator"]["id"],
                event["operator"]["name"],
                event["device_id"],
                event["action"],
                event["result"],
                event["reason"],
                event["ticket_code_suffix"],
                event["verified"],
                event["offline"],
                event["conflict"] is not None,
                reservation.get("date"),
                reservation.get("start_time"),
            ]
        if cursor is None:
            return


def reservation_rows(sessions: Callable[[], Session], *, orq: int, day: date) -> Iterator[list[Any]]:
    """A venue day's reservations (cancelled ones too, with their status) by start time.

    The party is the reservations booked together: the same slot, contact and moment of booking.
    """
    booked_with = aliased(Reservation)
    party = (
        select(func.count())
        .where(
            booked_with.slot_id == Reservation.slot_id,
            booked_with.customer_email == Reservation.customer_email,
            booked_with.reserved_at == Reservation.reserved_at,
        )
        .correlate(Reservation)
        .scalar_subquery()
    )
    query = (
        select(
            ReservationSlot.start_time,
            ReservationSlot.end_time,
            Reservation.id,
            Ticket.code_suffix,
            party,
            Reservation.customer_email,
            Reservation.customer_phone,
            Reservation.status,
            Ticket.verified_at,
            Ticket.verified_by,
            Operator.name,
        )
        .join(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
        .join(Ticket, Ticket.id == Reservation.ticket_id)
        .outerjoin(Operator, Operator.id == Ticket.verified_by)
        .where(ReservationSlot.orq == orq, ReservationSlot.date == day, Reservation.orq == orq)
        .order_by(ReservationSlot.start_time, Reservation.id)
        .limit(PAGE)
    )
    after: tuple[time, str] | None = None
    timezone: str | None = None
    while True:
        with sessions() as session, session.begin():
            timezone = timezone or session.get_one(Organization, orq).timezone
            page = (
                query
                if after is None
                else query.where(tuple_(ReservationSlot.start_time, Reservation.id) > after)
            )
            rows = session.execute(page).all()
        for start, end, reservation_id, suffix, size, email, phone, status, at, by_id, by_name in rows:
            yield [
                start.strftime("%H:%M"),
                end.strftime("%H:%M"),
                reservation_id,
                suffix,
                size,
                email,
                phone,
                status.value,
                at.astimezone(zone(timezone)).isoformat() if at is not None else None,
                by_id,
                by_name,
            ]
        if len(rows) < PAGE:
            return
        after = (rows[-1][0], rows[-1][2])
