"""A client that stays connected but takes nothing more loses its connection too, not only its answer:
once it has taken none of the server's data for ADMIT_STALLED_CLIENT_SECONDS (here 4 s), the server's
side of the connection is gone, and with it the socket and the data buffered for that client.

Without the bound, a download ended for its stalled client (after ADMIT_EXPORT_SEND_SECONDS, here 1 s)
leaves its connection open for ever, waiting to send what was written before the end. A connection with
nothing to send is not touched: a live dashboard that hears nothing for longer keeps its stream.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from admit.api import live as live_api
from admit.domain.roles import Role
from admit.settings import Settings
from tests.builders import Builders
from tests.integration.test_export_downloads import HISTORY
from tests.integration.test_export_snapshot import add_scans
from tests.integration.test_export_stalls import ROWS, SEND_BUFFER, client
from tests.served import served
from tests.sse import events

STALLED_SECONDS = 4
DROPPED_WITHIN = STALLED_SECONDS + 10  # seconds: a generous ceiling against a connection kept for ever
TODAY = "2025-11-20"  # by the pinned clock

# Connection states in the kernel's table (include/net/tcp_states.h) that hold no client: a listening
# socket, and a connection already closed on both sides.
LISTEN, TIME_WAIT = 0x0A, 0x06


@pytest.fixture
def settings(settings: Settings) -> Settings:
    update = {"export_downloads": 1, "export_send_seconds": 1, "stalled_client_seconds": STALLED_SECONDS}
    return settings.model_copy(update=update)


def held(base_url: str) -> int:
    """Connections the server on `base_url` holds, by the kernel's own table of TCP sockets."""
    port = urlsplit(base_url).port
    count = 0
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], int(line.split()[3], 16)
            if int(local.rsplit(":", 1)[1], 16) == port and state not in (LISTEN, TIME_WAIT):
                count += 1
    return count


def dropped(base_url: str) -> bool:
    """Whether the server holds no connection any more, within a generous while."""
    deadline = time.monotonic() + DROPPED_WITHIN
    while held(base_url) and time.monotonic() < deadline:
        time.sleep(0.1)
    return held(base_url) == 0


def test_a_client_that_stops_reading_loses_its_connection_once_its_download_has_ended(make: Builders) -> None:
    orq = make.org()
    door, manager = make.staff(orq, Role.OPERATOR), make.staff(orq, Role.MANAGER)
    add_scans(make, orq, door.id, [f"{n:04d}"[-4:] for n in range(ROWS)], ago=0)

    with (
        served(make.client.app, send_buffer=SEND_BUFFER) as base_url,
        client(base_url) as stalling,
        capture_logs() as logs,
        stalling.stream("GET", HISTORY, headers=manager.headers) as stalled,
    ):
        assert stalled.status_code == 200
        assert held(base_url) == 1  # the stalled client's
        # Its client reads nothing more, and stays connected.
        assert dropped(base_url), f"the server still holds the stalled connection after {DROPPED_WITHIN} s"
        assert [entry["event"] for entry in logs if entry["event"] == "export.abandoned"] == [
            "export.abandoned"
        ]

        # Reading on, its client gets what had reached it, then finds the connection gone.
        with pytest.raises(httpx.ReadError):
            for _ in stalled.iter_raw():
                pass


def test_a_live_dashboard_that_hears_nothing_for_longer_keeps_its_stream(
    make: Builders, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_api, "REFRESH", 3600.0)  # no periodic refresh or heartbeat: a silent stream
    monkeypatch.setattr(live_api, "HEARTBEAT", 3600.0)
    orq = make.org()
    morning = make.slot(orq, day=TODAY, start="10:00", end="11:00")
    ticket, manager = make.ticket(orq, "ACTIVATED"), make.staff(orq, Role.MANAGER)

    with (
        served(make.client.app) as base_url,
        httpx.Client(base_url=base_url, timeout=httpx.Timeout(10, read=20)) as http,
        http.stream("GET", "/api/operator/stats/stream", headers=manager.headers) as stream,
    ):
        received = events(stream)
        assert next(received)[0] == "stats"
        time.sleep(STALLED_SECONDS + 2)  # nothing is sent for longer than the bound

        assert make.reserve([ticket], morning).status_code == 201
        name, stats = next(received)
        assert (name, [slot["booked_count"] for slot in stats["slots"]]) == ("stats", [1])
        assert held(base_url) == 1


@pytest.mark.parametrize("seconds", [0, 3601])
def test_a_bound_outside_one_second_to_an_hour_is_refused_at_start(seconds: float) -> None:
    with pytest.raises(ValidationError, match="stalled_client_seconds"):
        Settings(database_url="sqlite://", secret_key="k" * 40, stalled_client_seconds=seconds)
