"""Staff accounts and login, with lockout after repeated failures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Operator, Organization
from admit.domain.roles import Role
from admit.security.passwords import hash_secret, verify_secret
from admit.services.organizations import MAX_ID, MAX_NAME

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
PIN = re.compile(r"[0-9]{4,8}")
MIN_PASSWORD = 8


def create_operator(
    session: Session,
    *,
    orq: int,
    username: str,
    name: str | None,
    role: Role,
    password: str | None,
    pin: str | None,
    now: datetime,
) -> Operator:
    username = username.strip().lower()
    problems: dict[str, str] = {}
    if not USERNAME.fullmatch(username):
        problems["username"] = "2-64 characters: letters, digits, '.', '_' or '-'"
    if password is None and pin is None:
        problems["password"] = "give a password, a PIN, or both"
    if password is not None and len(password) < MIN_PASSWORD:
        problems["password"] = f"at least {MIN_PASSWORD} characters"
    if pin is not None and not PIN.fullmatch(pin):
        problems["pin"] = "4 to 8 digits"
    if name is not None and not 0 < len(name.strip()) <= MAX_NAME:
        problems["name"] = f"1 to {MAX_NAME} characters"
    if problems:
        raise errors.ValidationFailed(fields=problems)
    if not 1 <= orq <= MAX_ID:
        raise errors.OrganizationNotFound()
    operator = Operator(
        orq=orq,
        username=username,
        name=(name or username).strip(),
        role=role,
        password_hash=hash_secret(password) if password is not None else None,
        pin_hash=hash_secret(pin) if pin is not None else None,
        failed_logins=0,
        created_at=now,
    )
    try:
        with session.begin():
            if session.get(Organization, orq) is None:
                raise errors.OrganizationNotFound()
            session.add(operator)
    except IntegrityError as exc:  # the unique index is the arbiter between concurrent creators
        raise errors.DuplicateUsername(fields={"username": "taken"}) from exc
    return operator


def login(
    session: Session,
    *,
    username: str,
    password: str | None,
    pin: str | None,
    now: datetime,
    max_failures: int,
    lockout: timedelta,
) -> Operator:
    """The operator whose password or PIN matches, or INVALID_CREDENTIALS / ACCOUNT_LOCKED."""
    with session.begin():
        operator = session.scalars(
            select(Operator).where(Operator.username == username.strip().lower()).with_for_update()
        ).first()
        if operator is not None and operator.locked_until is not None and operator.locked_until > now:
            raise errors.AccountLocked(locked_until=operator.locked_until.isoformat())
        if pin is not None:
            ok = verify_secret(operator.pin_hash if operator else None, pin)
        else:
            ok = verify_secret(operator.password_hash if operator else None, password or "")
        if operator is None:
            raise errors.InvalidCredentials()
        if ok:
            operator.failed_logins = 0
            operator.locked_until = None
        else:
            # The failure is committed before the refusal, so it counts.
            operator.failed_logins += 1
            if operator.failed_logins >= max_failures:
                operator.locked_until = now + lockout
                operator.failed_logins = 0
    if not ok:
        if operator.locked_until is not None:
            raise errors.AccountLocked(locked_until=operator.locked_until.isoformat())
        raise errors.InvalidCredentials()
    if operator.disabled_at is not None:  # the same answer as a wrong password: nothing to learn
        raise errors.InvalidCredentials()
    return operator


@dataclass(frozen=True)
class StaffMember:
    """Who is behind a staff token: what every staff endpoint needs, without a database row."""

    id: int
    orq: int
    role: Role
    name: str
    token_generation: int = 0
    disabled: bool = False

    @classmethod
    def of(cls, operator: Operator) -> StaffMember:
        return cls(
            operator.id,
            operator.orq,
            operator.role,
            operator.name,
            operator.token_generation,
            operator.disabled_at is not None,
        )


def get_operator(session: Session, operator_id: int) -> Operator | None:
    return session.get(Operator, operator_id)
