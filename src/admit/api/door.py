"""The door: validate and verify tickets, the scanner's single call, scan history and live counts."""

from __future__ import annotations

import time as timer
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BeforeValidator, Field, StrictBool, StrictStr, model_validator
from starlette.background import BackgroundTask

from admit import errors
from admit.api.deps import ContextDep, ManagerDep, SessionDep, StaffDep, limit_door
from admit.api.door_shapes import VERDICT, HistoryOut, StatsOut, SyncOut, VisitorSearchOut
from admit.api.errors import error_response
from admit.api.schemas import MAX_ID, Body, IsoDate
from admit.context import AppContext
from admit.domain.door import Result
from admit.domain.venue_time import is_supported_day, zone
from admit.i18n import LANGUAGES, negotiate
from admit.logging import log_scan, log_sync, log_visitor_search
from admit.security.codes import suffix
from admit.services import door, door_sync, scans
from admit.services.door import Action, OfflineVerdict
from admit.services.operators import StaffMember
from admit.services.scans import MAX_PAGE, HistoryFilter
from admit.services.visitor_query import MAX_LENGTH, QueryRefused, masked_email, masked_phone, read_query
from admit.services.visitor_search import search_visitors

router = APIRouter(tags=["door"])

Token = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


# How long a visitor found by the search can be scanned by its reference: a tap on the list, then the
# verdict and Mark as Verified. Later, the operator searches again.
SEARCH_REF_LIFETIME = timedelta(minutes=15)


class ScanIn(Body):
    """A ticket by its code, or by the reference the door's search gave for it: exactly one of them."""

    code: StrictStr | None = Field(
        None, min_length=1, max_length=200, description="The ticket's code as scanned or typed."
    )
    ref: StrictStr | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A visitor's `ref` from `GET /api/operator/search`, in place of the code: for the "
        f"operator who searched, for {SEARCH_REF_LIFETIME.seconds // 60} minutes (then 410 "
        "SEARCH_REF_EXPIRED; 422 INVALID_SEARCH_REF for one altered or given to someone else). The "
        "verdict and admission are the code's.",
    )
    nonce: Token | None = None
    device_id: Token | None = None

    @model_validator(mode="after")
    def _code_or_ref(self) -> ScanIn:
        if (self.code is None) == (self.ref is None):
            raise ValueError("give the ticket's code or a search result's ref, not both")
        return self


class VenueScanIn(ScanIn):
    action: Literal["validate", "admit"] = "validate"
    # With admit: false lets only a GREEN in at once; a YELLOW that allows entry is shown for the
    # operator to confirm (the scanner's one-scan mode), and a second call with true admits it.
    admit_warnings: StrictBool = True


