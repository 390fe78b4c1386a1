"""Scans at the door: decide, verify where asked and allowed, and record every scan.

Verification locks the ticket row, so two operators verifying at the same moment give one VERIFIED
transition and one ALREADY_VERIFIED answer. A device's `nonce` makes a retry return the first answer.
"""

from __future__ import annotations

import json
import time as timer
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admit.db.models import Operator, Organization, Reservation, ReservationSlot, ScanEvent, Ticket
from admit.domain.door import Result, TicketFacts, Verdict, decide
from admit.domain.lifecycle import ReservationStatus, TicketEvent
from admit.domain.venue_time import local_now, zone
from admit.security import codes
from admit.security.codes import CodeKeys
from admit.services.capacity import times
from admit.services.operators import StaffMember
from admit.services.organizations import policy_of
from admit.services.transitions import apply_event, operator_actor


class Action(StrEnum):
    VALIDATE = "validate"  # look only
    VERIFY = "verify"  # admit a ticket the verdict allows in (the operator pressed "Mark as Verified")
    ADMIT = "admit"  # the scanner's one call: verify straight away when the verdict allows entry


@dataclass(frozen=True)
class ScanOutcome:
    body: dict[str, Any]
    result: Result
    code: str
    verified_now: bool
    replayed: bool


def scan(
    session: Session,
    *,
    code: str,
    operator: StaffMember,
    action: Action,
    nonce: str | None,
    device_id: str | None,
    keys: CodeKeys,
    now: datetime,
    started: float,
) -> ScanOutcome:
    try:
        with session.begin():
            if nonce is not None and (prior := _find_prior(session, operator.orq, nonce)) is not None:
                return prior
            outcome, event = _decide_and_record(
                session, code=code, operator=operator, action=action, keys=keys, now=now, started=started
            )
            event.nonce, event.device_id = nonce, device_id
            session.add(event)
            session.flush()
        return outcome
    except IntegrityError:
        # The same nonce, sent twice at once: the first one recorded wins, and this is its answer.
        session.rollback()
        with session.begin():
            prior = _find_prior(session, operator.orq, nonce or "")
        if prior is None:
            raise
        return prior


def _decide_and_record(
    session: Session,
    *,
    code: str,
    operator: StaffMember,
    action: Action,
    keys: CodeKeys,
    now: datetime,
    started: float,
) -> tuple[ScanOutcome, ScanEvent]:
    canonical = codes.normalise(code)
    ticket, reservation = None, None
    if canonical is not None:
        ticket, reservation = _ticket_and_reservation(
            session, keys.lookup_hash(canonical), orq=operator.orq, lock=action is not Action.VALIDATE
        )
    org = session.get_one(Organization, operator.orq)
    now_local = local_now(now, org.timezone)
    verdict = decide(
        _facts(session, ticket, org.timezone),
        times(reservation.slot) if reservation else None,
        now_local=now_local,
        policy=policy_of(org),
    )
    verified_now = False
    if ticket is not None and action is not Action.VALIDATE and verdict.entry_allowed:
        apply_event(session, ticket, TicketEvent.VERIFY, actor=operator_actor(operator.id), now=now)
        ticket.verified_at, ticket.verified_by = now, operator.id
        if reservation is not None:
            reservation.status = ReservationStatus.VERIFIED
            reservation.updated_at = now
        verified_now = True
    body = verdict_json(
        verdict,
        verified_now=verified_now,
        ticket=ticket,
        reservation=reservation,
        session=session,
        timezone=org.timezone,
    )
    body["action"] = action.value
    body["verified_now"] = verified_now
    body["scanned_at"] = now.isoformat()
    slot = reservation.slot if reservation else None
    event = ScanEvent(
        orq=operator.orq,
        operator_id=operator.id,
        action=action.value,
        code_hash=keys.lookup_hash(canonical) if canonical else None,
        code_suffix=(canonical or code.strip().upper())[-4:],
        ticket_id=ticket.id if ticket else None,
        result=verdict.result.value,
        reason=verdict.code,
        verified=verified_now,
        slot_id=slot.id if slot else None,
        reservation_date=slot.date if slot else None,
        reservation_start=slot.start_time if slot else None,
        latency_ms=round((timer.perf_counter() - started) * 1000, 3),
        scanned_at=now,
        response=json.dumps(body),
    )
    return ScanOutcome(body, verdict.result, verdict.code, verified_now, replayed=False), event


