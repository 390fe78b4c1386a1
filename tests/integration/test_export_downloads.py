"""A server writes a few CSV downloads at once (here one): one more is refused at once while the door
goes on answering, and a download's place comes back however the download ends.

A download holds a database connection until its file is written, and a client that stops reading
holds it for as long as it stays: without a limit, a few such clients would hold the connections the
door needs.
"""

from __future__ import annotations

import csv
import io
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest

from admit.domain.roles import Role
from admit.errors import TooManyDownloads
from admit.services import exports
from admit.settings import Settings
from tests.builders import Builders, Staff
from tests.integration.test_export_snapshot import add_scans
from tests.served import served

HISTORY = "/api/operators/scan-history.csv"
TODAYS_RESERVATIONS = "/api/reservations.csv?date=2025-11-20"
# Far more than the sockets between a client that stopped reading and the server can hold.
ROWS = 20 * exports.PAGE
WAIT = 20  # seconds: a ceiling against a place that never comes back


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"export_downloads": 1})


@contextmanager
def stalled_download(base_url: str, staff: Staff) -> Iterator[None]:
    """A download whose client reads the header row and then nothing, until it goes away.

    Its receive buffer is small, so the server soon has nowhere to write the rest and waits.
    """
    address = urlsplit(base_url)
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.settimeout(WAIT)
    try:
        client.connect((address.hostname or "127.0.0.1", address.port or 80))
        headers = "".join(f"{name}: {value}\r\n" for name, value in staff.headers.items())
        client.sendall(f"GET {HISTORY} HTTP/1.1\r\nHost: {address.netloc}\r\n{headers}\r\n".encode())
        received = b""
        while b"scanned_at," not in received:
            chunk = client.recv(4096)
            assert chunk, received
            received += chunk
        assert received.startswith(b"HTTP/1.1 200 "), received
        yield
    finally:
        client.close()


def download_once_there_is_a_place(http: httpx.Client, staff: Staff) -> httpx.Response:
    """The first download not refused for want of a place, asked again as Retry-After suggests (sooner).

    A download's place comes back just after its last byte has gone, or once the server has found
    its client gone: a moment after the client sees it end.
    """
    deadline = time.monotonic() + WAIT
    while (answer := http.get(TODAYS_RESERVATIONS, headers=staff.headers)).status_code == 429:
        assert time.monotonic() < deadline, "the download's place never came back"
        time.sleep(0.1)
    return answer


def test_a_download_beyond_the_limit_is_refused_at_once_and_the_door_still_answers(make: Builders) -> None:
    orq = make.org()
    door, manager = make.staff(orq, Role.OPERATOR), make.staff(orq, Role.MANAGER)
    code, reservation_id = make.reservation(orq, make.slot(orq, day="2025-11-20", start="10:00", end="11:00"))
    add_scans(make, orq, door.id, [f"{n:04d}"[-4:] for n in range(ROWS)], ago=0)

    with served(make.client.app) as base_url, httpx.Client(base_url=base_url, timeout=WAIT) as http:
        with stalled_download(base_url, manager):
            refused = http.get(HISTORY, headers={**manager.headers, "Accept-Language": "nl"})
            assert refused.status_code == 429, refused.text[:300]
            assert refused.json()["error"]["code"] == "TOO_MANY_DOWNLOADS"
            assert int(refused.headers["Retry-After"]) >= 1
            assert refused.headers["Content-Language"] == "nl"
            assert refused.json()["error"]["message"] != TooManyDownloads.message
            assert http.get(TODAYS_RESERVATIONS, headers=manager.headers).status_code == 429

            scan = http.post("/venue/scan", json={"code": code, "action": "validate"}, headers=door.headers)
            assert scan.status_code == 200, scan.text
            assert scan.json()["result"] == "GREEN"

        # Its client has gone with most of the file unread.
        day = download_once_there_is_a_place(http, manager)
        assert day.status_code == 200
        assert [row["reservation_id"] for row in csv.DictReader(io.StringIO(day.text))] == [reservation_id]

        # That one was written to its end: the next finds its place.
        assert download_once_there_is_a_place(http, manager).status_code == 200
