"""Scans at the door: decide, verify where asked and allowed, and record every scan.

Verification locks the ticket row, so two operators verifying at the same moment give one VERIFIED
transition and one ALREADY_VERIFIED answer. A device's `nonce` makes a retry return the first answer;
the nonce sent again with anything else (another code, action or operator) is refused.

This is the hottest path of the service, so it reads and writes with plain SQL statements (one query
for the ticket, its live reservation, its slot, who verified it and how many of its party share the
slot; one statement per write) rather than through ORM objects.
"""

from __future__ import annotations

import json
import time as timer
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from admit import errors
from admit.db.models import Operator, Reservation, ReservationSlot, ScanEvent, Ticket, live_reservation_of
from admit.domain import offline
from admit.domain.calendar import SlotTimes
from admit.domain.door import ENTRY_CODES, Party, Result, TicketFacts, Verdict, decide, party_at_door
from admit.domain.lifecycle import ReservationStatus, TicketEvent, TicketStatus
from admit.domain.venue_time import local_now, zone
from admit.security import codes
from admit.security import offline as offline_keys
from admit.security.codes import CodeKeys
from admit.services.offline_bundle import find_public_key
from admit.services.operators import StaffMember
from admit.services.organizations import Venue
from admit.services.ticket_lookup import BY_CODE_IN_ORGANIZATION, code_suffix
from admit.services.transitions import change_statuses, operator_actor


class Action(StrEnum):
    VALIDATE = "validate"  # look only
    VERIFY = "verify"  # admit a ticket the verdict allows in (the operator pressed "Mark as Verified")
    ADMIT = "admit"  # the scanner's one call: verify straight away when the verdict allows entry


@dataclass(frozen=True)
class ScanOutcome:
    body: dict[str, Any]
    json: str  # the body as sent, and as kept for a retry
    result: Result
    code: str
    verified_now: bool
    replayed: bool
    # Who the scan was about, for the logs: the ticket's id (None for an unknown code) and the last
    # four characters of the code as scanned, never the code.
    ticket_id: int | None = None
    code_suffix: str = ""


@dataclass(frozen=True)
class FoundTicket:
    """A ticket as the door reads it, with its live reservation and slot if it has one."""

    id: int
    status: TicketStatus
    valid_until: date | None
    activated_at: datetime | None
    verified_at: datetime | None
    verified_by: str | None  # the operator's name
    code_suffix: str
    reservation_id: str | None
    reservation_status: ReservationStatus | None
    customer_email: str | None
    customer_phone: str | None
    slot_id: int | None
    slot_date: date | None
    start_time: time | None
    end_time: time | None
    # The live reservations of its party in the same slot (itself included), and how many are in.
    party_size: int
    party_admitted: int

    @property
    def slot(self) -> SlotTimes | None:
        if self.slot_date is None or self.start_time is None or self.end_time is None:
            return None
        return SlotTimes(self.slot_date, self.start_time, self.end_time)


@dataclass(frozen=True)
class OfflineVerdict:
    """What a device showed when it decided a scan alone."""

    result: Result
    code: str

    @property
    def admitted(self) -> bool:
        return self.code in ENTRY_CODES


@dataclass(frozen=True)
class Door:
    """Where, when and by whom a scan was made: what every step of the pipeline reads."""

    operator: StaffMember
    venue: Venue
    action: Action
    at: datetime  # the door's own time: the server's clock online, the device's for a synced scan
    device_id: str | None = None
    offline: OfflineVerdict | None = None  # set when the device decided the scan without the server
    # False: only a GREEN admits; a YELLOW that allows entry waits for the operator's confirming tap.
    admit_warnings: bool = True
    language: str = "en"  # of the verdict's title and message: the operator's


@dataclass(frozen=True)
class Credential:
    """What a scanned or typed code says: the look-up hash, and the four characters a scan event keeps.

    A signed reservation QR carries its code with the organization's claim: the code counts only once
    the look-up has checked the signature with the organization's key.
    """

    canonical: str | None
    code_hash: str | None
    suffix: str
    signed: offline.SignedQr | None = None


