"""A tiny TCP proxy between Admit and a real server (PostgreSQL, Redis, SMTP) that can misbehave.

`pass` forwards bytes both ways; `blackhole` keeps every connection open and accepts new ones but
forwards nothing (a network partition, or a server that hangs); `cut` closes every connection and
refuses new ones (a server that is down). Tests switch modes while traffic flows.

`unanswered` counts what the proxy left without an answer: requests swallowed, connections refused.
Each is one wait or one error for the caller, so a test can see how often a sick server was asked.

`wait_until_a_statement_waits_for_a_lock` lets a test act while a statement is stuck on PostgreSQL.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Literal

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

Mode = Literal["pass", "blackhole", "cut"]


class FaultyProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode: Mode = "pass"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.unanswered = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def set_mode(self, mode: Mode) -> None:
        self.mode = mode
        if mode == "cut":
            with self._lock:
                sockets, self._sockets = self._sockets, set()
            for sock in sockets:
                _close(sock)

    def close(self) -> None:
        self._closed = True
        self.set_mode("cut")
        _close(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "cut":
                self._unanswered()
                _close(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update((client, server))
            for source, target, asks in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(source, target, asks), daemon=True).start()

    def _unanswered(self) -> None:
        with self._lock:
            self.unanswered += 1

    def _pump(self, source: socket.socket, target: socket.socket, asks: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            if self.mode == "blackhole":
                if asks:
                    self._unanswered()
                continue  # swallowed: the peer waits for an answer that never comes
            try:
                target.sendall(data)
            except OSError:
                break
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        sock.close()


@contextmanager
def faulty_proxy(host: str, port: int) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(host, port)
    try:
        yield proxy
    finally:
        proxy.close()


def wait_until_a_statement_waits_for_a_lock(database_url: str, *, within: float = 30) -> None:
    """Until a statement on the PostgreSQL database at `database_url` waits for another's lock."""
    watcher = create_engine(database_url, poolclass=NullPool)
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + within
    try:
        while True:
            with watcher.connect() as connection:  # a fresh picture of the activity each time
                if connection.scalar(waiting):
                    return
            assert time.monotonic() < deadline, f"no statement waited for a lock within {within} s"
            time.sleep(0.05)
    finally:
        watcher.dispose()
