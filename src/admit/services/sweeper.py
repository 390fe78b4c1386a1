"""The expiry sweep on a schedule, inside `admit serve`: one node sweeps at a time, the others skip.

Each round also drops the door's stored answers that are past their retention window, prunes scans
older than the history length when one is set (services.retention), and, once a day, deletes the
calendar's change counters of days that no calendar reads any more (services.cache_version); that work
is safe on every node at once, so it runs outside the lock.

On PostgreSQL a pass first takes a transaction-level advisory lock on a connection of its own and holds
that transaction open while it sweeps; a node that cannot take the lock skips the round, and a node that
dies mid-pass loses its connection and with it the lock. The sweep itself would be safe twice over (rows
are claimed with SKIP LOCKED), so the lock only spares the database the duplicate work. SQLite has one
node, which simply sweeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from admit.clock import Clock
from admit.db.engine import bounded_sessions
from admit.db.models import Organization
from admit.services.cache_version import prune_calendar
from admit.services.expiry import expire_due
from admit.services.retention import compact_answers, prune_scans

log = structlog.get_logger()

# Any fixed 64-bit number names the lock; every node must use the same one ("admit:ex" in ASCII).
ADVISORY_LOCK_KEY = int.from_bytes(b"admit:ex", "big")
# One statement of a pass (a batch of tickets) may take this long, in seconds, longer than a request's:
# the database's own timeout ends it, and the connection is given up only if no answer comes after that.
# `admit expire` and `admit prune-scans` do a pass's work once, under the same bound.
STATEMENT_TIMEOUT = 30.0

Outcome = Literal["swept", "skipped", "failed"]


@dataclass(frozen=True)
class Retention:
    """How long scans are kept, and where pruned ones are archived (None: not archived)."""

    length: timedelta
    archive: Path | None


def sweep(
    sessions: sessionmaker[Session], *, clock: Clock, statement_timeout: float = STATEMENT_TIMEOUT
) -> int | None:
    """One pass: how many tickets were expired, or None when another node is sweeping right now."""
    with sessions() as guard, guard.begin():
        postgresql = guard.get_bind().dialect.name == "postgresql"
        if postgresql and not guard.scalar(select(func.pg_try_advisory_xact_lock(ADVISORY_LOCK_KEY))):
            return None
        with bounded_sessions(sessions, statement_timeout)() as session:
            return expire_due(session, now=clock.now())


def run_sweeper(
    *,
    sessions: sessionmaker[Session],
    clock: Clock,
    stop: threading.Event,
    interval: float,
    counted: Callable[[Outcome, int], None],
    answer_retention: timedelta | None = None,
    history: Retention | None = None,
    statement_timeout: float = STATEMENT_TIMEOUT,
) -> None:
    """Sweep every `interval` seconds until `stop` is set; a failing pass is logged and tried next round.

    With `answer_retention`, each round also drops the stored scan answers older than that; with
    `history`, it prunes the scans older than its length. The first round of each UTC day deletes the
    calendar counters of the days before `calendar_horizon`. Every statement of a round may take
    `statement_timeout` seconds.
    """
    calendar_pruned: date | None = None
    bounded = bounded_sessions(sessions, statement_timeout)
    while not stop.is_set():
        try:
            expired = sweep(sessions, clock=clock, statement_timeout=statement_timeout)
        except Exception:  # keep the scheduler alive: the database may be back next round
            log.exception("expiry.pass_failed")
            counted("failed", 0)
        else:
            if expired is None:
                counted("skipped", 0)
            else:
                counted("swept", expired)
                if expired:
                    log.info("expiry.swept", expired=expired)
        if answer_retention is not None:
            _compact(bounded, before=clock.now() - answer_retention)
        if history is not None:
            _prune(bounded, before=clock.now() - history.length, archive=history.archive)
        before = calendar_horizon(clock.now())
        if before != calendar_pruned and _prune_calendar(bounded, before=before):
            calendar_pruned = before  # once a UTC day: only then does another day fall before it
        stop.wait(interval)


def _compact(bounded: Callable[[], Session], *, before: datetime) -> None:
    try:
        dropped = compact_answers(bounded, before=before)
    except Exception:  # the answers wait for the next round; expiry still runs this one
        log.exception("retention.pass_failed")
    else:
        if dropped:
            log.info("retention.compacted", answers=dropped)


def _prune(bounded: Callable[[], Session], *, before: datetime, archive: Path | None) -> None:
    try:
        pruned = prune_scans(bounded, before=before, archive=archive)
    except Exception:  # the old scans wait for the next round
        log.exception("retention.prune_pass_failed")
    else:
        if pruned:
            log.info("retention.pruned", scans=pruned, archived=archive is not None)


def calendar_horizon(now: datetime) -> date:
    """The first day whose calendar counters are still read: UTC's yesterday.

    A calendar reads from the venue's today on, and no time zone's today is before UTC's yesterday.
    """
    return now.astimezone(UTC).date() - timedelta(days=1)


def _prune_calendar(bounded: Callable[[], Session], *, before: date) -> bool:
    """Delete every organization's calendar counters of the days before `before`; whether all went."""
    try:
        with bounded() as session, session.begin():
            organizations = list(session.scalars(select(Organization.id).order_by(Organization.id)))
        pruned = 0
        for orq in organizations:  # one short transaction each: at most a few hundred rows a year
            with bounded() as session, session.begin():
                pruned += prune_calendar(session, orq=orq, before=before)
    except Exception:  # the old counters wait for the next round; nothing reads them meanwhile
        log.exception("calendar.prune_failed")
        return False
    if pruned:
        log.info("calendar.pruned", counters=pruned, before=before.isoformat())
    return True
