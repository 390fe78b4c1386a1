"""A download whose client stays connected but stops reading ends once a write of it has waited
ADMIT_EXPORT_SEND_SECONDS (here 2 s): its place and its database connection come back while that client
is still there. The bound is on each write, not on the download: a client that reads slowly but
steadily gets the whole file, however long that takes.

Without the bound, the server's write waits for the client's window to open, which for a live client
that reads nothing is never: two such clients, and nobody can download.
"""

from __future__ import annotations

import csv
import io
import socket
import time
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from structlog.testing import capture_logs

from admit.domain.roles import Role
from admit.settings import Settings
from tests.builders import Builders
from tests.integration.test_export_downloads import HISTORY, WAIT, download_once_there_is_a_place
from tests.integration.test_export_snapshot import add_scans, given_back
from tests.served import served

SEND_SECONDS = 2
# The sockets' buffers keep a fixed size rather than growing to megabytes, so a client that stops
# reading stops the server's writes a few hundred kilobytes later; the file is 2 MB.
SEND_BUFFER = RECEIVE_BUFFER = 64 * 1024
ROWS = 20_000
# The slow client's pace: each of the server's writes (a page, 50 kB) then waits for it about half a
# second, and the whole file takes five seconds, more than twice the bound.
BYTES_PER_SECOND = 400_000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"export_downloads": 1, "export_send_seconds": SEND_SECONDS})


def client(base_url: str) -> httpx.Client:
    """A client whose socket's receive buffer keeps its size."""
    options = [(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)]
    transport = httpx.HTTPTransport(socket_options=options)
    return httpx.Client(base_url=base_url, timeout=WAIT, transport=transport)


def sessions_in_a_transaction(database_url: str) -> int:
    """Sessions of the test's PostgreSQL database that are in a transaction and waiting for the client."""
    watcher = create_engine(database_url, poolclass=NullPool)
    try:
        with watcher.connect() as connection:
            return int(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND state = 'idle in transaction'"
                    )
                )
            )
    finally:
        watcher.dispose()


def test_a_client_that_stops_reading_loses_its_download_and_its_place_and_connection_come_back(
    make: Builders, database_url: str
) -> None:
    orq = make.org()
    door, manager = make.staff(orq, Role.OPERATOR), make.staff(orq, Role.MANAGER)
    _, reservation_id = make.reservation(orq, make.slot(orq, day="2025-11-20", start="10:00", end="11:00"))
    add_scans(make, orq, door.id, [f"{n:04d}"[-4:] for n in range(ROWS)], ago=0)
    pool: Any = make.context.engine.pool

    with (
        served(make.client.app, send_buffer=SEND_BUFFER) as base_url,
        httpx.Client(base_url=base_url, timeout=WAIT) as http,
        client(base_url) as stalling,
        capture_logs() as logs,
        stalling.stream("GET", HISTORY, headers=manager.headers) as stalled,
    ):
        assert stalled.status_code == 200
        # Its client reads nothing more, and stays connected.
        day = download_once_there_is_a_place(http, manager)
        assert day.status_code == 200
        assert [row["reservation_id"] for row in csv.DictReader(io.StringIO(day.text))] == [reservation_id]
        assert given_back(pool)  # the stalled export's connection, its snapshot ended, and the day's
        if database_url.startswith("postgresql"):
            assert sessions_in_a_transaction(database_url) == 0

        # Reading on, its client finds the file cut short, never a shorter file that looks whole.
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            for _ in stalled.iter_raw():
                pass

    abandoned = [entry for entry in logs if entry["event"] == "export.abandoned"]
    assert abandoned == [
        {
            "event": "export.abandoned",
            "log_level": "warning",
            "export": "scan-history.csv",
            "orq": orq,
            "reason": f"its client took no write for {SEND_SECONDS} s",
        }
    ]


def test_a_client_that_reads_slowly_but_steadily_gets_the_whole_file(make: Builders) -> None:
    orq = make.org()
    door, manager = make.staff(orq, Role.OPERATOR), make.staff(orq, Role.MANAGER)
    add_scans(make, orq, door.id, [f"{n:04d}"[-4:] for n in range(ROWS)], ago=0)

    with (
        served(make.client.app, send_buffer=SEND_BUFFER) as base_url,
        client(base_url) as slow,
        slow.stream("GET", HISTORY, headers=manager.headers) as download,
    ):
        started = time.monotonic()
        received = bytearray()
        for chunk in download.iter_bytes():
            received += chunk
            time.sleep(len(chunk) / BYTES_PER_SECOND)
        took = time.monotonic() - started

    rows = list(csv.reader(io.StringIO(received.decode())))
    assert len(rows) == 1 + ROWS
    assert took > 2 * SEND_SECONDS, "the download was too quick to show that its whole length is not bounded"


@pytest.mark.parametrize("seconds", [0, 51])
def test_a_bound_outside_one_to_fifty_seconds_is_refused_at_start(seconds: float) -> None:
    # Past 50 s, PostgreSQL would end an idle export's snapshot first, under the download's feet.
    with pytest.raises(ValidationError, match="export_send_seconds"):
        Settings(database_url="sqlite://", secret_key="k" * 40, export_send_seconds=seconds)
