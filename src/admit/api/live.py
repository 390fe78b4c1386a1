"""The manager's live counts as server-sent events: fresh stats pushed within a second of a change.

One stream per open dashboard, async (no thread held while it waits). It sends the day's stats at once,
then again whenever the organization's live counter moves (on any node: see admit.live) or at least
every `REFRESH` seconds (a slot's entry window closing changes its no-shows without any write), a
comment line every `HEARTBEAT` seconds so that proxies keep the connection, and an `end` event when its
token expires, is logged out or its account is disabled (or `RECONNECT` after `LIFETIME`). Each stats
read is a request's read: bounded by the database's statement timeout, and a failed one is simply tried
again on the next tick.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import anyio
import structlog
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from admit import errors
from admit.api.deps import ClaimsDep, ContextDep, ManagerDep, still_allowed
from admit.api.door_shapes import StatsOut
from admit.api.schemas import IsoDate
from admit.context import AppContext
from admit.domain.roles import Role
from admit.i18n import N_
from admit.live import COALESCE
from admit.security.tokens import TokenClaims
from admit.services import scans

log = structlog.get_logger()
router = APIRouter(tags=["door"])

# Seconds between looks at the counter (read from the database every 0.5 s per process). After a
# change the stats are read once more a tick later, which must be at least COALESCE (see admit.live).
TICK = COALESCE
HEARTBEAT = 15.0
REFRESH = 30.0
# A stream ends after this and the page opens another at once: nodes that were restarted or added get
# their share of the dashboards, and a stop never waits on a stream for longer.
LIFETIME = 600.0


@router.get(
    "/api/operator/stats/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "`text/event-stream`: `stats` events, each a StatsOut as JSON (as "
            "GET /api/operator/stats answers), and a final `end` event when the login ends.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def stats_stream(
    manager: ManagerDep,
    claims: ClaimsDep,
    context: ContextDep,
    day: Annotated[IsoDate | None, Query(alias="date")] = None,
) -> StreamingResponse:
    """The day's live counts, pushed as they change (server-sent events)."""
    if not context.live.has_room(manager.orq):
        raise errors.RateLimited(
            N_("Too many live dashboards are open for this organization: refresh by polling instead."),
            retry_after=30,
        )
    return StreamingResponse(
        _events(context, claims, manager.orq, day),
        media_type="text/event-stream",
        # A proxy that buffers would hold the events back: nginx honours this header per answer.
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(context: AppContext, claims: TokenClaims, orq: int, day: date | None) -> AsyncIterator[str]:
    with context.live.stream(orq) as admitted:
        if not admitted:
            yield _event("end", {"reason": "TOO_MANY_STREAMS"})
            return
        sent: str | None = None
        seen: int | None = None
        again = False  # read once more after a change: see admit.live on coalesced bumps
        next_refresh = next_beat = 0.0
        started = time.monotonic()
        while True:
            now = time.monotonic()
            if now - started >= LIFETIME:
                yield _event("end", {"reason": "RECONNECT"})
                return
            try:
                member = await still_allowed(context, claims)
                if not member.role.includes(Role.MANAGER):
                    raise errors.Forbidden(required_role=Role.MANAGER.value, your_role=member.role.value)
            except errors.DomainError as ended:
                yield _event("end", {"reason": ended.code})
                return
            except (OperationalError, PoolTimeout) as exc:
                # The login could not be checked: nothing is sent until it can be.
                log.warning("live.read_failed", orq=orq, error=str(getattr(exc, "orig", exc))[:200])
                await anyio.sleep(TICK)
                continue
            try:
                version = await context.live.version(orq)
                if version != seen or again or now >= next_refresh:
                    again, seen = version != seen, version
                    stats = await run_in_threadpool(_stats_json, context, orq, day)
                    next_refresh = now + REFRESH
                    if stats != sent:
                        sent, next_beat = stats, now + HEARTBEAT
                        yield f"event: stats\ndata: {stats}\n\n"
            except (OperationalError, PoolTimeout) as exc:
                log.warning("live.read_failed", orq=orq, error=str(getattr(exc, "orig", exc))[:200])
            if now >= next_beat:
                next_beat = now + HEARTBEAT
                yield ": still here\n\n"
            await anyio.sleep(TICK)


def _stats_json(context: AppContext, orq: int, day: date | None) -> str:
    with context.sessions() as session:
        counts = scans.day_stats(session, orq=orq, day=day, now=context.clock.now())
    return StatsOut.model_validate(counts).model_dump_json()


def _event(name: str, data: dict[str, str]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
