"""The door: validate and verify tickets, the scanner's single call, scan history and live counts."""

from __future__ import annotations

import time as timer
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import Field, StrictStr

from admit.api.deps import ContextDep, ManagerDep, SessionDep, StaffDep, limit_door
from admit.api.errors import error_response
from admit.api.schemas import MAX_ID, Body, IsoDate
from admit.context import AppContext
from admit.domain.door import Result
from admit.logging import log_scan
from admit.services import door, scans
from admit.services.door import Action
from admit.services.operators import StaffMember
from admit.services.scans import MAX_PAGE, HistoryFilter

router = APIRouter(tags=["door"])

Token = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]


class ScanIn(Body):
    code: StrictStr = Field(min_length=1, max_length=200)
    nonce: Token | None = None
    device_id: Token | None = None


class VenueScanIn(ScanIn):
    action: Literal["validate", "admit"] = "validate"


def _scan(
    body: ScanIn, action: Action, operator: StaffMember, context: AppContext, session: SessionDep
) -> door.ScanOutcome:
    started = timer.perf_counter()
    limit_door(context, operator, body.device_id)
    outcome = door.scan(
        session,
        code=body.code,
        operator=operator,
        action=action,
        nonce=body.nonce,
        device_id=body.device_id,
        venue=context.venue(session, operator.orq),
        keys=context.keys,
        now=context.clock.now(),
        started=started,
    )
    log_scan(outcome, operator_id=operator.id, orq=operator.orq, seconds=timer.perf_counter() - started)
    if not outcome.replayed:
        context.metrics.scans.labels(outcome.result.value, outcome.code).inc()
    return outcome


def _sent(outcome: door.ScanOutcome) -> Response:
    # The answer is already JSON (it is kept for retries): send those bytes rather than encode it again.
    return Response(outcome.json, media_type="application/json")


@router.post("/api/operator/validate-ticket", response_class=JSONResponse)
def validate_ticket(body: ScanIn, operator: StaffDep, context: ContextDep, session: SessionDep) -> Response:
    """The verdict for a code; nothing changes."""
    return _sent(_scan(body, Action.VALIDATE, operator, context, session))


@router.post("/api/operator/verify-ticket", response_class=JSONResponse)
def verify_ticket(body: ScanIn, operator: StaffDep, context: ContextDep, session: SessionDep) -> Response:
    """Mark as verified when the verdict admits; ALREADY_VERIFIED is a 200 warning; any RED is a 409."""
    outcome = _scan(body, Action.VERIFY, operator, context, session)
    if outcome.result is Result.RED:
        return error_response(409, outcome.code, outcome.body["message"], outcome.body)
    return _sent(outcome)


@router.post("/venue/scan", response_class=JSONResponse)
def venue_scan(body: VenueScanIn, operator: StaffDep, context: ContextDep, session: SessionDep) -> Response:
    """The scanner's one call: the verdict, and with `admit` the verification when entry is allowed."""
    action = Action.ADMIT if body.action == "admit" else Action.VALIDATE
    return _sent(_scan(body, action, operator, context, session))


@router.get("/api/operators/scan-history")
def scan_history(
    manager: ManagerDep,
    session: SessionDep,
    from_: Annotated[IsoDate | None, Query(alias="from")] = None,
    to: Annotated[IsoDate | None, Query()] = None,
    result: Annotated[Literal["GREEN", "YELLOW", "RED"] | None, Query()] = None,
    operator_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    where = HistoryFilter(first=from_, last=to, result=result, operator_id=operator_id)
    events, next_cursor = scans.scan_history(
        session, orq=manager.orq, where=where, limit=limit, cursor=cursor
    )
    return {"events": events, "next_cursor": next_cursor}


@router.get("/api/operator/stats")
def stats(
    manager: ManagerDep,
    context: ContextDep,
    session: SessionDep,
    day: Annotated[IsoDate | None, Query(alias="date")] = None,
) -> dict[str, Any]:
    return scans.day_stats(session, orq=manager.orq, day=day, now=context.clock.now())
