"""Liveness, readiness and the Prometheus scrape."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from admit import errors
from admit.api.deps import ContextDep
from admit.api.errors import translated_error
from admit.db.migrate import head_revision
from admit.i18n import N_

router = APIRouter(tags=["health"])


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    database: str
    revision: str


@router.get("/healthz")
async def healthz() -> HealthOut:
    # async and without I/O: it answers even when every worker thread is stuck on the database.
    return HealthOut(status="ok")


@router.get("/readyz", response_model=ReadyOut)  # a 503 is sent as it is, in the error shape
async def readyz(request: Request, context: ContextDep) -> ReadyOut | JSONResponse:
    reachable, revision = await context.probe.reachable_revision()
    if not reachable:
        message = N_("The database does not answer.")
        return translated_error(request.headers, 503, "DATABASE_UNREACHABLE", message)
    head = head_revision()
    if revision != head:
        return translated_error(
            request.headers,
            503,
            "MIGRATIONS_PENDING",
            # Translators: keep `admit db upgrade` as it is: it is a command.
            N_("The database schema is not current: run `admit db upgrade`."),
            {"database": revision, "code": head},
        )
    return ReadyOut(status="ready", database=context.engine.dialect.name, revision=revision or "")


async def may_scrape(request: Request, context: ContextDep) -> None:
    """With ADMIT_METRICS_TOKEN, its bearer; without, this machine only, and not through a proxy."""
    token = context.settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise errors.NotAuthenticated(N_("Send the metrics token as a Bearer token."))
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise errors.InvalidToken(N_("The metrics token is not valid."))
        return
    # A proxy on this machine makes every visitor look local: what it relays is not ours to show.
    relayed = "forwarded" in request.headers or "x-forwarded-for" in request.headers
    if relayed or not _is_loopback(request.client.host if request.client else ""):
        raise errors.Forbidden(
            # Translators: keep ADMIT_METRICS_TOKEN as it is: it is a setting's name.
            N_("Metrics are served to this machine only, unless ADMIT_METRICS_TOKEN is set.")
        )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(may_scrape)])
async def metrics(context: ContextDep) -> Response:
    return await context.metrics.render()
