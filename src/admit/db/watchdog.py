"""A client-side deadline on PostgreSQL round trips.

PostgreSQL's own `statement_timeout` only helps while the server can still answer. When the network
between us is gone, or a server or middlebox swallows what we send, the driver would wait for an answer
for as long as the fault lasts, holding a worker thread. The keepalive and TCP user timeouts catch most
such faults at the TCP level, but not a peer that keeps acknowledging packets while never answering.
This watchdog shuts the socket of a connection whose answer is overdue: the waiting call then fails at
once as a lost connection, and the pool throws that connection (and its siblings) away.

An answer is overdue after the engine's deadline, or after the connection's own where its work runs under
a statement timeout of its own (db.engine.bound_statements): a deadline shorter than the statement
timeout would turn a slow statement into a lost connection.

The caller's error then says so (NoAnswer, within an OperationalError) rather than that the server
closed the connection, which it did not.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import suppress
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError

_TICK = 0.1  # how often overdue connections are looked for, in seconds
# An execution option of a connection: how long its answers may take, in seconds, in place of the engine's.
ANSWER_WITHIN = "admit_answer_within"


class NoAnswer(psycopg.OperationalError):
    """The database did not answer in time, and the connection was given up."""


class Watchdog:
    """One thread for the process, looking for overdue answers a few times a second."""

    def __init__(self) -> None:
        # id(driver connection) → (deadline, its seconds, the connection)
        self._deadlines: dict[int, tuple[float, float, Any]] = {}
        self._given_up: dict[int, float] = {}  # id(driver connection) → the seconds it waited
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, dbapi_connection: Any, seconds: float) -> None:
        with self._lock:
            self._deadlines[id(dbapi_connection)] = (time.monotonic() + seconds, seconds, dbapi_connection)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
                self._thread.start()

    def disarm(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._deadlines.pop(id(dbapi_connection), None)

    def forget(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._deadlines.pop(id(dbapi_connection), None)
            self._given_up.pop(id(dbapi_connection), None)

    def given_up(self, dbapi_connection: Any) -> float | None:
        """How long `dbapi_connection` waited before it was given up, if it was (told once)."""
        with self._lock:
            return self._given_up.pop(id(dbapi_connection), None)

    def _run(self) -> None:
        # A steady tick rather than a wake-up per statement: statements stay as cheap as they were.
        while True:
            time.sleep(_TICK)
            now = time.monotonic()
            with self._lock:
                for key, (deadline, seconds, connection) in list(self._deadlines.items()):
                    if deadline <= now:
                        del self._deadlines[key]
                        if _shut(connection):
                            self._given_up[key] = seconds


def _shut(connection: Any) -> bool:
    """Shut the connection's socket under the driver: its pending read ends with 'connection lost'.

    Whether it was shut: only a connection still waiting for its answer is; an idle one is left alone.
    """
    with suppress(Exception):
        if connection.closed or connection.info.transaction_status != TransactionStatus.ACTIVE:
            return False
        sock = socket.socket(fileno=os.dup(connection.pgconn.socket))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()
        return True
    return False


_watchdog = Watchdog()


def watch_round_trips(engine: Engine, *, seconds: float) -> None:
    """Give every statement, commit and rollback on `engine` at most `seconds` to be answered, or what
    its connection's ANSWER_WITHIN option says."""

    def within(connection: Any) -> float:
        # The connection's options as they are (no copy): a dictionary look-up per round trip.
        deadline: float = connection.get_execution_options().get(ANSWER_WITHIN, seconds)
        return deadline

    def arm_statement(connection: Any, cursor: Any, *_args: Any) -> None:
        _watchdog.arm(cursor.connection, within(connection))

    def disarm_statement(_connection: Any, cursor: Any, *_args: Any) -> None:
        _watchdog.disarm(cursor.connection)

    def arm(connection: Any) -> None:
        if not connection.invalidated:  # a lost connection makes no round trip (and has no driver)
            _watchdog.arm(connection.connection.dbapi_connection, within(connection))

    def arm_pooled(dbapi_connection: Any, *_args: Any) -> None:
        _watchdog.arm(dbapi_connection, seconds)

    def disarm_pooled(dbapi_connection: Any, *_args: Any) -> None:
        _watchdog.forget(dbapi_connection)

    def overdue(context: ExceptionContext) -> BaseException | None:
        # Runs before the lost connection is invalidated, while it is still this connection's.
        if context.connection is None or context.connection.invalidated:
            return None
        seconds = _watchdog.given_up(context.connection.connection.dbapi_connection)
        if seconds is None:
            return None
        silent = NoAnswer(f"no answer within {seconds:g} s, so the connection was given up")
        return OperationalError(context.statement, context.parameters, silent, connection_invalidated=True)

    event.listen(engine, "before_cursor_execute", arm_statement)
    event.listen(engine, "after_cursor_execute", disarm_statement)
    # Commit and rollback are round trips too. There is no event after them, but a connection is only
    # shut while it still waits for an answer, so an idle one keeps its stale deadline harmlessly.
    event.listen(engine, "commit", arm)
    event.listen(engine, "rollback", arm)
    event.listen(engine.pool, "reset", arm_pooled)  # the pool's own rollback on return
    event.listen(engine.pool, "checkin", disarm_pooled)
    event.listen(engine.pool, "close", disarm_pooled)
    event.listen(engine.pool, "invalidate", disarm_pooled)
    event.listen(engine, "handle_error", overdue)
