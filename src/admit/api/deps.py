"""Dependencies shared by the routers: context, session, and the staff member behind a token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from admit import errors
from admit.context import AppContext
from admit.domain.roles import Role
from admit.services.operators import StaffMember, get_operator


async def get_context(request: Request) -> AppContext:
    # async: no I/O here, so no trip to the thread pool
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    with context.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="A token from POST /api/operator/login")


def current_operator(
    context: ContextDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> StaffMember:
    if credentials is None:
        raise errors.NotAuthenticated()
    claims = context.tokens.read(credentials.credentials, now=context.clock.now())
    member = context.staff.get(claims.operator_id)
    if member is None:
        with session.begin():
            operator = get_operator(session, claims.operator_id)
        if operator is None:
            raise errors.InvalidToken()
        member = context.staff.put(StaffMember.of(operator))
    if member.orq != claims.orq:
        raise errors.InvalidToken()
    return member


def require(role: Role) -> Callable[[StaffMember], Awaitable[StaffMember]]:
    async def check(operator: Annotated[StaffMember, Depends(current_operator)]) -> StaffMember:
        if not operator.role.includes(role):
            raise errors.Forbidden(required_role=role.value, your_role=operator.role.value)
        return operator

    return check


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit_reservation_writes(request: Request, context: ContextDep) -> None:
    context.limits.hit("reservations", _client(request))


def limit_validation(request: Request, context: ContextDep) -> None:
    context.limits.hit("validation", _client(request))


StaffDep = Annotated[StaffMember, Depends(require(Role.OPERATOR))]
ManagerDep = Annotated[StaffMember, Depends(require(Role.MANAGER))]
AdminDep = Annotated[StaffMember, Depends(require(Role.ADMIN))]


def limit_door(operator: StaffDep, context: ContextDep) -> StaffMember:
    """The door's own limit is per operator: many lanes may share one address."""
    context.limits.hit("validation", f"operator:{operator.id}")
    return operator


DoorOperatorDep = Annotated[StaffMember, Depends(limit_door)]
