"""Scans a device decided offline, sent later: each stored once, applied in door-time order, and every
second entry on one ticket surfaced as a conflict.

Each scan runs the door's own pipeline (services.door) at the device's door time, in a transaction of
its own, so one scan that cannot be stored never holds back the rest of the queue. When one ticket let
two visitors in (two offline devices, or one offline and one online), the first in door time keeps the
VERIFIED transition: a synced scan from before the entry the server holds takes that entry over, in the
same transaction, and the later scans of the ticket read as they would have online (ALREADY_VERIFIED,
and a conflict naming the first entry where they let someone in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from admit import errors
from admit.db.models import Operator, ScanEvent, Ticket, TicketTransition
from admit.domain.door import TicketFacts, decide
from admit.domain.lifecycle import TicketEvent, TicketStatus
from admit.domain.venue_time import local_now, zone
from admit.security.codes import CodeKeys
from admit.services.door import (
    Action,
    Door,
    FoundTicket,
    OfflineVerdict,
    ScanOutcome,
    admit,
    event_row,
    judge,
    lookup,
    read_credential,
    render,
    verified_after,
)
from admit.services.operators import StaffMember
from admit.services.organizations import Venue
from admit.services.transitions import operator_actor

MAX_SCANS = 500  # per request: a device with more sends several
# A device's clock may run a little ahead of the server's; a queue older than a week is not a door's.
CLOCK_SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=7)
# A device that admits a ticket it verified online itself this close before (or after, by its own clock)
# is repeating the entry its slow answer hid from it, not letting in a second visitor.
SAME_VISIT = timedelta(minutes=2)


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this device sent this scan before: stored once, answered from the first
    CONFLICT = "conflict"  # the ticket let two visitors in; `conflict` names both scans
    REFUSED = "refused"  # the scan id was used before for another scan


@dataclass(frozen=True)
class OfflineScan:
    scan_id: str
    code: str
    scanned_at: datetime
    action: Action
    shown: OfflineVerdict


@dataclass(frozen=True)
class SyncAnswer:
    scan_id: str
    outcome: Outcome
    body: dict[str, Any]
    result: str | None = None  # the verdict recorded, for the scan counters (None: nothing new stored)
    reason: str | None = None
    scan: ScanOutcome | None = None  # the scan as decided now (None: nothing new stored), for its log lines


def sync_scans(
    session: Session,
    *,
    device_id: str,
    scans: Sequence[OfflineScan],
    operator: StaffMember,
    venue: Venue,
    keys: CodeKeys,
    now: datetime,
) -> list[SyncAnswer]:
    """Apply a device's queued scans in door-time order; answers come back in the order sent."""
    _check_door_times(scans, now)
    answers: dict[int, SyncAnswer] = {}
    order = sorted(range(len(scans)), key=lambda i: (scans[i].scanned_at, scans[i].scan_id, i))
    for index in order:
        door = Door(
            operator=operator,
            venue=venue,
            action=scans[index].action,
            at=scans[index].scanned_at,
            device_id=device_id,
            offline=scans[index].shown,
        )
        answers[index] = _sync_one(session, scans[index], door=door, keys=keys, now=now)
    return [answers[i] for i in range(len(scans))]


def _check_door_times(scans: Sequence[OfflineScan], now: datetime) -> None:
    """Refuse the whole request, before anything is written, when a door time cannot be one."""
    problems = {}
    for index, item in enumerate(scans):
        if item.scanned_at > now + CLOCK_SKEW:
            problems[f"scans.{index}.scanned_at"] = "is in the future by the server's clock"
        elif item.scanned_at < now - MAX_AGE:
            problems[f"scans.{index}.scanned_at"] = f"is more than {MAX_AGE.days} days old"
    if problems:
        raise errors.ValidationFailed(fields=problems)


