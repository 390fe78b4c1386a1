"""Dependencies shared by the routers: context, session, and the staff member behind a token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from admit import errors
from admit.context import AppContext
from admit.domain.roles import Role
from admit.security.tokens import TokenClaims
from admit.services.operators import StaffMember, get_operator


async def get_context(request: Request) -> AppContext:
    # async: no I/O here, so no trip to the thread pool
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_session(context: ContextDep) -> AsyncIterator[Session]:
    # The dependencies are async and do their rare I/O in the thread pool, so that a request makes
    # one trip there, for its route, instead of one per dependency.
    session = context.sessions()  # no connection is taken until the route begins a transaction
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/operator/login")


async def current_claims(
    context: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenClaims:
    """The claims of a token that is still good: signed, unexpired, not logged out."""
    if credentials is None:
        raise errors.NotAuthenticated()
    claims = context.tokens.read(credentials.credentials, now=context.clock.now())
    if context.facts.due:  # at most every half second per process: one small query
        await run_in_threadpool(context.facts.refresh)
    if claims.token_id in context.facts.revoked:
        raise errors.InvalidToken()
    return claims


ClaimsDep = Annotated[TokenClaims, Depends(current_claims)]


async def current_operator(context: ContextDep, claims: ClaimsDep) -> StaffMember:
    member = context.staff.get(claims.operator_id)
    if member is None:
        member = await run_in_threadpool(_load_member, context, claims.operator_id)
    # A disabled member's tokens, and those from before a disabling, are refused.
    if member.disabled or member.token_generation != claims.generation or member.orq != claims.orq:
        raise errors.InvalidToken()
    return member


async def still_allowed(context: AppContext, claims: TokenClaims) -> StaffMember:
    """For a request that lasts (a live stream): its token and staff member judged again, now."""
    if context.clock.now() >= claims.expires_at:
        raise errors.TokenExpired()
    if context.facts.due:
        await run_in_threadpool(context.facts.refresh)
    if claims.token_id in context.facts.revoked:
        raise errors.InvalidToken()
    return await current_operator(context, claims)


def _load_member(context: AppContext, operator_id: int) -> StaffMember:
    with context.sessions() as session, session.begin():
        operator = get_operator(session, operator_id)
        if operator is None:
            raise errors.InvalidToken()
        return context.staff.put(operator_id, StaffMember.of(operator))


def require(role: Role) -> Callable[[StaffMember], Awaitable[StaffMember]]:
    async def check(operator: Annotated[StaffMember, Depends(current_operator)]) -> StaffMember:
        if not operator.role.includes(role):
            raise errors.Forbidden(required_role=role.value, your_role=operator.role.value)
        return operator

    return check


def client_address(request: Request) -> str:
    """Who limits count against: the peer, or the client a trusted proxy forwarded for (see app.py)."""
    return request.client.host if request.client else "unknown"


async def hit_limit(context: AppContext, kind: str, key: str) -> None:
    """Count one request against a limit (RATE_LIMITED past it); Redis is called off the event loop."""
    if context.limits.remote:
        await run_in_threadpool(context.limits.hit, kind, key)
    else:
        context.limits.hit(kind, key)


async def check_limit(context: AppContext, kind: str, key: str) -> None:
    """RATE_LIMITED if the limit is used up already; counts nothing."""
    if context.limits.remote:
        await run_in_threadpool(context.limits.check, kind, key)
    else:
        context.limits.check(kind, key)


async def clear_limit(context: AppContext, kind: str, key: str) -> None:
    if context.limits.remote:
        await run_in_threadpool(context.limits.clear, kind, key)
    else:
        context.limits.clear(kind, key)


async def limit_reservation_writes(request: Request, context: ContextDep) -> None:
    await hit_limit(context, "reservations", client_address(request))


async def limit_validation(request: Request, context: ContextDep) -> None:
    """Every look-up by ticket code counts: each is a guess at a code."""
    await hit_limit(context, "validation", client_address(request))


async def limit_code_page(request: Request, context: ContextDep) -> None:
    """A page given `?code=` counts as a look-up by code."""
    if "code" in request.query_params:
        await hit_limit(context, "validation", client_address(request))


StaffDep = Annotated[StaffMember, Depends(require(Role.OPERATOR))]
ManagerDep = Annotated[StaffMember, Depends(require(Role.MANAGER))]
AdminDep = Annotated[StaffMember, Depends(require(Role.ADMIN))]


def limit_door(context: AppContext, operator: StaffMember, device_id: str | None) -> None:
    """The door's limit is per lane, (operator, device), so lanes sharing one login are not throttled
    together; a scan without a device id counts for its operator. A higher cap per operator keeps
    made-up device ids from buying unlimited guesses. Called from the (threaded) scan routes."""
    lane = f"operator:{operator.id}:device:{device_id}" if device_id else f"operator:{operator.id}"
    context.limits.hit("validation", lane)  # first, so that a lane's refused scans spend nothing more
    context.limits.hit("door", f"operator:{operator.id}")
