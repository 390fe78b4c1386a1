"""Expiry by itself: `admit serve` writes EXPIRED on a schedule, one node at a time, and keeps going.

Reservations are made on Thursday 20 November 2025 (the pinned clock); the sweeps run on Friday the
21st at 09:00, when Thursday's entry windows (the whole day, by default) have closed and Friday's not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from admit.clock import FrozenClock
from admit.context import AppContext, build_context
from admit.db.engine import answer_within
from admit.db.models import Reservation, ReservationSlot, Ticket
from admit.domain.lifecycle import TicketStatus
from admit.security import codes
from admit.services.sweeper import ADVISORY_LOCK_KEY, Outcome, run_sweeper, sweep
from admit.settings import Settings
from tests.builders import Builders
from tests.conftest import DEFAULT_NOW, TEST_SECRET
from tests.faults import FaultyProxy, wait_until_a_statement_waits_for_a_lock
from tests.nodes import start_node, wait_until_ready

THURSDAY, FRIDAY = "2025-11-20", "2025-11-21"
FRIDAY_MORNING = DEFAULT_NOW + timedelta(days=1)
WAIT = 30  # seconds: a ceiling against a scheduler that never runs, far above its interval


def stored(context: AppContext, code: str) -> tuple[str, str]:
    """(ticket status, reservation status) as written in the database, with no expiry applied on read."""
    digest = context.keys.lookup_hash(codes.normalise(code) or "")
    with context.sessions() as session, session.begin():
        ticket = session.scalars(select(Ticket).where(Ticket.code_hash == digest)).one()
        reservation = session.scalars(select(Reservation).where(Reservation.ticket_id == ticket.id)).one()
        return ticket.status.value, reservation.status.value


def booked(context: AppContext, slot_id: int) -> int:
    with context.sessions() as session, session.begin():
        return session.get_one(ReservationSlot, slot_id).booked_count


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT} s: {what}"
        time.sleep(0.1)


def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the sweep's lock and a TCP fault concern PostgreSQL (SQLite is one embedded node)")


def test_a_served_node_expires_a_closed_reservation_without_anyone_running_admit_expire(
    make: Builders, context: AppContext, database_url: str, tmp_path: Path
) -> None:
    orq = make.org()
    thursday, friday = make.slot(orq, day=THURSDAY), make.slot(orq, day=FRIDAY)
    due, _ = make.reservation(orq, thursday)
    not_yet, _ = make.reservation(orq, friday)

    node = start_node(
        name="node",
        database_url=database_url,
        workdir=tmp_path,
        env={"ADMIT_FROZEN_NOW": FRIDAY_MORNING.isoformat(), "ADMIT_EXPIRY_INTERVAL_SECONDS": "0.5"},
        args=["--no-mail"],
    )
    try:
        wait_until_ready(node)
        wait_for(lambda: stored(context, due)[0] == "EXPIRED", "Thursday's ticket written as EXPIRED")
        metrics = httpx.get(f"{node.url}/metrics", timeout=10).text
    finally:
        node.stop()

    assert stored(context, due) == ("EXPIRED", "EXPIRED")
    assert make.audit(due)[-1] == ("expire", "RESERVED", "EXPIRED", "system")
    assert stored(context, not_yet) == ("RESERVED", "RESERVED")
    # An expired visit keeps its place: the slot is over, and its count says who had booked it.
    assert (booked(context, thursday), booked(context, friday)) == (1, 1)
    assert "admit_tickets_expired_total 1.0" in metrics


def test_a_pass_skips_while_another_node_sweeps_and_sweeps_once_it_is_done(
    make: Builders, context: AppContext, database_url: str
) -> None:
    postgresql_only(database_url)
    orq = make.org()
    due, _ = make.reservation(orq, make.slot(orq, day=THURSDAY))
    friday = FrozenClock(FRIDAY_MORNING)
    other_node = create_engine(database_url)
    try:
        with other_node.begin() as connection:  # another node's pass, in progress
            lock = text("SELECT pg_try_advisory_xact_lock(:key)")
            assert connection.scalar(lock, {"key": ADVISORY_LOCK_KEY})

            assert sweep(context.sessions, clock=friday) is None
            assert stored(context, due) == ("RESERVED", "RESERVED")

        assert sweep(context.sessions, clock=friday) == 1
    finally:
        other_node.dispose()
    assert stored(context, due) == ("EXPIRED", "EXPIRED")


@pytest.fixture
def database_behind_proxy(database_url: str) -> Iterator[tuple[FaultyProxy, str]]:
    url = make_url(database_url)
    proxy = FaultyProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


def test_the_scheduler_survives_a_failing_pass_and_expires_in_a_later_round(
    make: Builders,
    context: AppContext,
    database_url: str,
    database_behind_proxy: tuple[FaultyProxy, str],
    tmp_path: Path,
) -> None:
    postgresql_only(database_url)
    proxy, proxied_url = database_behind_proxy
    orq = make.org()
    due, _ = make.reservation(orq, make.slot(orq, day=THURSDAY))
    settings = Settings(database_url=proxied_url, secret_key=TEST_SECRET, data_dir=tmp_path / "data")
    node = build_context(settings, FrozenClock(FRIDAY_MORNING))
    outcomes: list[tuple[Outcome, int]] = []
    stop = threading.Event()
    proxy.set_mode("cut")  # the database is unreachable when the scheduler starts
    scheduler = threading.Thread(
        target=run_sweeper,
        kwargs={
            "sessions": node.sessions,
            "clock": node.clock,
            "stop": stop,
            "interval": 0.2,
            "counted": lambda outcome, expired: outcomes.append((outcome, expired)),
        },
        daemon=True,
    )
    scheduler.start()
    try:
        wait_for(lambda: ("failed", 0) in outcomes, "a pass fails while the database is cut off")
        assert stored(context, due) == ("RESERVED", "RESERVED")

        proxy.set_mode("pass")

        wait_for(lambda: stored(context, due)[0] == "EXPIRED", "a later pass expires the ticket")
    finally:
        stop.set()
        scheduler.join(timeout=WAIT)
        node.engine.dispose()
    assert not scheduler.is_alive()
    assert ("swept", 1) in outcomes
    assert outcomes.index(("swept", 1)) > outcomes.index(("failed", 0))
    with context.sessions() as session:
        expired = select(func.count()).select_from(Ticket).where(Ticket.status == TicketStatus.EXPIRED)
        assert session.scalar(expired) == 1


# A request's statements may take 1 s here, so its connection is given up after 2 s of silence; the
# sweep's statements may take 5 s (6 s of silence). Lock waits end at 5 s (db.engine.LOCK_TIMEOUT_MS).
REQUEST_STATEMENT_TIMEOUT = 1.0
SWEEP_STATEMENT_TIMEOUT = 5.0
SWEEP_DEADLINE = answer_within(SWEEP_STATEMENT_TIMEOUT)


def sweeping_node(database_url: str, tmp_path: Path) -> AppContext:
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        data_dir=tmp_path / "data",
        db_statement_timeout=REQUEST_STATEMENT_TIMEOUT,
    )
    return build_context(settings, FrozenClock(FRIDAY_MORNING))


@contextmanager
def reservation_held(database_url: str, reservation_id: str) -> Iterator[Callable[[], None]]:
    """Another connection holds the reservation's row lock (a visitor's move, say) until it lets go."""
    other = create_engine(database_url)
    try:
        with Session(other) as session:
            session.begin()
            session.execute(select(Reservation).where(Reservation.id == reservation_id).with_for_update())
            yield session.rollback
            session.rollback()
    finally:
        other.dispose()


def test_a_sweep_statement_may_wait_longer_than_a_request_and_completes_on_its_connection(
    make: Builders, context: AppContext, database_url: str, tmp_path: Path
) -> None:
    postgresql_only(database_url)
    orq = make.org()
    due, reservation_id = make.reservation(orq, make.slot(orq, day=THURSDAY))
    node = sweeping_node(database_url, tmp_path)
    try:
        with reservation_held(database_url, reservation_id) as let_go, ThreadPoolExecutor(1) as pool:
            swept = pool.submit(
                sweep, node.sessions, clock=node.clock, statement_timeout=SWEEP_STATEMENT_TIMEOUT
            )
            wait_until_a_statement_waits_for_a_lock(database_url)
            # Longer than a request's statement may take and its connection may stay silent.
            time.sleep(answer_within(REQUEST_STATEMENT_TIMEOUT) + 1)
            assert not swept.done()
            let_go()
            assert swept.result(timeout=WAIT) == 1
    finally:
        node.engine.dispose()
    assert stored(context, due) == ("EXPIRED", "EXPIRED")


def test_a_sweep_whose_database_stops_answering_is_cut_at_the_sweeps_deadline(
    make: Builders,
    context: AppContext,
    database_url: str,
    database_behind_proxy: tuple[FaultyProxy, str],
    tmp_path: Path,
) -> None:
    postgresql_only(database_url)
    proxy, proxied_url = database_behind_proxy
    orq = make.org()
    due, reservation_id = make.reservation(orq, make.slot(orq, day=THURSDAY))
    node = sweeping_node(proxied_url, tmp_path)
    try:
        with reservation_held(database_url, reservation_id) as let_go, ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            swept = pool.submit(
                sweep, node.sessions, clock=node.clock, statement_timeout=SWEEP_STATEMENT_TIMEOUT
            )
            wait_until_a_statement_waits_for_a_lock(database_url)
            proxy.set_mode("blackhole")  # the sweep's answer, when it comes, never arrives
            let_go()
            with pytest.raises(DBAPIError):
                swept.result(timeout=WAIT)  # not never: a hang fails here
            ended = time.monotonic() - started
    finally:
        node.engine.dispose()
    # Given up once the sweep's own deadline had passed, not a request's.
    assert ended >= SWEEP_DEADLINE
    assert stored(context, due) == ("RESERVED", "RESERVED")