def scan(
    session: Session,
    *,
    code: str,
    operator: StaffMember,
    action: Action,
    nonce: str | None,
    device_id: str | None,
    venue: Venue,
    keys: CodeKeys,
    now: datetime,
    started: float,
    admit_warnings: bool = True,
    language: str = "en",
) -> ScanOutcome:
    """An online scan: credential → lookup → decide → admit → render → record, in one transaction.
    A retry with the same nonce gets the first answer as it was, in the first call's language."""
    door = Door(
        operator=operator,
        venue=venue,
        action=action,
        at=now,
        device_id=device_id,
        admit_warnings=admit_warnings,
        language=language,
    )
    credential = read_credential(code, keys)
    try:
        with session.begin():
            found = lookup(session, credential, door=door)
            verdict = judge(found, door=door)
            verified_now = admit(session, found, verdict, door=door)
            outcome = render(verdict, credential, found=found, verified_now=verified_now, door=door)
            event = event_row(credential, found, outcome, door=door)
            event.update(nonce=nonce, latency_ms=round((timer.perf_counter() - started) * 1000, 3))
            record(session, event)
        return outcome
    except IntegrityError:
        # The nonce was seen before (a retry, or the same scan sent twice at once): the first answer
        # stands, and everything this one did has been rolled back.
        session.rollback()
        if nonce is None:
            raise
        with session.begin():
            prior = _find_prior(session, operator.orq, nonce)
        if prior is None:
            raise
        answer, first = prior
        # Only the same request sent again gets the first answer: the same ticket, action and operator.
        # Anything else learns nothing of the first ticket (its holder's contact is in a GREEN answer).
        if first != (credential.code_hash, credential.suffix, action.value, operator.id):
            raise errors.NonceReused() from None
        if answer is None:  # kept past its replay window, then dropped (services.retention)
            raise errors.NonceExpired() from None
        return answer


def read_credential(code: str, keys: CodeKeys) -> Credential:
    """Step 1: the code as scanned or typed (alone, or in a signed QR), normalised and hashed."""
    signed = None
    if offline.is_qr_text(code):
        try:
            signed = offline.parse_qr(code)
        except ValueError:  # malformed: as unknown as any code that cannot be one
            return Credential(None, None, code_suffix(None, code))
        code = signed.code
    canonical = codes.normalise(code)
    code_hash = keys.lookup_hash(canonical) if canonical is not None else None
    return Credential(canonical, code_hash, code_suffix(canonical, code), signed)


def lookup(session: Session, credential: Credential, *, door: Door) -> FoundTicket | None:
    """Step 2: the ticket of the operator's organization, locked when the scan may change it."""
    if credential.code_hash is None:
        return None
    if credential.signed is not None and not _signed_by(session, credential.signed, orq=door.operator.orq):
        return None  # a forged or foreign claim: never trusted, answered as an unknown code
    return _find(
        session, credential.code_hash, orq=door.operator.orq, lock=door.action is not Action.VALIDATE
    )


def judge(found: FoundTicket | None, *, door: Door) -> Verdict:
    """Step 3: the domain's verdict at the door's time, in the venue's time zone."""
    timezone = door.venue.timezone
    facts = _facts(found, timezone)
    if door.offline is not None and found is not None and verified_after(found, door.at):
        # Decided offline before the verification the server holds: the ticket had not been used yet.
        facts = TicketFacts(status=_status_before_entry(found), valid_until=found.valid_until)
    slot = found.slot if found else None
    return decide(
        facts, slot, now_local=local_now(door.at, timezone), policy=door.venue.policy, language=door.language
    )


def admit(session: Session, found: FoundTicket | None, verdict: Verdict, *, door: Door) -> bool:
    """Step 4: the VERIFIED transition, when the scan admits and the verdict lets the visitor in."""
    wants_entry = door.action is not Action.VALIDATE and (door.offline is None or door.offline.admitted)
    wants_entry = wants_entry and (door.admit_warnings or verdict.result is Result.GREEN)
    # A verified ticket is let in only by a synced scan from before its verification: that moves the
    # entry (services.door_sync), it is not a second transition.
    if found is None or not wants_entry or not verdict.entry_allowed or found.status is TicketStatus.VERIFIED:
        return False
    _verify(session, found, operator=door.operator, now=door.at)
    return True


def render(
    verdict: Verdict, credential: Credential, *, found: FoundTicket | None, verified_now: bool, door: Door
) -> ScanOutcome:
    """Step 5: the answer as sent (and kept for a retry)."""
    body = verdict_json(
        verdict,
        found=found,
        verified_now=verified_now,
        operator=door.operator,
        timezone=door.venue.timezone,
        now=door.at,
    )
    body["action"] = door.action.value
    body["verified_now"] = verified_now
    body["scanned_at"] = door.at.isoformat()
    sent = json.dumps(body)
    return ScanOutcome(
        body,
        sent,
        verdict.result,
        verdict.code,
        verified_now,
        replayed=False,
        ticket_id=found.id if found else None,
        code_suffix=credential.suffix,
    )


