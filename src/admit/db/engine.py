"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from admit.files import private_file

# Waiting longer than this for a row lock means something is stuck: fail the request, keep the door open.
LOCK_TIMEOUT_MS = 5000


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url, **kwargs)
    options: dict[str, Any] = {
        # More connections than a server has worker threads, so no request waits for one, with room for
        # tests and commands that run many threads at once;
        # no pre-ping, which would cost a round trip on every request: old connections are recycled.
        "pool_size": 20,
        "max_overflow": 20,
        "pool_recycle": 1800,
        "connect_args": {"options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"},
    }
    return create_engine(database_url, **{**options, **kwargs})


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
