"""A CSV export is a picture of one moment: what commits while it is being written is not in it.

The export is driven page by page (a page of two rows) while another connection commits scans, a
booking and a move between the pages; the rows after the writes are those of the moment the export
began, each once. The export holds a connection for its snapshot, and gives it back when its client
goes away mid-file. A page may take as long as its own bound allows, longer than a request's.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, insert, text

from admit.context import build_context
from admit.db.engine import answer_within
from admit.db.models import ScanEvent
from admit.domain.roles import Role
from admit.services import exports
from admit.services.scans import HistoryFilter
from admit.settings import Settings
from tests.builders import Builders
from tests.conftest import TEST_SECRET
from tests.faults import wait_until_a_statement_waits_for_a_lock
from tests.served import served


def add_scans(make: Builders, orq: int, operator_id: int, suffixes: list[str], *, ago: int) -> None:
    """Scans committed by a connection of their own, door times `ago` seconds and more before now."""
    now = make.context.clock.now()
    with make.context.sessions() as session, session.begin():
        session.execute(
            insert(ScanEvent),
            [
                {
                    "orq": orq,
                    "operator_id": operator_id,
                    "action": "validate",
                    "code_suffix": suffix,
                    "result": "RED",
                    "reason": "NOT_FOUND",
                    "latency_ms": 1.0,
                    "scanned_at": now - timedelta(seconds=ago + n),
                }
                for n, suffix in enumerate(suffixes)
            ],
        )


def test_scans_committed_while_the_history_is_exported_are_not_in_the_file(make: Builders) -> None:
    orq = make.org()
    door = make.staff(orq, Role.OPERATOR)
    add_scans(make, orq, door.id, ["A001", "A002", "A003", "A004", "A005"], ago=0)

    with exports.snapshot(make.context.engine) as sessions:
        rows = exports.scan_rows(sessions, orq=orq, where=HistoryFilter(), page=2)
        first_page = [next(rows)[7] for _ in range(2)]
        # Synced from an offline scanner: door times older than any row read yet, so in pages still to come.
        add_scans(make, orq, door.id, ["LATE", "LAT2"], ago=2)
        add_scans(make, orq, door.id, ["NEW1"], ago=-5)
        rest = [row[7] for row in rows]

    assert first_page + rest == ["A001", "A002", "A003", "A004", "A005"]
    everything = exports.scan_rows(make.context.sessions, orq=orq, where=HistoryFilter())
    assert len([row[7] for row in everything]) == 8  # the writes did commit


def test_a_booking_or_a_move_while_a_days_reservations_are_exported_is_not_in_the_file(
    make: Builders,
) -> None:
    orq = make.org()
    make.client.patch(
        f"/api/organizations/{orq}/policy", json={"change_cutoff_hours": 0}, headers=make.admin(orq).headers
    ).raise_for_status()
    day = "2025-11-21"
    morning, noon, late = (
        make.slot(orq, day=day, start=start, end=end)
        for start, end in (("10:00", "11:00"), ("12:00", "13:00"), ("14:00", "15:00"))
    )
    booked = [make.reservation(orq, slot)[1] for slot in (morning, morning, noon)]
    moved = booked[0]
    newcomer = make.ticket(orq, "ACTIVATED")

    with exports.snapshot(make.context.engine) as sessions:
        rows = exports.reservation_rows(sessions, orq=orq, day=date.fromisoformat(day), page=2)
        read = [next(rows) for _ in range(2)]  # the morning's two, the first page
        assert {row[2] for row in read} == {booked[0], booked[1]}
        # Another connection moves a reservation already written to a time not read yet, and books one.
        answer = make.client.put(f"/api/reservations/{moved}", json={"slot_id": late})
        assert answer.status_code == 200, answer.text
        make.reserve([newcomer], noon).raise_for_status()
        read += list(rows)

    ids = [row[2] for row in read]
    assert sorted(ids) == sorted(booked)  # each once, and nothing booked after the export began
    assert [(row[0], row[2]) for row in read][2:] == [("12:00", booked[2])]
    later = exports.reservation_rows(make.context.sessions, orq=orq, day=date.fromisoformat(day))
    assert len(list(later)) == 4  # the booking and the move did commit


def test_a_download_the_client_leaves_gives_its_connection_back(make: Builders) -> None:
    """The export holds a connection for its snapshot; a client that goes away mid-file frees it."""
    orq = make.org()
    door, manager = make.staff(orq, Role.OPERATOR), make.staff(orq, Role.MANAGER)
    add_scans(make, orq, door.id, [f"{n:04d}"[-4:] for n in range(40 * exports.PAGE)], ago=0)
    pool: Any = make.context.engine.pool
    assert pool.checkedout() == 0

    with served(make.client.app) as base_url, httpx.Client(base_url=base_url, timeout=20) as http:
        with http.stream("GET", "/api/operators/scan-history.csv", headers=manager.headers) as download:
            assert download.status_code == 200
            first = next(download.iter_bytes())
            assert first.startswith(b"scanned_at,")
            assert pool.checkedout() == 1  # the export's, for its snapshot
        # The client has gone with most of the file unread; the server finds out at its next write.
        assert given_back(pool)


def given_back(pool: Any) -> bool:
    """Whether every connection is back in the pool within a generous while."""
    deadline = time.monotonic() + 20
    while pool.checkedout() and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    return bool(pool.checkedout() == 0)


def test_a_page_may_take_longer_than_a_request_and_the_export_goes_on(
    make: Builders, database_url: str, tmp_path: Path
) -> None:
    """A page's own bound (5 s) holds, not a request's: its connection is not given up after a request's."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the client-side deadline on answers concerns a server over the network")
    orq = make.org()
    door = make.staff(orq, Role.OPERATOR)
    add_scans(make, orq, door.id, ["A001", "A002"], ago=0)
    settings = Settings(
        database_url=database_url, secret_key=TEST_SECRET, data_dir=tmp_path / "data", db_statement_timeout=1
    )
    node = build_context(settings, make.context.clock)
    other = create_engine(database_url)
    try:
        with other.connect() as holder, ThreadPoolExecutor(1) as pool:
            holder.begin()
            holder.execute(text("LOCK TABLE scan_events IN ACCESS EXCLUSIVE MODE"))  # a schema change, say
            written = pool.submit(
                lambda: "".join(exports.scan_csv(node.engine, orq=orq, where=HistoryFilter()))
            )
            wait_until_a_statement_waits_for_a_lock(database_url)
            # Longer than a request's statement may take and its connection may stay silent.
            time.sleep(answer_within(settings.db_statement_timeout) + 1)
            assert not written.done()
            holder.rollback()
            rows = list(csv.reader(io.StringIO(written.result(timeout=20))))
    finally:
        other.dispose()
        node.engine.dispose()
    assert [row[7] for row in rows[1:]] == ["A001", "A002"]
