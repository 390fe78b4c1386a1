"""Disabling and enabling staff accounts, listing them, and logging a token out.

Each change bumps the shared change counter in its own transaction, so that every server process drops
its cached copy of who is behind a token within half a second.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Operator
from admit.services import cache_version


def list_operators(session: Session, *, orq: int | None) -> list[Operator]:
    """Staff accounts, of one organization or all, by organization and username."""
    query = select(Operator).order_by(Operator.orq, Operator.username)
    if orq is not None:
        query = query.where(Operator.orq == orq)
    with session.begin():
        return list(session.scalars(query))


def set_enabled(
    session: Session,
    *,
    enabled: bool,
    now: datetime,
    username: str | None = None,
    operator_id: int | None = None,
    orq: int | None = None,
    acting_operator_id: int | None = None,
) -> Operator:
    """Disable or enable one account, found by username or by id (within `orq` when given).

    Disabling refuses the account's tokens from now on, also after a later enable; doing it twice is
    harmless. An admin cannot disable their own account (no one would be left to undo it).
    """
    query = select(Operator).with_for_update()
    if username is not None:
        query = query.where(Operator.username == username.strip().lower())
    else:
        query = query.where(Operator.id == operator_id)
    if orq is not None:
        query = query.where(Operator.orq == orq)
    with session.begin():
        operator = session.scalars(query).first()
        if operator is None:
            raise errors.OperatorNotFound()
        if not enabled and operator.id == acting_operator_id:
            raise errors.CannotDisableYourself()
        if not enabled and operator.disabled_at is None:
            operator.disabled_at = now
            operator.token_generation += 1
        elif enabled:
            operator.disabled_at = None
        cache_version.bump(session)
    return operator


def logout(session: Session, *, token_id: str, operator_id: int, expires_at: datetime, now: datetime) -> None:
    """Refuse this token from now on, on every server process."""
    with session.begin():
        cache_version.revoke_token(
            session, token_id=token_id, operator_id=operator_id, expires_at=expires_at, now=now
        )