def event_row(
    credential: Credential, found: FoundTicket | None, outcome: ScanOutcome, *, door: Door
) -> dict[str, Any]:
    """Step 6's row: the scan as a fact with its context (who, which device, the door's time, offline)."""
    slot = found.slot if found else None
    offline = door.offline
    return {
        "orq": door.operator.orq,
        "operator_id": door.operator.id,
        "device_id": door.device_id,
        "action": door.action.value,
        "code_hash": credential.code_hash,
        "code_suffix": credential.suffix,
        "ticket_id": found.id if found else None,
        "result": outcome.result.value,
        "reason": outcome.code,
        "verified": outcome.verified_now,
        "slot_id": found.slot_id if found else None,
        "reservation_date": slot.date if slot else None,
        "reservation_start": slot.start_time if slot else None,
        "scanned_at": door.at,
        "response": outcome.json,
        "offline": offline is not None,
        "offline_result": offline.result.value if offline else None,
        "offline_code": offline.code if offline else None,
    }


def record(session: Session, event: dict[str, Any]) -> None:
    """Step 6: the scan event, whatever the result."""
    session.connection().execute(_RECORD, event)


def verified_after(found: FoundTicket, at: datetime) -> bool:
    return found.status is TicketStatus.VERIFIED and found.verified_at is not None and found.verified_at > at


def _status_before_entry(found: FoundTicket) -> TicketStatus:
    """Only a reserved ticket, or an activated one where the venue admits unreserved, is ever verified."""
    return TicketStatus.RESERVED if found.reservation_id is not None else TicketStatus.ACTIVATED


# The statements are built once: building one costs more than running it.
_MEMBER = aliased(Reservation)


def _party_count(counted: Any, *, alone: int) -> Any:
    """`counted` over the live members of the reservation's party booked in its slot: a look-up by the
    party index, so its cost is the party's size, never the slot's; none at all for a reservation made
    before parties (its party id is its own: `alone`). Both counts share one WHERE so that the planner
    reads them the same way, rather than the slot's index for the VERIFIED ones."""
    members = (
        select(counted)
        .where(
            _MEMBER.party_id == Reservation.party_id,
            _MEMBER.slot_id == Reservation.slot_id,
            # Equalities rather than IN: a list parameter is expanded at every execution.
            or_(_MEMBER.status == ReservationStatus.RESERVED, _MEMBER.status == ReservationStatus.VERIFIED),
        )
        .correlate(Reservation)
        .scalar_subquery()
    )
    return case((or_(Reservation.id.is_(None), Reservation.party_id == Reservation.id), alone), else_=members)


_FIND = (
    select(
        Ticket.id,
        Ticket.status,
        Ticket.valid_until,
        Ticket.activated_at,
        Ticket.verified_at,
        Operator.name,
        Ticket.code_suffix,
        Reservation.id,
        Reservation.status,
        Reservation.customer_email,
        Reservation.customer_phone,
        ReservationSlot.id,
        ReservationSlot.date,
        ReservationSlot.start_time,
        ReservationSlot.end_time,
        _party_count(func.count(), alone=1),
        _party_count(func.count(case((_MEMBER.status == ReservationStatus.VERIFIED, 1))), alone=0),
    )
    .select_from(Ticket)
    .outerjoin(
        Reservation,
        live_reservation_of(Ticket.id),
    )
    .outerjoin(ReservationSlot, ReservationSlot.id == Reservation.slot_id)
    .outerjoin(Operator, Operator.id == Ticket.verified_by)
    .where(BY_CODE_IN_ORGANIZATION)
)
# Locking the ticket is enough to change its reservation too: every writer locks the ticket first.
_FIND_LOCKED = _FIND.with_for_update(of=Ticket)
_VERIFY_RESERVATION = (
    update(Reservation)
    .where(Reservation.id == bindparam("reservation"))
    .values(status=ReservationStatus.VERIFIED, updated_at=bindparam("now"))
)
_RECORD = insert(ScanEvent)
_PRIOR = select(
    ScanEvent.response,
    ScanEvent.result,
    ScanEvent.reason,
    ScanEvent.code_hash,
    ScanEvent.code_suffix,
    ScanEvent.action,
    ScanEvent.operator_id,
    ScanEvent.ticket_id,
).where(ScanEvent.orq == bindparam("orq"), ScanEvent.nonce == bindparam("nonce"))


