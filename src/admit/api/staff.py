"""Staff login and logout."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StrictStr

from admit import errors
from admit.api.deps import ClaimsDep, ContextDep, SessionDep, StaffDep
from admit.api.schemas import Body
from admit.services.operators import login
from admit.services.staff_access import logout

router = APIRouter(tags=["staff"])


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
def operator_login(body: LoginIn, context: ContextDep, session: SessionDep) -> LoginOut:
    if (body.password is None) == (body.pin is None):
        either = "give either a password or a PIN"
        raise errors.ValidationFailed(fields={"password": either, "pin": either})
    now = context.clock.now()
    operator = login(
        session,
        username=body.username,
        password=body.password,
        pin=body.pin,
        now=now,
        max_failures=context.settings.max_login_failures,
        lockout=context.lockout,
    )
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
