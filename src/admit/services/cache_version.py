"""The shared change counter: bumped with every change that server processes cache, read by each of them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from admit.db.models import CacheVersion, RevokedToken

STAFF_AND_VENUES = "staff"

_READ = select(CacheVersion.version).where(CacheVersion.name == STAFF_AND_VENUES)
_REVOKED = select(RevokedToken.token_id).where(RevokedToken.expires_at > bindparam("now"))


def bump(session: Session) -> None:
    """Count one change, inside the caller's transaction (so the counter moves only if the change commits)."""
    _bump(session, STAFF_AND_VENUES)


def _bump(session: Session, name: str) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # An upsert: the row is made by the first change (the migration does not need to seed it).
    statement = (
        dialect.insert(CacheVersion)
        .values(name=name, version=1)
        .on_conflict_do_update(index_elements=[CacheVersion.name], set_={"version": CacheVersion.version + 1})
    )
    session.execute(statement)


def live_name(orq: int) -> str:
    """The counter of what an organization's live dashboard shows: scans, verifications, bookings."""
    return f"live:{orq}"


def bump_live(session: Session, *, orq: int) -> None:
    """Count one change to what the dashboard shows, in a transaction of its own (after the change's)."""
    with session.begin():
        _bump(session, live_name(orq))


def calendar_day_name(orq: int, day: date) -> str:
    """The counter of one organization's slots on one day.

    Fixed width, so that an organization's days sort in date order under any collation and one key
    range reads them all.
    """
    return f"calendar:{orq:012d}:{day.isoformat()}"


_BUMP_EXISTING = (
    update(CacheVersion)
    .where(CacheVersion.name == bindparam("counter"))
    .values(version=CacheVersion.version + 1)
)


def bump_calendar(session: Session, *, orq: int, days: Iterable[date]) -> None:
    """Count one change to an organization's slots on these days, inside the caller's transaction.

    Per day rather than per organization, so that bookings on different days never queue for one
    counter's row lock; in date order, so that two changes of the same days lock them alike.
    """
    connection = session.connection()
    for day in sorted(set(days)):
        name = calendar_day_name(orq, day)
        # A plain UPDATE once the day's row exists: cheaper than the upsert on the busiest write.
        if connection.execute(_BUMP_EXISTING, {"counter": name}).rowcount == 0:
            _bump(session, name)


def prune_calendar(session: Session, *, orq: int, before: date) -> int:
    """Delete the organization's day counters of the days before `before`, inside the caller's
    transaction; how many went.

    Through the key range of its names, as a calendar read goes: the name's format stays in one place.
    """
    connection = session.connection()
    gone = connection.execute(
        delete(CacheVersion).where(
            CacheVersion.name >= calendar_day_name(orq, date.min),
            CacheVersion.name < calendar_day_name(orq, before),
        )
    )
    return gone.rowcount


_CALENDAR = select(func.coalesce(func.sum(CacheVersion.version), 0)).where(
    CacheVersion.name.between(bindparam("first_day"), bindparam("last_day"))
)


def read_calendar(connection: Connection, *, orq: int, first: date, last: date) -> int:
    """The sum of the organization's day counters from `first` to `last`.

    Each counter only grows, so the sum moves with every change to a slot on those days.
    """
    found = connection.execute(
        _CALENDAR, {"first_day": calendar_day_name(orq, first), "last_day": calendar_day_name(orq, last)}
    ).scalar()
    return int(found or 0)


def read_live(connection: Connection, orqs: list[int]) -> dict[int, int]:
    """The live counters of these organizations; 0 for one that has not changed yet."""
    names = {live_name(orq): orq for orq in orqs}
    rows = connection.execute(
        select(CacheVersion.name, CacheVersion.version).where(CacheVersion.name.in_(names))
    )
    found = {names[name]: version for name, version in rows}
    return {orq: found.get(orq, 0) for orq in orqs}


def read(connection: Connection) -> int:
    """The counter now; 0 before any change."""
    return connection.execute(_READ).scalar() or 0


def revoked_token_ids(connection: Connection, *, now: datetime) -> frozenset[str]:
    """Tokens logged out before their expiry (expired ones are refused anyway)."""
    return frozenset(connection.execute(_REVOKED, {"now": now}).scalars())


def revoke_token(
    session: Session, *, token_id: str, operator_id: int, expires_at: datetime, now: datetime
) -> None:
    """End one token now, inside the caller's transaction; revocations past their token's expiry go."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    if session.get(RevokedToken, token_id) is None:
        session.add(RevokedToken(token_id=token_id, operator_id=operator_id, expires_at=expires_at))
    bump(session)
