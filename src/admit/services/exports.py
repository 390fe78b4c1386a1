"""CSV exports for managers: the scan history (with the history's filters) and a day's reservations.

Both are read in keyset pages and written out page by page, so a busy year exports in constant memory;
all the pages of one export are read in one read-only transaction (on PostgreSQL at REPEATABLE READ), so
the file is a picture of one moment: a scan or booking committed while it is written is not in it, and a
reservation moved meanwhile is not in it twice. The transaction's connection is held for the download
and given back when the download ends, however it ends (api.exports closes the stream).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, time
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from admit.db.engine import READ_ONLY, bound_statements
from admit.db.models import Operator, Organization, Reservation, ReservationSlot, Ticket
from admit.domain.venue_time import zone
from admit.services.organizations import load_venue
from admit.services.scans import HistoryFilter, scan_history

PAGE = 500
# A page is one index range, the history page's query with a larger limit: bounded like a request's
# statements (ADMIT_DB_STATEMENT_TIMEOUT's default), in seconds, whatever the engine was made with.
STATEMENT_TIMEOUT = 5.0
# The snapshot is held while the client reads: one that reads nothing for this long loses its download
# (the server ends the transaction) rather than keep old row versions from the vacuum for good.
IDLE_TIMEOUT_MS = 60_000
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


@contextmanager
def snapshot(engine: Engine) -> Iterator[Callable[[], Session]]:
    """Sessions that all read one moment of the database, in one read-only transaction, while it lasts.

    Each session joins the transaction (its own begin and commit leave it open); the transaction ends,
    and its connection goes back to the pool, when the block does.
    """
    with engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                _bound(connection)
            yield partial(Session, bind=connection)


def _bound(connection: Connection) -> None:
    # Before the first read: the snapshot is taken there, and the level cannot change after it.
    connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    bound_statements(connection, STATEMENT_TIMEOUT)
    connection.exec_driver_sql(f"SET LOCAL idle_in_transaction_session_timeout = {IDLE_TIMEOUT_MS}")


def scan_csv(engine: Engine, *, orq: int, where: HistoryFilter) -> Generator[str, None, None]:
    """The scan history as CSV, read from one snapshot while it is written; closing it ends the read."""
    with snapshot(engine) as sessions:
        yield from csv_text(SCAN_COLUMNS, scan_rows(sessions, orq=orq, where=where))


def reservation_csv(engine: Engine, *, orq: int, day: date) -> Generator[str, None, None]:
    """A venue day's reservations as CSV, read from one snapshot while it is written."""
    with snapshot(engine) as sessions:
        yield from csv_text(RESERVATION_COLUMNS, reservation_rows(sessions, orq=orq, day=day))


def scan_rows(
    sessions: Callable[[], Session], *, orq: int, where: HistoryFilter, page: int = PAGE
) -> Iterator[list[Any]]:
    """The history's rows, newest first, through its own cursor: one page in memory at a time."""
    timezone: str | None = None
    cursor: str | None = None
    while True:
        with sessions() as session:
            timezone = timezone or load_venue(session, orq).timezone
            events, cursor = scan_history(
                session, orq=orq, timezone=timezone, where=where, limit=page, cursor=cursor
            )
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


def reservation_rows(
    sessions: Callable[[], Session], *, orq: int, day: date, page: int = PAGE
) -> Iterator[list[Any]]:
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
        .limit(page)
    )
    after: tuple[time, str] | None = None
    timezone: str | None = None
    while True:
        with sessions() as session, session.begin():
            timezone = timezone or session.get_one(Organization, orq).timezone
            rows = session.execute(
                query
                if after is None
                else query.where(tuple_(ReservationSlot.start_time, Reservation.id) > after)
            ).all()
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
        if len(rows) < page:
            return
        after = (rows[-1][0], rows[-1][2])
