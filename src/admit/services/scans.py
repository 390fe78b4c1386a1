"""What the door did: the scan history (newest first, cursor-paged) and the day's live counts."""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, case, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from admit import errors
from admit.db.models import (
    Operator,
    Organization,
    Reservation,
    ReservationSlot,
    ScanEvent,
    TicketTransition,
)
from admit.db.rules import SQL
from admit.db.types import MAX_ID
from admit.domain.entry import entry_closed_rule
from admit.domain.lifecycle import ReservationStatus, TicketEvent
from admit.domain.venue_time import is_supported_day, local_now, zone
from admit.security import codes
from admit.security.codes import CodeKeys
from admit.services.organizations import policy_of

MAX_PAGE = 200
CONFLICT = "CONFLICT"  # the history's filter for second entries on one ticket


@dataclass(frozen=True)
class HistoryFilter:
    first: date | None = None
    last: date | None = None
    result: str | None = None
    operator_id: int | None = None
    # One ticket's scans: by its whole code's hash, or by the last four characters the scans keep.
    code_hash: str | None = None
    code_suffix: str | None = None


SUFFIX_LENGTH = 4  # what a scan event keeps of a code


def ticket_filter(typed: str, keys: CodeKeys) -> dict[str, str]:
    """The HistoryFilter fields for a ticket as typed: a whole code, or at least its last four characters.

    A whole code finds its own ticket's scans only; a shorter part matches on its last four characters,
    which scans of other tickets may share.
    """
    canonical = codes.normalise(typed)
    if canonical is not None:
        return {"code_hash": keys.lookup_hash(canonical)}
    tail = codes.code_end(typed, shortest=SUFFIX_LENGTH)
    if tail is None:
        raise errors.ValidationFailed(fields={"ticket": "a ticket code or at least its last 4 characters"})
    return {"code_suffix": tail[-SUFFIX_LENGTH:]}


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The venue's day as an interval of instants [start, end)."""
    tz = zone(timezone)
    return datetime.combine(day, time.min, tz), datetime.combine(day + timedelta(days=1), time.min, tz)