def _find(session: Session, code_hash: str, *, orq: int, lock: bool) -> FoundTicket | None:
    """The ticket with its live reservation and slot, and who verified it, in one query."""
    query = _FIND_LOCKED if lock else _FIND
    row = session.connection().execute(query, {"code_hash": code_hash, "orq": orq}).first()
    return None if row is None else FoundTicket(*cast(tuple[Any, ...], row))


def _signed_by(session: Session, signed: offline.SignedQr, *, orq: int) -> bool:
    if signed.claim.orq != orq:
        return False
    public_key = find_public_key(session, orq=orq)
    return public_key is not None and offline_keys.verify(public_key, signed.message, signed.signature)


def _verify(session: Session, found: FoundTicket, *, operator: StaffMember, now: datetime) -> None:
    connection = session.connection()
    change_statuses(
        connection,
        tickets=[(found.id, found.status)],
        orq=operator.orq,
        event=TicketEvent.VERIFY,
        actor=operator_actor(operator.id),
        now=now,
        verified_at=now,
        verified_by=operator.id,
    )
    if found.reservation_id is not None:
        connection.execute(_VERIFY_RESERVATION, {"reservation": found.reservation_id, "now": now})


def _find_prior(
    session: Session, orq: int, nonce: str
) -> tuple[ScanOutcome | None, tuple[str | None, str, str, int]] | None:
    """The first answer for this nonce (None once dropped) and what it answered: hash, suffix, action, by."""
    row = session.connection().execute(_PRIOR, {"orq": orq, "nonce": nonce}).first()
    if row is None:
        return None
    sent, result, reason, code_hash, suffix, action, operator_id, ticket_id = row
    answer = (
        None
        if sent is None
        else ScanOutcome(
            json.loads(sent),
            sent,
            Result(result),
            reason,
            verified_now=False,
            replayed=True,
            ticket_id=ticket_id,
            code_suffix=suffix,
        )
    )
    return answer, (code_hash, suffix, action, operator_id)


def _facts(found: FoundTicket | None, timezone: str) -> TicketFacts | None:
    if found is None:
        return None
    return TicketFacts(
        status=found.status,
        valid_until=found.valid_until,
        verified_at_local=local_now(found.verified_at, timezone) if found.verified_at else None,
        verified_by=found.verified_by,
    )


def _party_json(party: Party | None) -> dict[str, int] | None:
    return None if party is None else {"size": party.size, "admitted": party.admitted}


def verdict_json(
    verdict: Verdict,
    *,
    found: FoundTicket | None,
    verified_now: bool,
    operator: StaffMember,
    timezone: str,
    now: datetime,
) -> dict[str, Any]:
    """The verdict as the API sends it; customer contact only where the ticket is admitted."""
    slot = found.slot if found else None
    green = verdict.result is Result.GREEN
    verified_at, verified_by = (now, operator.name) if verified_now else (None, None)
    if found is not None and not verified_now:
        verified_at, verified_by = found.verified_at, found.verified_by
    status = None
    if found is not None:
        status = TicketStatus.VERIFIED if verified_now else verdict.ticket_status or found.status
    return {
        "result": verdict.result.value,
        "code": verdict.code,
        "title": verdict.title,
        "message": verdict.message,
        "entry_allowed": verdict.entry_allowed,
        "can_verify": verdict.can_verify,
        "ticket": None
        if found is None or status is None
        else {
            "status": status.value,
            "activation_status": "inactive" if found.activated_at is None else "active",
            "activated_at": found.activated_at.isoformat() if found.activated_at else None,
            "code_suffix": found.code_suffix,
        },
        "reservation": None
        if found is None or slot is None or found.reservation_status is None
        else {
            "date": slot.date.isoformat(),
            "start_time": slot.start_time.strftime("%H:%M"),
            "end_time": slot.end_time.strftime("%H:%M"),
            "status": (ReservationStatus.VERIFIED if verified_now else found.reservation_status).value,
            "party": _party_json(
                party_at_door(found.party_size, found.party_admitted, admitted_now=verified_now)
            ),
        },
        "customer": {"email": found.customer_email, "phone": found.customer_phone}
        if green and found is not None and found.reservation_id is not None
        else None,
        "verified_at": verified_at.astimezone(zone(timezone)).isoformat() if verified_at else None,
        "verified_by": verified_by,
    }
