"""The offline scanner's downloads: the organization's public key and its signed bundle of tickets."""

from __future__ import annotations

import gzip
import time as timer
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from admit.api.deps import ContextDep, SessionDep, StaffDep, limit_door
from admit.api.schemas import IsoDate
from admit.domain.venue_time import local_now
from admit.services.offline_bundle import build_bundle, get_offline_key

router = APIRouter(tags=["offline"])
log = structlog.get_logger()

# A full bundle is about 190 bytes of JSON a ticket, a sixth of it random hex. Measured on 18 MiB of
# it: level 3 takes 90 ms for 2.4 MiB, level 6 200 ms for 2.2 MiB, level 9 560 ms for 2.1 MiB.
GZIP_LEVEL = 3
# Ticket hashes and who verified what: for this device only, kept by no cache on the way.
PRIVATE = {"Cache-Control": "no-store", "Vary": "Accept-Encoding, Authorization"}


class OfflineKeyOut(BaseModel):
    orq: int
    key_id: str
    public_key: str = Field(description="Ed25519 public key, base64url without padding (32 bytes)")


class EntryWindowOut(BaseModel):
    minutes_before_start: int
    minutes_after_end: int


class BundlePolicyOut(BaseModel):
    unreserved_entry: str
    entry_window: Literal["day"] | EntryWindowOut


class BundleReservationOut(BaseModel):
    date: str
    start_time: str
    end_time: str
    version: int = Field(description="grows with each move of the reservation")


class BundleTicketOut(BaseModel):
    h: str = Field(description="hex SHA-256 of the salt and the normalised code, first 32 characters")
    status: str
    valid_until: str | None
    reservation: BundleReservationOut | None
    verified_at: str | None
    verified_by: str | None


class OfflineBundleOut(BaseModel):
    """The signed bundle; written by the offline bundle's own canonical writer, documented here."""

    signature: str = Field(
        description="base64url Ed25519 signature of the canonical JSON of the document without this field"
    )
    orq: int
    date: str
    timezone: str
    policy: BundlePolicyOut
    generated_at: str
    full: bool = Field(description="a full bundle, or the changes since `since`")
    cursor: str = Field(description="`since` for the next request")
    salt: str
    key_id: str
    tickets: list[BundleTicketOut]
    removed: list[str] = Field(description="hashes of tickets that no longer admit (voided)")


@router.get("/api/operator/offline-key")
def offline_key(operator: StaffDep, context: ContextDep, session: SessionDep) -> OfflineKeyOut:
    """The public key that signs the organization's bundles (base64url, raw 32 bytes), to pin at login."""
    key = get_offline_key(session, orq=operator.orq, offline_secrets=context.offline, now=context.clock.now())
    return OfflineKeyOut(orq=key.orq, key_id=key.key_id, public_key=key.public_key)


@router.get(
    "/api/operator/offline-bundle",
    response_class=JSONResponse,
    responses={200: {"model": OfflineBundleOut, "description": "The signed bundle"}},
)
def offline_bundle(
    request: Request,
    operator: StaffDep,
    context: ContextDep,
    session: SessionDep,
    day: Annotated[IsoDate | None, Query(alias="date")] = None,
    since: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
) -> Response:
    """Every ticket the device needs for the day (default: the venue's today), or what changed `since`."""
    started = timer.perf_counter()
    limit_door(context, operator, None)  # a device refreshes every minute: counted like a scan
    venue = context.venue(session, operator.orq)
    now = context.clock.now()
    bundle = build_bundle(
        session,
        orq=operator.orq,
        day=day or local_now(now, venue.timezone).date(),
        since=since,
        venue=venue,
        keys=context.keys,
        offline_secrets=context.offline,
        now=now,
    )
    body, headers = bundle.body, PRIVATE
    if "gzip" in request.headers.get("accept-encoding", ""):
        body, headers = gzip.compress(body, GZIP_LEVEL, mtime=0), {**PRIVATE, "Content-Encoding": "gzip"}
    log.info(
        "offline.bundle",
        orq=operator.orq,
        operator_id=operator.id,
        full=bundle.full,
        entries=bundle.entries,
        removed=bundle.removed,
        bytes=len(body),
        ms=round((timer.perf_counter() - started) * 1000, 1),
    )
    return Response(body, media_type="application/json", headers=headers)
