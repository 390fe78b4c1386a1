"""Changing staff accounts (role, name, PIN; disabling and enabling), listing them, and logging out.

Each change bumps the shared change counter in its own transaction, so that every server process drops
its cached copy of who is behind a token within half a second.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Operator
from admit.domain.roles import Role
from admit.security.passwords import hash_secret
from admit.services import cache_version
from admit.services.operators import secret_and_name_problems

# A PIN made for the admin when they give none: six digits, the shortest a new PIN may be.
GENERATED_PIN_DIGITS = 6


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
    harmless. An admin cannot disable their own account (no one would be left to undo it), and an
    admin acting through the API must still be one when the change is made.
    """
    if operator_id is not None and orq is not None and acting_operator_id is not None:
        # From the admin page: the acting admin is checked again under lock, as for a role change.
        with session.begin():
            operator = _lock_for_change(
                session, operator_id=operator_id, orq=orq, acting_operator_id=acting_operator_id
            )
            if not enabled and operator.id == acting_operator_id:
                raise errors.CannotDisableYourself()
            _apply_enabled(operator, enabled=enabled, now=now)
            cache_version.bump(session)
        return operator
    query = select(Operator).with_for_update()
    if username is not None:
        query = query.where(Operator.username == username.strip().lower())
    else:
        query = query.where(Operator.id == operator_id)
    if orq is not None:
        query = query.where(Operator.orq == orq)
    with session.begin():
        found = session.scalars(query).first()
        if found is None:
            raise errors.OperatorNotFound()
        operator = found
        _apply_enabled(operator, enabled=enabled, now=now)
        cache_version.bump(session)
    return operator


def _apply_enabled(operator: Operator, *, enabled: bool, now: datetime) -> None:
    if not enabled and operator.disabled_at is None:
        operator.disabled_at = now
        operator.token_generation += 1
    elif enabled:
        operator.disabled_at = None


def change_operator(
    session: Session,
    *,
    operator_id: int,
    orq: int,
    acting_operator_id: int,
    role: Role | None = None,
    name: str | None = None,
) -> Operator:
    """Change an account's role or shown name. Its tokens keep working and carry the new role at once
    (the role is read from the account, whose cached copy the change counter drops everywhere).

    An admin cannot change their own role: with the acting admin checked under lock to still be an
    enabled admin, an organization always keeps at least one admin, even when two admins demote each
    other at the same moment.
    """
    problems = secret_and_name_problems(pin=None, name=name)
    if problems:
        raise errors.ValidationFailed(fields=problems)
    with session.begin():
        operator = _lock_for_change(
            session, operator_id=operator_id, orq=orq, acting_operator_id=acting_operator_id
        )
        if role is not None and role is not operator.role:
            if operator.id == acting_operator_id:
                raise errors.CannotChangeOwnRole()
            operator.role = role
        if name is not None:
            operator.name = name.strip()
        cache_version.bump(session)
    return operator


def reset_pin(
    session: Session, *, operator_id: int, orq: int, acting_operator_id: int, pin: str | None
) -> tuple[Operator, str | None]:
    """Give an account a new PIN, `pin` or a generated one (returned, to be shown once).

    The account's tokens from before are refused: a PIN is reset because it may be known to someone else.
    """
    problems = secret_and_name_problems(pin=pin, name=None)
    if problems:
        raise errors.ValidationFailed(fields=problems)
    generated = None
    if pin is None:
        generated = pin = "".join(secrets.choice("0123456789") for _ in range(GENERATED_PIN_DIGITS))
    pin_hash = hash_secret(pin)  # before the lock: hashing takes a while
    with session.begin():
        operator = _lock_for_change(
            session, operator_id=operator_id, orq=orq, acting_operator_id=acting_operator_id
        )
        operator.pin_hash = pin_hash
        operator.token_generation += 1
        cache_version.bump(session)
    return operator, generated


def _lock_for_change(session: Session, *, operator_id: int, orq: int, acting_operator_id: int) -> Operator:
    """The account to change, of `orq`, locked together with the acting admin's (in id order, so two
    admins changing each other wait for one another instead of deadlocking); FORBIDDEN if the actor is
    no longer an enabled admin by now."""
    rows = {
        row.id: row
        for row in session.scalars(
            select(Operator)
            .where(Operator.id.in_({operator_id, acting_operator_id}), Operator.orq == orq)
            .order_by(Operator.id)
            .with_for_update()
        )
    }
    actor = rows.get(acting_operator_id)
    if actor is None or actor.disabled_at is not None or actor.role is not Role.ADMIN:
        raise errors.Forbidden(required_role=Role.ADMIN.value)
    operator = rows.get(operator_id)
    if operator is None:  # unknown, or another organization's: the same answer
        raise errors.OperatorNotFound()
    return operator


def logout(session: Session, *, token_id: str, operator_id: int, expires_at: datetime, now: datetime) -> None:
    """Refuse this token from now on, on every server process."""
    with session.begin():
        cache_version.revoke_token(
            session, token_id=token_id, operator_id=operator_id, expires_at=expires_at, now=now
        )
