"""The door's stored answers: kept for a nonce's retry within the window, then dropped from the row."""

from __future__ import annotations

import gzip
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from admit.clock import FrozenClock
from admit.context import AppContext, build_context
from admit.db.engine import bounded_sessions
from admit.db.models import ScanEvent
from admit.domain.roles import Role
from admit.services.retention import compact_answers, prune_scans
from admit.services.sweeper import Retention, run_sweeper
from admit.settings import Settings
from tests.builders import Builders, Staff
from tests.conftest import TEST_SECRET
from tests.faults import faulty_proxy, wait_until_a_statement_waits_for_a_lock

WINDOW = timedelta(hours=2)  # shorter than a staff login, which the retries reuse


def scan(make: Builders, staff: Staff, code: str, nonce: str) -> Any:
    return make.client.post(
        "/venue/scan", json={"code": code, "action": "admit", "nonce": nonce}, headers=staff.headers
    )


def kept_answers(context: AppContext) -> list[bool]:
    with context.sessions() as session:
        answers = session.scalars(select(ScanEvent.response).order_by(ScanEvent.id))
        return [answer is not None for answer in answers]


def test_a_retry_within_the_window_gets_the_first_answer_and_an_old_row_keeps_only_its_facts(
    make: Builders, context: AppContext, clock: FrozenClock
) -> None:
    orq = make.org()
    operator, manager = make.staff(orq, Role.OPERATOR), make.staff(orq, Role.MANAGER)
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    code, _ = make.reservation(orq, slot)
    first = scan(make, operator, code, "scan-1").json()
    assert first["verified_now"] is True

    clock.advance(WINDOW - timedelta(minutes=1))
    assert compact_answers(context.sessions, before=clock.now() - WINDOW) == 0
    assert scan(make, operator, code, "scan-1").json() == first
    later = scan(make, operator, code, "scan-2").json()
    assert later["code"] == "ALREADY_VERIFIED"

    clock.advance(timedelta(minutes=2))
    assert compact_answers(context.sessions, before=clock.now() - WINDOW) == 1
    assert kept_answers(context) == [False, True]  # the second scan is still within its window

    # The compacted row still reads in the history and counts in the day's stats.
    history = make.client.get("/api/operators/scan-history", headers=manager.headers).json()["events"]
    assert [(e["code"], e["verified"], e["ticket_code_suffix"]) for e in history] == [
        ("ALREADY_VERIFIED", False, code[-4:]),
        ("VALID", True, code[-4:]),
    ]
    assert history[1]["reservation"] == {"slot_id": slot, "date": "2025-11-20", "start_time": "10:00"}
    stats = make.client.get(
        "/api/operator/stats", params={"date": "2025-11-20"}, headers=manager.headers
    ).json()
    assert (stats["validated"], stats["verified"]) == (2, 1)
    assert [s["verified_count"] for s in stats["slots"]] == [1]

    # A retry after the window is neither answered as the first time nor recorded as a new scan.
    before = make.snapshot()
    late = scan(make, operator, code, "scan-1")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "NONCE_EXPIRED"
    assert make.snapshot() == before
    # Another request under the old nonce is still refused as a reuse, whatever the window.
    other = make.ticket(orq, "ACTIVATED")
    assert scan(make, operator, other, "scan-1").json()["error"]["code"] == "NONCE_REUSED"


def test_compaction_runs_in_batches_and_finishes_every_due_row(
    make: Builders, context: AppContext, clock: FrozenClock
) -> None:
    orq = make.org()
    operator = make.staff(orq, Role.OPERATOR)
    for n in range(7):
        scan(make, operator, make.ticket(orq, "ACTIVATED"), f"scan-{n}")
        clock.advance(timedelta(seconds=1))  # and some scans share an instant: the batches' keys are unique
        scan(make, operator, make.ticket(orq, "ACTIVATED"), f"twin-{n}")
    clock.advance(WINDOW + timedelta(seconds=1))
    assert compact_answers(context.sessions, before=clock.now() - WINDOW, batch=3) == 14
    assert kept_answers(context) == [False] * 14
    assert compact_answers(context.sessions, before=clock.now() - WINDOW, batch=3) == 0