def scan_history(
    session: Session, *, orq: int, timezone: str, where: HistoryFilter, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the history, its times in the venue's `timezone`, and the cursor of the next page."""
    values: dict[str, Any] = {"orq": orq, "limit": limit + 1}
    if where.first is not None:
        values["from"] = day_bounds(where.first, timezone)[0]
    if where.last is not None:
        values["until"] = day_bounds(where.last, timezone)[1]
    if where.result not in (None, CONFLICT):
        values["result"] = where.result
    if where.operator_id is not None:
        values["operator_id"] = where.operator_id
    if where.code_hash is not None:
        values["code_hash"] = where.code_hash
    if where.code_suffix is not None:
        values["code_suffix"] = where.code_suffix
    if cursor is not None:
        values["cursor_at"], values["cursor_id"] = _read_cursor(cursor)
    statement = _history_statement(frozenset(values), conflicts=where.result == CONFLICT)
    with session.begin():
        rows = session.execute(statement, values).all()
    page = rows[:limit]
    next_cursor = make_cursor(page[-1].scanned_at, page[-1].id) if len(rows) > limit else None
    tz = zone(timezone)
    return [_event_json(row, tz) for row in page], next_cursor


# The page's statement and its optional conditions are built once: building them cost more than
# running them. Columns rather than ORM objects, and never the stored answer (`response`).
_FIRST, _FIRST_OPERATOR = aliased(ScanEvent), aliased(Operator)
_HISTORY = (
    select(
        ScanEvent.id,
        ScanEvent.scanned_at,
        ScanEvent.operator_id,
        Operator.name.label("operator_name"),
        ScanEvent.device_id,
        ScanEvent.action,
        ScanEvent.result,
        ScanEvent.reason,
        ScanEvent.verified,
        ScanEvent.code_suffix,
        ScanEvent.latency_ms,
        ScanEvent.offline,
        ScanEvent.offline_result,
        ScanEvent.offline_code,
        ScanEvent.conflict,
        ScanEvent.slot_id,
        ScanEvent.reservation_date,
        ScanEvent.reservation_start,
        _FIRST.id.label("first_id"),
        _FIRST.scanned_at.label("first_scanned_at"),
        _FIRST.operator_id.label("first_operator_id"),
        _FIRST_OPERATOR.name.label("first_operator_name"),
        _FIRST.device_id.label("first_device_id"),
        _FIRST.offline.label("first_offline"),
    )
    .join(Operator, Operator.id == ScanEvent.operator_id)
    .outerjoin(_FIRST, _FIRST.id == ScanEvent.conflict_with)
    .outerjoin(_FIRST_OPERATOR, _FIRST_OPERATOR.id == _FIRST.operator_id)
    .where(ScanEvent.orq == bindparam("orq"))
    .order_by(ScanEvent.scanned_at.desc(), ScanEvent.id.desc())
    .limit(bindparam("limit"))
)
_FROM = ScanEvent.scanned_at >= bindparam("from", type_=ScanEvent.scanned_at.type)
_UNTIL = ScanEvent.scanned_at < bindparam("until", type_=ScanEvent.scanned_at.type)
_CONFLICTS = ScanEvent.conflict.is_(True)
_RESULT = ScanEvent.result == bindparam("result")
_OPERATOR = ScanEvent.operator_id == bindparam("operator_id")
_CODE_HASH = ScanEvent.code_hash == bindparam("code_hash")
_CODE_SUFFIX = ScanEvent.code_suffix == bindparam("code_suffix")
# A row comparison starts the index range (orq, scanned_at, id) right after the cursor; the same
# condition spelt with OR re-reads every newer row, so a deep page cost more.
_AFTER_CURSOR = tuple_(ScanEvent.scanned_at, ScanEvent.id) < tuple_(
    bindparam("cursor_at", type_=ScanEvent.scanned_at.type), bindparam("cursor_id", type_=ScanEvent.id.type)
)
# Each condition by the value it binds.
_CONDITIONS = {
    "from": _FROM,
    "until": _UNTIL,
    "result": _RESULT,
    "operator_id": _OPERATOR,
    "code_hash": _CODE_HASH,
    "code_suffix": _CODE_SUFFIX,
    "cursor_at": _AFTER_CURSOR,
}


@functools.cache
def _history_statement(bound: frozenset[str], *, conflicts: bool) -> Select[*tuple[Any, ...]]:
    """The page's statement with the conditions whose values are `bound`, one object for each set of
    conditions: SQLAlchemy computes a statement's cache key once per object, and for this statement
    that cost more than the query."""
    conditions = [condition for name, condition in _CONDITIONS.items() if name in bound]
    if conflicts:
        conditions.append(_CONFLICTS)
    return _HISTORY.where(*conditions)


def _event_json(row: Any, tz: ZoneInfo) -> dict[str, Any]:
    """A row of the history's statement as the page and the export show it."""
    return {
        "id": row.id,
        "scanned_at": row.scanned_at.astimezone(tz).isoformat(),
        "operator": {"id": row.operator_id, "name": row.operator_name},
        "device_id": row.device_id,
        "action": row.action,
        "result": row.result,
        "code": row.reason,
        "reason": row.reason,
        "verified": row.verified,
        "ticket_code_suffix": row.code_suffix,
        "latency_ms": row.latency_ms,
        "offline": row.offline,
        "offline_result": row.offline_result,
        "offline_code": row.offline_code,
        # A second entry: this scan let a visitor in after the ticket's first entry, `first`: who
        # scanned that one, where and when (door time). A first entry pruned since is not shown.
        "conflict": {"first": _first_json(row, tz)} if row.conflict else None,
        "reservation": None
        if row.reservation_date is None
        else {
            "slot_id": row.slot_id,
            "date": row.reservation_date.isoformat(),
            "start_time": row.reservation_start.strftime("%H:%M") if row.reservation_start else None,
        },
    }


def _first_json(row: Any, tz: ZoneInfo) -> dict[str, Any] | None:
    if row.first_id is None:
        return None
    return {
        "id": row.first_id,
        "scanned_at": row.first_scanned_at.astimezone(tz).isoformat(),
        "operator": {"id": row.first_operator_id, "name": row.first_operator_name},
        "device_id": row.first_device_id,
        "offline": row.first_offline,
    }


def make_cursor(scanned_at: datetime, event_id: int) -> str:
    """The cursor of the page that starts after this event."""
    raw = f"{scanned_at.isoformat()}|{event_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _read_cursor(cursor: str) -> tuple[datetime, int]:
    """The (instant, event id) a cursor of `make_cursor` carries; anything else a client sends is a 422."""
    refused = errors.ValidationFailed(fields={"cursor": "not a cursor from this list"})
    try:
        written, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        at, event = datetime.fromisoformat(written), int(event_id)
        # The instant goes to the database as UTC, and the id as a 32-bit integer: both must fit.
        if at.tzinfo is None:
            raise ValueError("a cursor's instant has an offset")
        at = at.astimezone(UTC)
    except (binascii.Error, UnicodeError, ValueError, OverflowError) as exc:
        raise refused from exc
    if not is_supported_day(at.date()) or not 1 <= event <= MAX_ID:
        raise refused
    return at, event


def day_stats(session: Session, *, orq: int, day: date | None, now: datetime) -> dict[str, Any]:
    """Live counts for one venue day: scans by result and reason, verifications, and per slot.

    A slot whose entry window has closed also has its no-shows: the places booked and never used.
    """
    with session.begin():
        org = session.get_one(Organization, orq)
        now_local = local_now(now, org.timezone)
        day = day or now_local.date()
        start, end = day_bounds(day, org.timezone)
        in_day = and_(ScanEvent.orq == orq, ScanEvent.scanned_at >= start, ScanEvent.scanned_at < end)
        # One pass over the day's scans (its range of the (orq, scanned_at) index) for all three counts.
        by_result: dict[str, int] = {}
        by_reason: dict[str, int] = {}
        conflicts = 0
        for result, reason, conflict, count in session.execute(
            select(ScanEvent.result, ScanEvent.reason, ScanEvent.conflict, func.count())
            .where(in_day)
            .group_by(ScanEvent.result, ScanEvent.reason, ScanEvent.conflict)
        ):
            by_result[result] = by_result.get(result, 0) + count
            by_reason[reason] = by_reason.get(reason, 0) + count
            conflicts += count if conflict else 0
        verified = session.scalar(
            select(func.count())
            .select_from(TicketTransition)
            .where(
                TicketTransition.orq == orq,
                TicketTransition.event == TicketEvent.VERIFY,
                TicketTransition.at >= start,
                TicketTransition.at < end,
            )
        )
        # Counted per slot through the (slot_id, verified) index: the day's slots, not all scans.
        verified_in_slot = (
            select(func.count())
            .where(ScanEvent.slot_id == ReservationSlot.id, ScanEvent.verified.is_(True))
            .correlate(ReservationSlot)
            .scalar_subquery()
        )
        # Counted only once the slot's entry window has closed (the expiry rule, in SQL), through the
        # (slot_id, status) index: a reservation still RESERVED or EXPIRED then was never used.
        not_used = (
            select(func.count())
            .where(
                Reservation.slot_id == ReservationSlot.id,
                Reservation.status.in_((ReservationStatus.RESERVED, ReservationStatus.EXPIRED)),
            )
            .correlate(ReservationSlot)
            .scalar_subquery()
        )
        closed = entry_closed_rule(
            SQL,
            slot_date=ReservationSlot.date,
            slot_end=ReservationSlot.end_time,
            now_local=now_local,
            window=policy_of(org).entry_window,
        )
        no_shows = case((closed, not_used), else_=None)
        slots = session.execute(
            select(ReservationSlot, verified_in_slot, no_shows)
            .where(ReservationSlot.orq == orq, ReservationSlot.date == day)
            .order_by(ReservationSlot.start_time)
        ).all()
    return {
        "date": day.isoformat(),
        "timezone": org.timezone,
        "validated": sum(by_result.values()),
        "verified": verified or 0,
        "conflicts": conflicts,
        "by_result": {result: by_result.get(result, 0) for result in ("GREEN", "YELLOW", "RED")},
        "by_reason": by_reason,
        "slots": [
            {
                "slot_id": slot.id,
                "start_time": slot.start_time.strftime("%H:%M"),
                "end_time": slot.end_time.strftime("%H:%M"),
                "total_capacity": slot.total_capacity,
                "booked_count": slot.booked_count,
                "verified_count": count,
                "status": slot.status.value,
                "no_shows": missing,
            }
            for slot, count, missing in slots
        ],
    }
