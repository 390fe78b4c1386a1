"""Staff accounts of an organization, for its admins: list, create, change role or name, reset the PIN,
disable, enable. The rules are the command line's: the same service functions underneath."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field, StrictStr

from admit.api.deps import AdminDep, ContextDep, SessionDep
from admit.api.schemas import MAX_ID, Body
from admit.db.models import Operator
from admit.domain.roles import Role
from admit.services.operators import create_operator
from admit.services.staff_access import change_operator, list_operators, reset_pin, set_enabled

router = APIRouter(tags=["staff"])

OperatorIdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class StaffOut(BaseModel):
    id: int
    username: str
    name: str
    role: str
    orq: int
    disabled: bool
    disabled_at: datetime | None

    @classmethod
    def of(cls, operator: Operator) -> StaffOut:
        return cls(
            id=operator.id,
            username=operator.username,
            name=operator.name,
            role=operator.role.value,
            orq=operator.orq,
            disabled=operator.disabled_at is not None,
            disabled_at=operator.disabled_at,
        )


class StaffListOut(BaseModel):
    operators: list[StaffOut]


class StaffIn(Body):
    # Lengths are bounded here only against huge bodies; the account rules are the service's.
    username: StrictStr = Field(max_length=200)
    name: StrictStr | None = Field(default=None, max_length=1000)
    role: Role
    password: StrictStr | None = Field(default=None, max_length=256)
    pin: StrictStr | None = Field(default=None, max_length=16)


class StaffChangeIn(Body):
    role: Role | None = None
    name: StrictStr | None = Field(default=None, max_length=1000)


class PinIn(Body):
    pin: StrictStr | None = Field(default=None, max_length=16)


class PinOut(BaseModel):
    operator: StaffOut
    # Only when the server made the PIN: shown this once, stored only as a hash.
    generated_pin: str | None


@router.get("/api/operators")
def operators(admin: AdminDep, session: SessionDep) -> StaffListOut:
    """The admin's organization's staff accounts."""
    return StaffListOut(operators=[StaffOut.of(o) for o in list_operators(session, orq=admin.orq)])


@router.post("/api/operators", status_code=201)
def create(body: StaffIn, admin: AdminDep, context: ContextDep, session: SessionDep) -> StaffOut:
    """A new account in the admin's organization, with a password, a PIN, or both."""
    operator = create_operator(
        session,
        orq=admin.orq,
        username=body.username,
        name=body.name,
        role=body.role,
        password=body.password,
        pin=body.pin,
        now=context.clock.now(),
    )
    return StaffOut.of(operator)


@router.patch("/api/operators/{operator_id}")
def change(
    operator_id: OperatorIdPath,
    body: StaffChangeIn,
    admin: AdminDep,
    context: ContextDep,
    session: SessionDep,
) -> StaffOut:
    """A new role or shown name; the account's tokens carry the new role on every node within a second."""
    changed = change_operator(
        session,
        operator_id=operator_id,
        orq=admin.orq,
        acting_operator_id=admin.id,
        role=body.role,
        name=body.name,
    )
    context.facts.changed_here()
    return StaffOut.of(changed)


@router.post("/api/operators/{operator_id}/pin")
def new_pin(
    operator_id: OperatorIdPath, body: PinIn, admin: AdminDep, context: ContextDep, session: SessionDep
) -> PinOut:
    """Set the PIN given, or make one and answer it once; the account's earlier tokens are refused."""
    changed, generated = reset_pin(
        session, operator_id=operator_id, orq=admin.orq, acting_operator_id=admin.id, pin=body.pin
    )
    context.facts.changed_here()
    return PinOut(operator=StaffOut.of(changed), generated_pin=generated)


def _set(
    operator_id: int, enabled: bool, admin: AdminDep, context: ContextDep, session: SessionDep
) -> StaffOut:
    # Another organization's account reads as unknown: OPERATOR_NOT_FOUND.
    changed = set_enabled(
        session,
        enabled=enabled,
        now=context.clock.now(),
        operator_id=operator_id,
        orq=admin.orq,
        acting_operator_id=admin.id,
    )
    context.facts.changed_here()
    return StaffOut.of(changed)


@router.post("/api/operators/{operator_id}/disable")
def disable(
    operator_id: OperatorIdPath, admin: AdminDep, context: ContextDep, session: SessionDep
) -> StaffOut:
    """The account can no longer log in, and its tokens are refused on every node within a second."""
    return _set(operator_id, False, admin, context, session)


@router.post("/api/operators/{operator_id}/enable")
def enable(
    operator_id: OperatorIdPath, admin: AdminDep, context: ContextDep, session: SessionDep
) -> StaffOut:
    """The account can log in again (tokens from before the disabling stay refused)."""
    return _set(operator_id, True, admin, context, session)