def test_a_row_another_transaction_holds_is_passed_over_and_the_rest_are_still_compacted(
    make: Builders, context: AppContext, clock: FrozenClock
) -> None:
    if context.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no row is held while another transaction runs")
    orq = make.org()
    operator = make.staff(orq, Role.OPERATOR)
    for n in range(5):
        scan(make, operator, make.ticket(orq, "ACTIVATED"), f"scan-{n}")
    clock.advance(WINDOW + timedelta(minutes=1))
    with context.engine.connect() as holder, holder.begin():
        held = holder.execute(text("SELECT min(id) FROM scan_events")).scalar_one()
        holder.execute(text("SELECT id FROM scan_events WHERE id = :id FOR UPDATE"), {"id": held})
        assert compact_answers(context.sessions, before=clock.now() - WINDOW, batch=2) == 4
    assert kept_answers(context) == [True, False, False, False, False]
    assert compact_answers(context.sessions, before=clock.now() - WINDOW, batch=2) == 1
    assert kept_answers(context) == [False] * 5


def test_the_sweepers_round_drops_the_answers_past_the_window(
    make: Builders, context: AppContext, clock: FrozenClock
) -> None:
    orq = make.org()
    operator = make.staff(orq, Role.OPERATOR)
    scan(make, operator, make.ticket(orq, "ACTIVATED"), "scan-1")
    clock.advance(WINDOW + timedelta(minutes=1))
    scan(make, operator, make.ticket(orq, "ACTIVATED"), "scan-2")
    stop = threading.Event()
    run_sweeper(
        sessions=context.sessions,
        clock=clock,
        stop=stop,
        interval=60,
        counted=lambda _outcome, _count: stop.set(),  # one round
        answer_retention=WINDOW,
    )
    assert kept_answers(context) == [False, True]


# --- pruning old scans ------------------------------------------------------------------------------

HISTORY = timedelta(days=2)


