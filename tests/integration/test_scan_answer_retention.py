"""The door's stored answers: kept for a nonce's retry within the window, then dropped from the row."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from admit.clock import FrozenClock
from admit.context import AppContext
from admit.db.models import ScanEvent
from admit.domain.roles import Role
from admit.services.retention import compact_answers
from admit.services.sweeper import run_sweeper
from tests.builders import Builders, Staff

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