def _sync_one(
    session: Session, item: OfflineScan, *, door: Door, keys: CodeKeys, now: datetime
) -> SyncAnswer:
    credential = read_credential(item.code, keys)
    orq, device_id = door.operator.orq, door.device_id
    try:
        with session.begin():
            prior = _prior(session, orq=orq, device_id=device_id, scan_id=item.scan_id)
            if prior is not None:
                return _again(prior, item, credential.code_hash, credential.suffix)
            found = lookup(session, credential, door=door)
            verdict = judge(found, door=door)
            verified_now = admit(session, found, verdict, door=door)
            let_in = door.action is not Action.VALIDATE and item.shown.admitted
            # The device's own entry again (its online verify answered after the page had gone offline
            # and the operator admitted once more): the same visitor, not a second entry.
            again = found is not None and let_in and _same_visit(session, found.id, door=door)
            takes_over = (
                found is not None
                and let_in
                and not again
                and verdict.entry_allowed
                and verified_after(found, door.at)
            )
            second = found is not None and let_in and not again and verdict.code == "ALREADY_VERIFIED"
            outcome = render(
                verdict, credential, found=found, verified_now=verified_now or takes_over, door=door
            )
            event = event_row(credential, found, outcome, door=door)
            event.update(scan_id=item.scan_id, synced_at=now, latency_ms=0.0, conflict=second)
            event_id = session.connection().execute(_RECORD, event).scalar_one()
            pair: tuple[int | None, int | None] | None = None  # (first entry, second entry)
            if found is not None and takes_over:
                pair = (event_id, _take_over_entry(session, found, event_id=event_id, door=door, now=now))
            elif found is not None and second:
                first = _entry_holder(session, found.id, other_than=event_id)
                session.connection().execute(_MARK_CONFLICT, {"event": event_id, "first": first})
                pair = (first, event_id)
            body: dict[str, Any] = {
                "scan_id": item.scan_id,
                "outcome": (Outcome.CONFLICT if pair else Outcome.APPLIED).value,
                "result": outcome.result.value,
                "code": outcome.code,
                "verified": outcome.verified_now,
                "conflict": _conflict_view(session, *pair, door.venue.timezone) if pair else None,
            }
            return SyncAnswer(
                item.scan_id, Outcome(body["outcome"]), body, outcome.result.value, outcome.code, outcome
            )
    except IntegrityError:
        # The same scan stored at the same moment by another request (the queue sent twice at once):
        # everything this one did is rolled back, and the stored one answers.
        session.rollback()
        with session.begin():
            prior = _prior(session, orq=orq, device_id=device_id, scan_id=item.scan_id)
            if prior is None:
                raise
            return _again(prior, item, credential.code_hash, credential.suffix)


_RECORD = insert(ScanEvent).returning(ScanEvent.id)
_PRIOR = select(ScanEvent).where(
    ScanEvent.orq == bindparam("orq"),
    ScanEvent.device_id == bindparam("device_id"),
    ScanEvent.scan_id == bindparam("scan_id"),
)
_MARK_CONFLICT = (
    update(ScanEvent)
    .where(ScanEvent.id == bindparam("event"))
    .values(conflict=True, conflict_with=bindparam("first"))
)


def _prior(session: Session, *, orq: int, device_id: str | None, scan_id: str) -> ScanEvent | None:
    return session.scalars(_PRIOR, {"orq": orq, "device_id": device_id, "scan_id": scan_id}).first()


def _again(prior: ScanEvent, item: OfflineScan, code_hash: str | None, suffix: str) -> SyncAnswer:
    """The scan sent before answers again; a scan id reused for another scan is refused, naming nothing."""
    same = (prior.code_hash, prior.code_suffix, prior.action, prior.scanned_at) == (
        code_hash,
        suffix,
        item.action.value,
        item.scanned_at,
    ) and (prior.offline_result, prior.offline_code) == (item.shown.result.value, item.shown.code)
    if not same:
        refusal = errors.NonceReused()
        error = {"code": refusal.code, "message": refusal.message}
        return SyncAnswer(
            item.scan_id, Outcome.REFUSED, {"scan_id": item.scan_id, "outcome": "refused", "error": error}
        )
    body: dict[str, Any] = {
        "scan_id": item.scan_id,
        "outcome": Outcome.DUPLICATE.value,
        "result": prior.result,
        "code": prior.reason,
        "verified": prior.verified,
        "conflict_recorded": prior.conflict,
    }
    return SyncAnswer(item.scan_id, Outcome.DUPLICATE, body)