def archived(archive: Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for path in sorted(archive.glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as file:
            lines += [json.loads(line) for line in file]
    return lines


def scan_then_another_past_the_history(make: Builders, clock: FrozenClock, *nonces: str) -> None:
    orq = make.org()
    first, second = make.ticket(orq, "ACTIVATED"), make.ticket(orq, "ACTIVATED")
    scan(make, make.staff(orq, Role.OPERATOR), first, nonces[0])
    clock.advance(HISTORY + timedelta(hours=1))  # staff log in again: their tokens last 8 hours
    scan(make, make.staff(orq, Role.OPERATOR), second, nonces[1])


def test_scans_past_the_history_are_archived_then_deleted_and_newer_ones_stay(
    make: Builders, context: AppContext, clock: FrozenClock, tmp_path: Path
) -> None:
    orq, other = make.org(), make.org()
    old = [make.ticket(orq, "ACTIVATED") for _ in range(3)]
    recent = make.ticket(orq, "ACTIVATED")
    operator = make.staff(orq, Role.OPERATOR)
    for n, code in enumerate(old):
        scan(make, operator, code, f"old-{n}")
    elsewhere = make.ticket(other, "ACTIVATED")
    scan(make, make.staff(other, Role.OPERATOR), elsewhere, "old-other")
    clock.advance(HISTORY + timedelta(hours=1))  # staff log in again: their tokens last 8 hours
    scan(make, make.staff(orq, Role.OPERATOR), recent, "recent")
    manager = make.staff(orq, Role.MANAGER)

    archive = tmp_path / "archive"
    assert prune_scans(context.sessions, before=clock.now() - HISTORY, archive=archive, batch=2) == 4
    history = make.client.get("/api/operators/scan-history", headers=manager.headers).json()["events"]
    assert [e["ticket_code_suffix"] for e in history] == [recent[-4:]]
    rows = archived(archive)
    assert sorted((r["orq"], r["code_suffix"], r["nonce"]) for r in rows) == sorted(
        [(orq, code[-4:], f"old-{n}") for n, code in enumerate(old)] + [(other, elsewhere[-4:], "old-other")]
    )
    assert all(code not in json.dumps(rows) for code in old)  # the archive holds what the rows held
    assert prune_scans(context.sessions, before=clock.now() - HISTORY, archive=archive) == 0
    assert len(archived(archive)) == 4


def test_a_later_entry_pointing_at_a_pruned_first_entry_keeps_its_conflict_flag(
    make: Builders, context: AppContext, clock: FrozenClock, tmp_path: Path
) -> None:
    scan_then_another_past_the_history(make, clock, "first", "second")
    with context.sessions() as session, session.begin():
        first, second = session.scalars(select(ScanEvent.id).order_by(ScanEvent.id)).all()
        # What a synced offline admission of an already admitted ticket records (services.door_sync).
        session.execute(
            update(ScanEvent).where(ScanEvent.id == second).values(conflict=True, conflict_with=first)
        )
    assert prune_scans(context.sessions, before=clock.now() - HISTORY, archive=tmp_path) == 1
    with context.sessions() as session:
        kept = session.get_one(ScanEvent, second)
        assert (kept.conflict, kept.conflict_with) == (True, None)
    assert [row["id"] for row in archived(tmp_path)] == [first]


def test_when_the_archive_cannot_be_written_nothing_is_deleted(
    make: Builders, context: AppContext, clock: FrozenClock, tmp_path: Path
) -> None:
    orq = make.org()
    operator = make.staff(orq, Role.OPERATOR)
    scan(make, operator, make.ticket(orq, "ACTIVATED"), "first")
    clock.advance(HISTORY + timedelta(hours=1))
    not_a_directory = tmp_path / "archive"
    not_a_directory.write_text("a file where the archive directory should be")
    before = make.snapshot()
    assert prune_scans(context.sessions, before=clock.now() - HISTORY, archive=not_a_directory) == 0
    assert make.snapshot() == before


def test_a_database_lost_mid_pruning_leaves_the_batches_done_archived_and_deleted_and_the_rest_whole(
    make: Builders, context: AppContext, clock: FrozenClock, database_url: str, tmp_path: Path
) -> None:
    if context.engine.dialect.name != "postgresql":
        pytest.skip("SQLite is a local file: there is no connection to lose")
    orq = make.org()
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(3)]
    operator = make.staff(orq, Role.OPERATOR)
    for code, nonce in zip(codes[:2], ("first", "second"), strict=True):
        scan(make, operator, code, nonce)
    clock.advance(HISTORY + timedelta(hours=1))  # staff log in again: their tokens last 8 hours
    scan(make, make.staff(orq, Role.OPERATOR), codes[2], "later")
    with context.sessions() as session, session.begin():
        first, second, later = session.scalars(select(ScanEvent.id).order_by(ScanEvent.id)).all()
        session.execute(update(ScanEvent).where(ScanEvent.id == later).values(conflict_with=second))
    url = make_url(database_url)
    archive = tmp_path / "archive"
    with faulty_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        settings = Settings(database_url=proxied, secret_key=TEST_SECRET, data_dir=tmp_path / "data")
        node = build_context(settings, clock)
        try:
            # The second batch waits to clear the later scan's pointer, which another transaction holds,
            # and the database falls silent meanwhile.
            with context.engine.connect() as holder, holder.begin(), ThreadPoolExecutor(1) as pool:
                holder.execute(text("SELECT id FROM scan_events WHERE id = :id FOR UPDATE"), {"id": later})
                pruning = pool.submit(
                    prune_scans,
                    bounded_sessions(node.sessions, 1.0),
                    before=clock.now() - HISTORY,
                    archive=archive,
                    batch=1,
                )
                wait_until_a_statement_waits_for_a_lock(database_url)
                proxy.set_mode("blackhole")
                with pytest.raises(OperationalError, match="no answer within 2 s"):
                    pruning.result(timeout=30)  # not never: a hang fails here
        finally:
            node.engine.dispose()

    assert [row["id"] for row in archived(archive)] == [first]
    with context.sessions() as session:
        kept = [(e.id, e.conflict_with) for e in session.scalars(select(ScanEvent).order_by(ScanEvent.id))]
    assert kept == [(second, None), (later, second)]


def test_the_sweepers_round_prunes_the_history_when_a_length_is_set(
    make: Builders, context: AppContext, clock: FrozenClock
) -> None:
    scan_then_another_past_the_history(make, clock, "old", "new")
    stop = threading.Event()
    run_sweeper(
        sessions=context.sessions,
        clock=clock,
        stop=stop,
        interval=60,
        counted=lambda _outcome, _count: stop.set(),
        history=Retention(HISTORY, archive=None),
    )
    with context.sessions() as session:
        assert [e.nonce for e in session.scalars(select(ScanEvent))] == ["new"]
