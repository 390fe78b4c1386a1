"""Staff accounts of an organization, for its admins: list, disable, enable."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from admit.api.deps import AdminDep, ContextDep, SessionDep
from admit.api.schemas import MAX_ID
from admit.db.models import Operator
from admit.services.staff_access import list_operators, set_enabled

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


@router.get("/api/operators")
def operators(admin: AdminDep, session: SessionDep) -> StaffListOut:
    """The admin's organization's staff accounts."""
    return StaffListOut(operators=[StaffOut.of(o) for o in list_operators(session, orq=admin.orq)])


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
