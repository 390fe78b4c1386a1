"""Staff accounts and login."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admit import errors
from admit.db.models import Operator, Organization
from admit.domain.roles import Role
from admit.i18n import N_
from admit.security.passwords import hash_secret, needs_rehash, verify_secret
from admit.services.organizations import MAX_ID, MAX_NAME

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
# New PINs have at least 6 digits (a million choices); older 4-digit PINs still log in.
PIN = re.compile(r"[0-9]{6,8}")
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
    username = normal_username(username)
    problems: dict[str, str] = {}
    if not USERNAME.fullmatch(username):
        problems["username"] = "2-64 characters: letters, digits, '.', '_' or '-'"
    if password is None and pin is None:
        problems["password"] = "give a password, a PIN, or both"
    if password is not None and len(password) < MIN_PASSWORD:
        problems["password"] = f"at least {MIN_PASSWORD} characters"
    problems |= secret_and_name_problems(pin=pin, name=name)
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


def secret_and_name_problems(*, pin: str | None, name: str | None) -> dict[str, str]:
    """What is wrong with a new PIN or a shown name, by field: for creating and for changing an account."""
    problems: dict[str, str] = {}
    if pin is not None and not PIN.fullmatch(pin):
        problems["pin"] = "6 to 8 digits"
    if name is not None and not 0 < len(name.strip()) <= MAX_NAME:
        problems["name"] = f"1 to {MAX_NAME} characters"
    return problems


def normal_username(username: str) -> str:
    """Usernames are matched without surrounding space and case."""
    return username.strip().lower()


def login(session: Session, *, username: str, password: str | None, pin: str | None) -> Operator:
    """The operator whose password or PIN matches, or INVALID_CREDENTIALS.

    An unknown username, an account without a PIN, and a wrong secret take the same path: one Argon2
    verification, then the same refusal, so neither the answer nor its time tells who has an account.
    Repeated failures are throttled by the caller, per client, before this runs.
    """
    with session.begin():
        operator = session.scalars(
            select(Operator).where(Operator.username == normal_username(username))
        ).first()
    stored = None if operator is None else operator.pin_hash if pin is not None else operator.password_hash
    # The refusal names the secret the caller chose: a door operator typing a PIN is told of the PIN.
    refused = errors.InvalidCredentials(N_("Username or PIN is wrong.") if pin is not None else None)
    if not verify_secret(stored, pin if pin is not None else password or "") or operator is None:
        raise refused
    if operator.disabled_at is not None:  # the same answer as a wrong password: nothing to learn
        raise refused
    if stored is not None and needs_rehash(stored):
        # Made with an older release's parameters: hashed again now that the secret is at hand, so that
        # every account's check costs what an unknown username's does.
        column = "pin_hash" if pin is not None else "password_hash"
        with session.begin():
            session.execute(
                update(Operator)
                .where(Operator.id == operator.id)
                .values({column: hash_secret(pin if pin is not None else password or "")})
            )
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
