"""Dependencies shared by the routers: context, session, and the staff member behind a token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from admit import errors
from admit.context import AppContext
from admit.db.models import Operator
from admit.domain.roles import Role
from admit.services.operators import get_operator


def get_context(request: Request) -> AppContext:
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
) -> Operator:
    if credentials is None:
        raise errors.NotAuthenticated()
    claims = context.tokens.read(credentials.credentials, now=context.clock.now())
    with session.begin():
        operator = get_operator(session, claims.operator_id)
    if operator is None or operator.orq != claims.orq:
        raise errors.InvalidToken()
    return operator


def require(role: Role) -> Callable[[Operator], Operator]:
    def check(operator: Annotated[Operator, Depends(current_operator)]) -> Operator:
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


StaffDep = Annotated[Operator, Depends(require(Role.OPERATOR))]
ManagerDep = Annotated[Operator, Depends(require(Role.MANAGER))]
AdminDep = Annotated[Operator, Depends(require(Role.ADMIN))]


def limit_door(operator: StaffDep, context: ContextDep) -> Operator:
    """The door's own limit is per operator: many lanes may share one address."""
    context.limits.hit("validation", f"operator:{operator.id}")
    return operator


DoorOperatorDep = Annotated[Operator, Depends(limit_door)]
