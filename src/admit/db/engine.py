"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from admit.db.watchdog import ANSWER_WITHIN, watch_round_trips
from admit.files import private_file

# Waiting longer than this for a row lock means something is stuck: fail the request, keep the door open.
LOCK_TIMEOUT_MS = 5000
# An execution option for a connection whose transactions only read: on SQLite they begin deferred,
# without the write lock, so that a long read (an export) never holds bookings up.
READ_ONLY = "admit_read_only"
# How much longer than its statement timeout the client waits for an answer before giving the
# connection up: the server's own timeout, when it can still answer, is the cleaner failure.
ANSWER_MARGIN = 1.0


def answer_within(statement_timeout: float) -> float:
    """How long a connection whose statements may take `statement_timeout` waits for an answer."""
    return statement_timeout + ANSWER_MARGIN


@dataclass(frozen=True)
class Timeouts:
    """How long PostgreSQL may keep a caller waiting, in seconds."""

    connect: float = 10.0
    # None leaves statements unbounded: a migration may rewrite a big table.
    statement: float | None = None
    pool: float = 30.0

    @property
    def answer(self) -> float:
        """How long a connection may wait for an answer before it is abandoned client-side."""
        return answer_within(self.statement) if self.statement is not None else 30.0


@dataclass(frozen=True)
class Pool:
    """How many PostgreSQL connections one process keeps, and may open beyond them in a burst."""

    size: int = 10
    overflow: int = 5


def make_engine(
    database_url: str, *, timeouts: Timeouts | None = None, pool: Pool | None = None, **kwargs: Any
) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url, **kwargs)
    timeouts = timeouts or Timeouts()
    pool = pool or Pool()
    options: dict[str, Any] = {
        # At least as many connections as a server has worker threads, so no request waits for one,
        # and few enough that several processes stay under PostgreSQL's max_connections (settings);
        # no pre-ping, which would cost a round trip on every request: old connections are recycled,
        # and a lost one makes SQLAlchemy discard every connection of the pool made before it.
        "pool_size": pool.size,
        "max_overflow": pool.overflow,
        "pool_recycle": 1800,
        "pool_timeout": timeouts.pool,
        "connect_args": postgres_connect_args(timeouts),
    }
    engine = create_engine(database_url, **{**options, **kwargs})
    if timeouts.statement is not None:
        watch_round_trips(engine, seconds=timeouts.answer)
    return engine


def bound_statements(connection: Connection, seconds: float) -> None:
    """Give each statement of `connection`'s transaction `seconds` on PostgreSQL, in place of the
    engine's statement timeout, and the wait for its answers the same margin over that.

    For a connection that ends with its transaction (a session's, or one opened for that transaction):
    the server forgets the timeout when the transaction ends, and the option goes with the connection.
    No extra round trip per statement: the watchdog reads the option where it arms anyway.
    """
    if connection.dialect.name != "postgresql":
        return  # SQLite is a local file: its waits are bounded by the busy timeout
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {round(seconds * 1000)}")
    connection.execution_options(**{ANSWER_WITHIN: answer_within(seconds)})


def bounded_sessions(sessions: sessionmaker[Session], seconds: float) -> Callable[[], Session]:
    """Sessions each of whose transactions runs its statements under a statement timeout of `seconds`,
    and (on an engine made with a statement timeout, whose answers are watched) waits as long for them."""

    def session() -> Session:
        made = sessions()

        @event.listens_for(made, "after_begin")
        def _bound(_session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
            bound_statements(connection, seconds)

        return made

    return session


def postgres_connect_args(timeouts: Timeouts) -> dict[str, Any]:
    """libpq parameters that bound every wait on the server or the network between us."""
    options = [f"-c lock_timeout={LOCK_TIMEOUT_MS}"]
    if timeouts.statement is not None:
        options.append(f"-c statement_timeout={round(timeouts.statement * 1000)}")
    silence = timeouts.answer
    return {
        "connect_timeout": max(2, math.ceil(timeouts.connect)),  # libpq counts whole seconds, 2 at least
        # A peer that vanishes (partition, dead machine) is noticed by TCP while we wait for an answer
        # (keepalives) or for our bytes to be acknowledged (user timeout), instead of after many minutes.
        "keepalives": 1,
        "keepalives_idle": max(1, math.ceil(silence / 2)),
        "keepalives_interval": 1,
        "keepalives_count": 3,
        "tcp_user_timeout": round(silence * 1000),
        "options": " ".join(options),
    }


def _sqlite_engine(database_url: str, **kwargs: Any) -> Engine:
    url = make_url(database_url)
    if url.database and url.database != ":memory:":
        # Made 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database's mode.
        private_file(Path(url.database))
    engine = create_engine(database_url, connect_args={"timeout": LOCK_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Leave transaction control to SQLAlchemy's "begin" below instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {LOCK_TIMEOUT_MS}")
        cursor.close()

    # SQLite's busy handler polls, so under many writers a waiter can keep missing the moment the
    # lock is free and time out. Writers of this process queue on a lock of their own instead.
    writers = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # In WAL mode a deferred transaction reads one snapshot, taken at its first read, while
            # writers go on committing beside it.
            connection.exec_driver_sql("BEGIN")
            return
        if not writers.acquire(timeout=LOCK_TIMEOUT_MS / 1000 * 6):
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
        connection.info["holds_writer_lock"] = True
        # Take the write lock up front: a read-then-write transaction can then never be
        # overtaken between its check and its write (SQLite's stand-in for row locks).
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection)
            raise

    def _release(connection: Any) -> None:
        if connection.info.pop("holds_writer_lock", False):
            writers.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
