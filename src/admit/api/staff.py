"""Staff login and logout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

import anyio
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, StrictStr
from sqlalchemy.orm import Session

from admit import errors
from admit.api.deps import (
    ClaimsDep,
    ContextDep,
    SessionDep,
    StaffDep,
    check_limit,
    clear_limit,
    client_address,
    hit_limit,
)
from admit.api.schemas import Body
from admit.context import AppContext
from admit.db.models import Operator
from admit.services.operators import login, normal_username
from admit.services.staff_access import logout

router = APIRouter(tags=["staff"])

# How long a login waits for a hashing thread before it is told to try again.
HASH_WAIT_SECONDS = 2.0


class LoginIn(Body):
    username: StrictStr = Field(min_length=1, max_length=64)
    password: StrictStr | None = Field(default=None, min_length=1, max_length=256)
    pin: StrictStr | None = Field(default=None, min_length=1, max_length=16)


class OperatorOut(BaseModel):
    id: int
    name: str
    role: str
    orq: int


class LoginOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    operator: OperatorOut


@router.post("/api/operator/login")
async def operator_login(
    body: LoginIn, request: Request, context: ContextDep, session: SessionDep
) -> LoginOut:
    """Throttled per client before any hashing; the hash itself runs on the few threads kept for it."""
    if (body.password is None) == (body.pin is None):
        either = "give either a password or a PIN"
        raise errors.ValidationFailed(fields={"password": either, "pin": either})
    try:
        operator = await _authenticate(body, request, context, session)
    except (errors.InvalidCredentials, errors.RateLimited, errors.ServiceBusy):
        await anyio.sleep(context.settings.login_refusal_delay_ms / 1000)
        raise
    now = context.clock.now()
    token, expires_at = context.tokens.issue(
        operator_id=operator.id,
        orq=operator.orq,
        role=operator.role,
        now=now,
        generation=operator.token_generation,
    )
    return LoginOut(
        access_token=token,
        expires_at=expires_at,
        operator=OperatorOut(id=operator.id, name=operator.name, role=operator.role.value, orq=operator.orq),
    )


async def _authenticate(body: LoginIn, request: Request, context: AppContext, session: Session) -> Operator:
    client = client_address(request)
    # Failures are counted per (client, username), never per account alone: a stranger's guesses slow
    # the stranger down and cannot lock the account's owner out.
    attempt = f"{client}|{normal_username(body.username)}"
    await hit_limit(context, "login", client)
    await check_limit(context, "login_failures", attempt)
    authenticate = partial(login, session, username=body.username, password=body.password, pin=body.pin)
    try:
        operator = await _hashing(context, authenticate)
    except errors.InvalidCredentials:
        await hit_limit(context, "login_failures", attempt)
        raise
    await clear_limit(context, "login_failures", attempt)
    return operator


async def _hashing(context: AppContext, work: Callable[[], Operator]) -> Operator:
    """Run `work` on a hashing thread, or SERVICE_BUSY if this process has hashed its share of the
    CPU for now or no thread frees up soon (a login flood is under way)."""
    try:
        context.limits.hit("hashes", "process")  # in memory: never a network call
    except errors.RateLimited:
        raise errors.ServiceBusy(retry_after=1) from None
    operator = await context.hashing.run(work, HASH_WAIT_SECONDS)
    if operator is None:
        raise errors.ServiceBusy(retry_after=1)
    return operator


@router.post("/api/operator/logout", status_code=204)
def operator_logout(
    operator: StaffDep, claims: ClaimsDep, context: ContextDep, session: SessionDep
) -> Response:
    """End the token presented, on every server process, before its expiry."""
    logout(
        session,
        token_id=claims.token_id,
        operator_id=operator.id,
        expires_at=claims.expires_at,
        now=context.clock.now(),
    )
    context.facts.changed_here()
    return Response(status_code=204)