def _same_visit(session: Session, ticket_id: int, *, door: Door) -> bool:
    """Whether the ticket's entry was made by this device and operator moments from this scan."""
    holder = _entry_holder(session, ticket_id)
    if holder is None:
        return False
    device_id, operator_id, at = session.execute(
        select(ScanEvent.device_id, ScanEvent.operator_id, ScanEvent.scanned_at).where(ScanEvent.id == holder)
    ).one()
    return (
        device_id is not None
        and (device_id, operator_id) == (door.device_id, door.operator.id)
        and abs(at - door.at) <= SAME_VISIT
    )


def _entry_holder(session: Session, ticket_id: int, *, other_than: int | None = None) -> int | None:
    """The scan that holds the ticket's VERIFIED transition (None if it was verified without a scan)."""
    query = select(ScanEvent.id).where(ScanEvent.ticket_id == ticket_id, ScanEvent.verified.is_(True))
    if other_than is not None:
        query = query.where(ScanEvent.id != other_than)
    return session.scalar(query.limit(1))


def _take_over_entry(
    session: Session, found: FoundTicket, *, event_id: int, door: Door, now: datetime
) -> int | None:
    """This earlier scan becomes the ticket's entry; the scans after it read as they would have online.

    Returns the scan that held the entry until now, which is the second entry from here on.
    """
    connection = session.connection()
    holder = _entry_holder(session, found.id, other_than=event_id)
    connection.execute(
        update(Ticket)
        .where(Ticket.id == found.id)
        .values(verified_at=door.at, verified_by=door.operator.id, updated_at=now)
    )
    # The audit's VERIFY row is the ticket's first entry, by whom and when it happened at the door.
    connection.execute(
        update(TicketTransition)
        .where(TicketTransition.ticket_id == found.id, TicketTransition.event == TicketEvent.VERIFY)
        .values(at=door.at, actor=operator_actor(door.operator.id))
    )
    timezone = door.venue.timezone
    used = TicketFacts(
        status=TicketStatus.VERIFIED,
        valid_until=found.valid_until,
        verified_at_local=local_now(door.at, timezone),
        verified_by=door.operator.name,
    )
    later = session.execute(
        select(ScanEvent.id, ScanEvent.scanned_at, ScanEvent.verified, ScanEvent.conflict).where(
            ScanEvent.ticket_id == found.id, ScanEvent.scanned_at > door.at, ScanEvent.id != event_id
        )
    ).all()
    for later_id, scanned_at, verified, conflict in later:
        verdict = decide(
            used, found.slot, now_local=local_now(scanned_at, timezone), policy=door.venue.policy
        )
        second = verified or conflict
        connection.execute(
            update(ScanEvent)
            .where(ScanEvent.id == later_id)
            .values(
                result=verdict.result.value,
                reason=verdict.code,
                verified=False,
                conflict=second,
                conflict_with=event_id if second else None,
            )
        )
    return holder


def _conflict_view(session: Session, first: int | None, second: int | None, timezone: str) -> dict[str, Any]:
    """Both scans of a second entry: device, operator and door time of each (None: no scan holds it)."""
    ids = [event for event in (first, second) if event is not None]
    who = aliased(Operator)
    rows = {
        event.id: _scan_view(event, name, timezone)
        for event, name in session.execute(
            select(ScanEvent, who.name)
            .join(who, who.id == ScanEvent.operator_id)
            .where(ScanEvent.id.in_(ids))
        )
    }
    return {"first": rows.get(first or 0), "second": rows.get(second or 0)}


def _scan_view(event: ScanEvent, operator_name: str, timezone: str) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "scanned_at": event.scanned_at.astimezone(zone(timezone)).isoformat(),
        "operator": {"id": event.operator_id, "name": operator_name},
        "device_id": event.device_id,
        "offline": event.offline,
    }