def _door_time(value: object) -> object:
    """An ISO 8601 timestamp with its offset: the device's clock, which may be in any zone."""
    if not isinstance(value, str):
        raise ValueError("a timestamp as an ISO 8601 string with offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("a timestamp as ISO 8601 with offset, e.g. 2025-11-20T09:30:00+01:00") from None
    if moment.tzinfo is None:
        raise ValueError("a timestamp with its offset (+01:00 or Z)")
    if not is_supported_day(moment.date()):
        raise ValueError("a timestamp of a supported year")
    return moment


class OfflineScanIn(Body):
    scan_id: Token
    code: StrictStr = Field(min_length=1, max_length=200)
    scanned_at: Annotated[datetime, BeforeValidator(_door_time)]
    action: Literal["validate", "admit"]
    offline_result: Literal["GREEN", "YELLOW", "RED"]
    offline_code: StrictStr = Field(pattern=r"^[A-Z][A-Z_]{0,31}$")


class SyncIn(Body):
    device_id: Token
    scans: list[OfflineScanIn] = Field(max_length=door_sync.MAX_SCANS)


async def _operator_language(request: Request) -> str:
    """The verdict's words in the scanner's language: its page sends its own as Accept-Language."""
    return negotiate(available=LANGUAGES, accept_language=request.headers.get("accept-language"))


Language = Annotated[str, Depends(_operator_language)]


def _scan(
    body: ScanIn,
    action: Action,
    operator: StaffMember,
    context: AppContext,
    session: SessionDep,
    language: str,
    admit_warnings: bool = True,
) -> door.ScanOutcome:
    started = timer.perf_counter()
    limit_door(context, operator, body.device_id)
    now = context.clock.now()
    outcome = door.scan(
        session,
        code=_scanned_code(body, operator, context, now),
        operator=operator,
        action=action,
        nonce=body.nonce,
        device_id=body.device_id,
        venue=context.venue(session, operator.orq),
        keys=context.keys,
        now=now,
        started=started,
        admit_warnings=admit_warnings,
        language=language,
    )
    log_scan(
        outcome,
        operator_id=operator.id,
        orq=operator.orq,
        seconds=timer.perf_counter() - started,
        device_id=body.device_id,
    )
    if not outcome.replayed:
        context.metrics.scans.labels(outcome.result.value, outcome.code).inc()
    return outcome


def _scanned_code(body: ScanIn, operator: StaffMember, context: AppContext, now: datetime) -> str:
    """The code the scan is of: as sent, or behind a search result's reference (opened here, so that the
    door's one scan path judges and records it exactly as the code itself)."""
    if body.ref is None:
        return body.code or ""
    return context.keys.open_search_ref(body.ref, orq=operator.orq, operator_id=operator.id, now=now)


def _sent(outcome: door.ScanOutcome) -> Response:
    # The answer is already JSON (it is kept for retries): send those bytes rather than encode it again.
    return Response(outcome.json, media_type="application/json")


def _heard(response: Response, outcome: door.ScanOutcome, context: AppContext, orq: int) -> Response:
    """Every scan counts on the live dashboard, whatever its result: it is told once the answer has
    gone, so the door never waits for that write (see admit.live)."""
    if not outcome.replayed and context.live.due(orq):
        response.background = BackgroundTask(context.live.touched, orq)
    return response


@router.post("/api/operator/validate-ticket", response_class=JSONResponse, responses=VERDICT)
def validate_ticket(
    body: ScanIn, operator: StaffDep, context: ContextDep, session: SessionDep, language: Language
) -> Response:
    """The verdict for a code; nothing changes."""
    outcome = _scan(body, Action.VALIDATE, operator, context, session, language)
    return _heard(_sent(outcome), outcome, context, operator.orq)


@router.post("/api/operator/verify-ticket", response_class=JSONResponse, responses=VERDICT)
def verify_ticket(
    body: ScanIn, operator: StaffDep, context: ContextDep, session: SessionDep, language: Language
) -> Response:
    """Mark as verified when the verdict admits; ALREADY_VERIFIED is a 200 warning; any RED is a 409."""
    outcome = _scan(body, Action.VERIFY, operator, context, session, language)
    if outcome.result is Result.RED:
        refused = error_response(409, outcome.code, outcome.body["message"], outcome.body)
        return _heard(refused, outcome, context, operator.orq)
    return _heard(_sent(outcome), outcome, context, operator.orq)


@router.post("/venue/scan", response_class=JSONResponse, responses=VERDICT)
def venue_scan(
    body: VenueScanIn, operator: StaffDep, context: ContextDep, session: SessionDep, language: Language
) -> Response:
    """The scanner's one call: the verdict, and with `admit` the verification when entry is allowed."""
    action = Action.ADMIT if body.action == "admit" else Action.VALIDATE
    outcome = _scan(body, action, operator, context, session, language, body.admit_warnings)
    return _heard(_sent(outcome), outcome, context, operator.orq)


# Each outcome has its own fields: only those a scan's answer has are sent.
@router.post("/api/operator/scans/sync", response_model=SyncOut, response_model_exclude_unset=True)
def sync_scans(body: SyncIn, operator: StaffDep, context: ContextDep, session: SessionDep) -> dict[str, Any]:
    """A device's offline scans: each applied once, in door-time order; second entries are conflicts."""
    limit_door(context, operator, body.device_id)
    answers = door_sync.sync_scans(
        session,
        device_id=body.device_id,
        scans=[
            door_sync.OfflineScan(
                scan_id=item.scan_id,
                code=item.code,
                scanned_at=item.scanned_at,
                action=Action(item.action),
                shown=OfflineVerdict(Result(item.offline_result), item.offline_code),
            )
            for item in body.scans
        ],
        operator=operator,
        venue=context.venue(session, operator.orq),
        keys=context.keys,
        now=context.clock.now(),
    )
    log_sync(answers, operator_id=operator.id, orq=operator.orq, device_id=body.device_id)
    context.live.touched(operator.orq)
    for answer in answers:
        context.metrics.synced_scans.labels(answer.outcome.value).inc()
        if answer.result is not None and answer.reason is not None:
            context.metrics.scans.labels(answer.result, answer.reason).inc()
        if answer.outcome is door_sync.Outcome.CONFLICT:
            context.metrics.conflicts.inc()
    return {"results": [answer.body for answer in answers]}


@router.get("/api/operator/search")
def search_visitor(
    operator: StaffDep,
    context: ContextDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=MAX_LENGTH)],
) -> VisitorSearchOut:
    """Today's and tomorrow's reservations by e-mail, phone or the end of the ticket code (at most 20).
    Each is scanned by its `ref`, never by its code: the answer holds no whole code."""
    limit_door(context, operator, None)  # a search by the end of a code is a guess at codes too
    try:
        query = read_query(q)
    except QueryRefused as exc:
        raise errors.ValidationFailed(exc.message, fields={"q": exc.rule}, **exc.values) from None
    venue = context.venue(session, operator.orq)
    now = context.clock.now()
    found = search_visitors(
        session, orq=operator.orq, query=query, timezone=venue.timezone, keys=context.keys, now=now
    )
    log_visitor_search(
        orq=operator.orq,
        operator_id=operator.id,
        query_length=len(q.strip()),
        results=len(found.matches),
        more=found.more,
    )
    expires_at = now + SEARCH_REF_LIFETIME
    results = [
        {
            "ref": context.keys.search_ref(
                match.code, orq=operator.orq, operator_id=operator.id, expires_at=expires_at
            ),
            "ref_expires_at": expires_at.astimezone(zone(venue.timezone)).isoformat(),
            "code_suffix": suffix(match.code),
            "date": match.slot_date.isoformat(),
            "day": "today" if match.slot_date == found.today else "tomorrow",
            "start_time": match.start_time.strftime("%H:%M"),
            "end_time": match.end_time.strftime("%H:%M"),
            "party": match.party,
            "email": masked_email(match.email),
            "phone": masked_phone(match.phone),
            "status": match.status.value,
        }
        for match in found.matches
    ]
    return VisitorSearchOut.model_validate({"results": results, "more": found.more})