def _ticket_and_reservation(
    session: Session, code_hash: str, *, orq: int, lock: bool
) -> tuple[Ticket | None, Reservation | None]:
    """The ticket with its live reservation and slot, in one query (the door's hot path).

    Locking the ticket is enough to change its reservation too: every writer locks the ticket first.
    """
    query = (
        select(Ticket, Reservation, ReservationSlot)
        .outerjoin(
            Reservation,
            and_(Reservation.ticket_id == Ticket.id, Reservation.status != ReservationStatus.CANCELLED),
        )
        .outerjoin(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
        .where(Ticket.code_hash == code_hash, Ticket.orq == orq)
    )
    row = session.execute(query.with_for_update(of=Ticket) if lock else query).first()
    if row is None:
        return None, None
    return row[0], row[1]


def _find_prior(session: Session, orq: int, nonce: str) -> ScanOutcome | None:
    event = session.scalars(select(ScanEvent).where(ScanEvent.orq == orq, ScanEvent.nonce == nonce)).first()
    if event is None:
        return None
    body = json.loads(event.response)
    return ScanOutcome(body, Result(event.result), event.reason, verified_now=False, replayed=True)


def _facts(session: Session, ticket: Ticket | None, timezone: str) -> TicketFacts | None:
    if ticket is None:
        return None
    return TicketFacts(
        status=ticket.status,
        valid_until=ticket.valid_until,
        verified_at_local=local_now(ticket.verified_at, timezone) if ticket.verified_at else None,
        verified_by=_operator_name(session, ticket.verified_by),
    )


def _operator_name(session: Session, operator_id: int | None) -> str | None:
    if operator_id is None:
        return None
    operator = session.get(Operator, operator_id)
    return operator.name if operator else None


def verdict_json(
    verdict: Verdict,
    *,
    verified_now: bool,
    ticket: Ticket | None,
    reservation: Reservation | None,
    session: Session,
    timezone: str,
) -> dict[str, Any]:
    """The verdict as the API sends it; customer contact only where the ticket is admitted."""
    slot = reservation.slot if reservation else None
    green = verdict.result is Result.GREEN
    return {
        "result": verdict.result.value,
        "code": verdict.code,
        "title": verdict.title,
        "message": verdict.message,
        "entry_allowed": verdict.entry_allowed,
        "can_verify": verdict.can_verify,
        "ticket": None
        if ticket is None
        else {
            "status": ticket.status.value
            if verified_now or verdict.ticket_status is None
            else verdict.ticket_status.value,
            "activation_status": "inactive" if ticket.activated_at is None else "active",
            "activated_at": ticket.activated_at.isoformat() if ticket.activated_at else None,
            "code_suffix": ticket.code_suffix,
        },
        "reservation": None
        if reservation is None or slot is None
        else {
            "date": slot.date.isoformat(),
            "start_time": slot.start_time.strftime("%H:%M"),
            "end_time": slot.end_time.strftime("%H:%M"),
            "status": reservation.status.value,
        },
        "customer": {"email": reservation.customer_email, "phone": reservation.customer_phone}
        if green and reservation is not None
        else None,
        "verified_at": ticket.verified_at.astimezone(zone(timezone)).isoformat()
        if ticket is not None and ticket.verified_at
        else None,
        "verified_by": _operator_name(session, ticket.verified_by) if ticket is not None else None,
    }