async def history_filter(
    context: ContextDep,
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: Annotated[IsoDate | None, Query()] = None,
    result: Annotated[Literal["GREEN", "YELLOW", "RED", "CONFLICT"] | None, Query()] = None,
    operator_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    ticket: Annotated[
        str | None, Query(max_length=100, description="A ticket code, or at least its last 4 characters")
    ] = None,
) -> HistoryFilter:
    """The history's filters, for its pages and its CSV export alike."""
    by_ticket = scans.ticket_filter(ticket, context.keys) if ticket else {}
    return HistoryFilter(first=from_, last=to, result=result, operator_id=operator_id, **by_ticket)


HistoryFilterDep = Annotated[HistoryFilter, Depends(history_filter)]


@router.get("/api/operators/scan-history")
def scan_history(
    manager: ManagerDep,
    context: ContextDep,
    session: SessionDep,
    where: HistoryFilterDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HistoryOut:
    timezone = context.venue(session, manager.orq).timezone
    events, next_cursor = scans.scan_history(
        session, orq=manager.orq, timezone=timezone, where=where, limit=limit, cursor=cursor
    )
    return HistoryOut.model_validate({"events": events, "next_cursor": next_cursor})


@router.get("/api/operator/stats")
def stats(
    manager: ManagerDep,
    context: ContextDep,
    session: SessionDep,
    day: Annotated[IsoDate | None, Query(alias="date")] = None,
) -> StatsOut:
    counts = scans.day_stats(session, orq=manager.orq, day=day, now=context.clock.now())
    return StatsOut.model_validate(counts)
