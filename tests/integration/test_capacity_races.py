"""Capacity under real concurrency: many clients, each on its own connection, racing for the same places.

Every client here is a thread with its own session (so its own connection and transaction), released
together by a barrier; the last tests put two real server processes on one PostgreSQL database and
race through HTTP. After every race the books must balance: each slot's `booked_count` is the number of
its live reservations and never above its capacity, and each RESERVED ticket holds exactly one.
"""

from __future__ import annotations

import dataclasses
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from admit import errors
from admit.context import AppContext
from admit.db.engine import make_engine, make_session_factory
from admit.db.models import Reservation, ReservationSlot, Ticket
from admit.domain.calendar import status_after_booking
from admit.domain.lifecycle import ReservationStatus, TicketStatus
from admit.services.reservations import (
    cancel_party,
    cancel_reservation,
    checked_contact,
    move_party,
    move_reservation,
    reserve,
)
from admit.services.slots import update_slot
from tests.builders import CONTACT, Builders
from tests.conftest import DEFAULT_NOW, TEST_SECRET
from tests.nodes import free_port

T = TypeVar("T")

OK = "OK"
MAX_THREADS = 32
# Two days ahead of the pinned clock (2025-11-20 09:00): well before the default 24 h change cutoff.
DAY = "2025-11-22"
VISITOR = checked_contact(CONTACT["customer_email"], CONTACT["customer_phone"])


# --- Racing clients ---------------------------------------------------------------------------------


@pytest.fixture
def racers(standalone_context: AppContext) -> Iterator[AppContext]:
    """The standalone context with a pool wide enough that every racing thread holds its own connection."""
    engine = make_engine(standalone_context.settings.database_url, pool_size=MAX_THREADS, max_overflow=4)
    yield dataclasses.replace(standalone_context, engine=engine, sessions=make_session_factory(engine))
    engine.dispose()


def racing_threads(context: AppContext, *, postgresql: int, sqlite: int) -> int:
    """How many clients race at once: SQLite takes one writer at a time, so fewer make the same race."""
    return postgresql if context.engine.dialect.name == "postgresql" else sqlite


def run_together(workers: int, work: Callable[[int], T]) -> list[T]:
    """`work(i)` for every i below `workers`, each in its own thread, all released at the same instant."""
    start = threading.Barrier(workers)

    def released(worker: int) -> T:
        start.wait(timeout=60)
        return work(worker)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(released, worker) for worker in range(workers)]
        # A non-domain exception in any thread (a deadlock, a lock timeout, a bug) is raised here.
        return [future.result() for future in futures]


class Desk(Protocol):
    """One client's way to book, move and cancel; each call answers OK or the refusal's error code."""

    def book(self, codes: list[str], slot_id: int) -> tuple[str, list[str], str]: ...

    def move(self, reservation_id: str, slot_id: int) -> str: ...

    def cancel(self, reservation_id: str) -> str: ...

    def move_party(self, party_id: str, slot_id: int) -> str: ...

    def cancel_party(self, party_id: str) -> str: ...


@dataclasses.dataclass
class ServiceDesk:
    """Calls the service layer directly, one session (connection, transaction) per call."""

    context: AppContext

    def book(self, codes: list[str], slot_id: int) -> tuple[str, list[str], str]:
        with self.context.sessions() as session:
            try:
                made = reserve(
                    session,
                    ticket_codes=codes,
                    slot_id=slot_id,
                    contact=VISITOR,
                    keys=self.context.keys,
                    now=self.context.clock.now(),
                )
            except errors.DomainError as refused:
                return str(refused.code), [], ""
        return OK, [r.reservation_id for r in made], made[0].party_id

    def move(self, reservation_id: str, slot_id: int) -> str:
        return self._change(move_reservation, reservation_id=reservation_id, slot_id=slot_id)

    def cancel(self, reservation_id: str) -> str:
        return self._change(cancel_reservation, reservation_id=reservation_id)

    def move_party(self, party_id: str, slot_id: int) -> str:
        return self._change(move_party, party_id=party_id, slot_id=slot_id)

    def cancel_party(self, party_id: str) -> str:
        return self._change(cancel_party, party_id=party_id)

    def _change(self, change: Callable[..., object], **target: Any) -> str:
        with self.context.sessions() as session:
            try:
                change(session, keys=self.context.keys, now=self.context.clock.now(), **target)
            except errors.DomainError as refused:
                return str(refused.code)
        return OK


@dataclasses.dataclass
class HttpDesk:
    """Calls the HTTP API, alternating between several servers; anything but 2xx or a 4xx refusal fails."""

    http: httpx.Client
    servers: list[str]
    calls: int = 0

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[str, Any]:
        server = self.servers[self.calls % len(self.servers)]
        self.calls += 1
        response = self.http.request(method, server + path, json=body)
        assert response.status_code < 500, (
            f"{method} {path} on {server}: {response.status_code} {response.text}"
        )
        if response.is_success:
            return OK, response.json()
        assert response.status_code == 409, f"{method} {path}: {response.status_code} {response.text}"
        return str(response.json()["error"]["code"]), None

    def book(self, codes: list[str], slot_id: int) -> tuple[str, list[str], str]:
        # Both paths the stories name: the single form for one ticket, the batch form for several.
        tickets: dict[str, str | list[str]]
        if len(codes) == 1:
            path, tickets = "/api/reservations/create", {"ticket_code": codes[0]}
        else:
            path, tickets = "/api/reservations", {"ticket_codes": codes}
        outcome, body = self._send("POST", path, {**tickets, "slot_id": slot_id, **CONTACT})
        if body is None:
            return outcome, [], ""
        return outcome, [r["reservation_id"] for r in body["reservations"]], body["party_id"]

    def move(self, reservation_id: str, slot_id: int) -> str:
        return self._send("PUT", f"/api/reservations/{reservation_id}", {"slot_id": slot_id})[0]

    def cancel(self, reservation_id: str) -> str:
        return self._send("DELETE", f"/api/reservations/{reservation_id}")[0]

    def move_party(self, party_id: str, slot_id: int) -> str:
        return self._send("PUT", f"/api/parties/{party_id}", {"slot_id": slot_id})[0]

    def cancel_party(self, party_id: str) -> str:
        return self._send("DELETE", f"/api/parties/{party_id}")[0]


# --- The books --------------------------------------------------------------------------------------


def unbalanced_books(context: AppContext, orq: int) -> list[str]:
    """Every way the organization's slots and tickets disagree with its live reservations (none, ideally)."""
    live = Reservation.status != ReservationStatus.CANCELLED
    problems = []
    with context.sessions() as session, session.begin():
        counted = session.execute(
            select(Reservation.slot_id, func.count())
            .where(Reservation.orq == orq, live)
            .group_by(Reservation.slot_id)
        )
        per_slot = {slot_id: holders for slot_id, holders in counted}
        for slot in session.scalars(select(ReservationSlot).where(ReservationSlot.orq == orq)):
            booked, total, holders = slot.booked_count, slot.total_capacity, per_slot.get(slot.id, 0)
            if booked != holders:
                problems.append(f"slot {slot.id}: booked_count {booked} but {holders} live reservations")
            if not 0 <= booked <= total:
                problems.append(f"slot {slot.id}: booked_count {booked} outside 0..{total}")
            if slot.status is not status_after_booking(slot.status, booked=booked, total=total):
                problems.append(f"slot {slot.id}: status {slot.status.value} with {booked}/{total} booked")
        per_ticket = Counter(
            session.scalars(select(Reservation.ticket_id).where(Reservation.orq == orq, live))
        )
        for ticket_id, status in session.execute(select(Ticket.id, Ticket.status).where(Ticket.orq == orq)):
            wanted = 1 if status is TicketStatus.RESERVED else 0
            if per_ticket[ticket_id] != wanted:
                problems.append(
                    f"ticket {ticket_id}: {status.value} with {per_ticket[ticket_id]} live reservations"
                )
    return problems


def ticket_statuses(context: AppContext, orq: int) -> Counter[str]:
    with context.sessions() as session, session.begin():
        return Counter(s.value for s in session.scalars(select(Ticket.status).where(Ticket.orq == orq)))


def activated_codes(make: Builders, orq: int, count: int) -> list[str]:
    return [str(t["code"]) for t in make.order(orq, quantity=count, mode="immediate")["tickets"]]


# --- Bookings racing for the last places ------------------------------------------------------------


def test_concurrent_bookings_fill_a_slot_exactly_to_capacity_and_refuse_the_rest(
    make: Builders, racers: AppContext
) -> None:
    """300 holders racing for 200 places: 200 booked, 100 refused SLOT_FULL, counts equal to reservations."""
    orq = make.org()
    slot_id = make.slot(orq, day=DAY, capacity=200)
    codes = activated_codes(make, orq, 300)
    desk = ServiceDesk(racers)
    threads = racing_threads(racers, postgresql=MAX_THREADS, sqlite=16)

    def book_share(worker: int) -> list[str]:
        return [desk.book([code], slot_id)[0] for code in codes[worker::threads]]

    outcomes = Counter(o for share in run_together(threads, book_share) for o in share)

    assert outcomes == {OK: 200, "SLOT_FULL": 100}
    assert make.slot_counts(slot_id) == (200, 200, "FULL")
    assert ticket_statuses(racers, orq) == {"RESERVED": 200, "ACTIVATED": 100}
    assert unbalanced_books(racers, orq) == []


def test_one_ticket_booked_by_many_clients_at_once_gets_exactly_one_reservation(
    make: Builders, racers: AppContext
) -> None:
    """The same ticket from 20 clients at once: one reservation, 19 ALREADY_RESERVED, one place taken."""
    orq = make.org()
    slot_id = make.slot(orq, day=DAY, capacity=100)
    code = make.ticket(orq, "ACTIVATED")
    desk = ServiceDesk(racers)

    outcomes = Counter(run_together(20, lambda _: desk.book([code], slot_id)[0]))

    assert outcomes == {OK: 1, "ALREADY_RESERVED": 19}
    assert make.slot_counts(slot_id) == (1, 1, "ACTIVE")
    assert make.status_of(code) == "RESERVED"
    assert unbalanced_books(racers, orq) == []


def test_capacity_lowered_while_bookings_race_never_falls_below_the_places_booked(
    make: Builders, racers: AppContext
) -> None:
    """An admin lowering and raising capacity during a booking rush: never below booked, never overbooked."""
    orq = make.org()
    slot_id = make.slot(orq, day=DAY, capacity=60)
    codes = activated_codes(make, orq, 80)
    desk = ServiceDesk(racers)
    threads = racing_threads(racers, postgresql=16, sqlite=8)
    bookers = threads - 1
    capacities = random.Random(20251120).choices(range(5, 61), k=60)

    def admin() -> list[str]:
        outcomes = []
        for capacity in capacities:
            with racers.sessions() as session:
                try:
                    update_slot(
                        session,
                        slot_id=slot_id,
                        orq=orq,
                        capacity=capacity,
                        status=None,
                        notify=None,
                        now=racers.clock.now(),
                    )
                except errors.DomainError as refused:
                    outcomes.append(str(refused.code))
                else:
                    outcomes.append(OK)
        return outcomes

    def rush(worker: int) -> list[str]:
        if worker == bookers:
            return admin()
        return [desk.book([code], slot_id)[0] for code in codes[worker::bookers]]

    shares = run_together(threads, rush)
    bookings, changes = Counter(o for share in shares[:bookers] for o in share), Counter(shares[bookers])

    assert set(bookings) <= {OK, "SLOT_FULL"}, bookings
    assert set(changes) <= {OK, "CAPACITY_BELOW_BOOKED"}, changes
    assert bookings[OK] > 0 and changes[OK] > 0, (bookings, changes)
    booked, live, _ = make.slot_counts(slot_id)
    assert booked == live == bookings[OK]
    assert unbalanced_books(racers, orq) == []


# --- Bookings, moves and cancels interleaved ----------------------------------------------------------

# What a racing client may legitimately be told: the slot filled up, the ticket was booked by another
# client first, or the reservation was cancelled by another client first.
RACE_REFUSALS = {"SLOT_FULL", "ALREADY_RESERVED", "NOT_RESERVED"}
CHURN_OPERATIONS = 320


@dataclasses.dataclass
class Churn:
    """Seeded random bookings (single and batch), moves and cancels (of one, or of a whole party booked
    together) over a few small slots."""

    codes: list[str]
    slot_ids: list[int]
    seed: int = 20251120
    _live: dict[str, str] = dataclasses.field(default_factory=dict)  # reservation id → ticket code
    _parties: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # party → its reservations
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def run(self, desk: Desk, worker: int, operations: int) -> Counter[tuple[str, str]]:
        rng = random.Random(self.seed + worker)
        outcomes: Counter[tuple[str, str]] = Counter()
        for _ in range(operations):
            operation = rng.choice(
                (
                    "book",
                    "book",
                    "batch",
                    "batch",
                    "move",
                    "move",
                    "cancel",
                    "party_move",
                    "party_move",
                    "party_cancel",
                )
            )
            with self._lock:
                # Possibly stale by the time it is used: that is the race under test.
                known = sorted(self._live)
                parties = sorted(self._parties)
            if operation in ("party_move", "party_cancel") and parties:
                party_id = rng.choice(parties)
                if operation == "party_move":
                    outcome = desk.move_party(party_id, rng.choice(self.slot_ids))
                else:
                    outcome = desk.cancel_party(party_id)
                    if outcome == OK:
                        with self._lock:
                            for reservation_id in self._parties.pop(party_id, []):
                                self._live.pop(reservation_id, None)
            elif operation in ("move", "cancel") and known:
                reservation_id = rng.choice(known)
                if operation == "move":
                    outcome = desk.move(reservation_id, rng.choice(self.slot_ids))
                else:
                    outcome = desk.cancel(reservation_id)
                    if outcome == OK:
                        with self._lock:
                            self._live.pop(reservation_id, None)
            else:
                operation = "batch" if operation in ("batch", "party_move", "party_cancel") else "book"
                picked = rng.sample(self.codes, 2 if operation == "batch" else 1)
                outcome, made, party_id = desk.book(picked, rng.choice(self.slot_ids))
                if outcome == OK:
                    with self._lock:
                        self._live.update(zip(made, picked, strict=True))
                        if len(made) > 1:
                            self._parties[party_id] = made
            outcomes[operation, outcome] += 1
        return outcomes


def assert_churn_kept_the_books(outcomes: Counter[tuple[str, str]], problems: list[str]) -> None:
    refusals = {outcome for (_, outcome) in outcomes} - {OK}
    assert refusals <= RACE_REFUSALS, outcomes
    # The race must have happened for the check to mean anything.
    for operation in ("book", "batch", "move", "cancel", "party_move", "party_cancel"):
        assert outcomes[operation, OK] > 0, outcomes
    assert outcomes["book", "SLOT_FULL"] + outcomes["batch", "SLOT_FULL"] > 0, outcomes
    assert problems == []


def test_interleaved_bookings_moves_and_cancels_keep_every_count_equal_to_live_reservations(
    make: Builders, racers: AppContext
) -> None:
    """Clients booking, moving and cancelling over 4 slots of 5: the books balance, only refusals fail."""
    orq = make.org()
    slot_ids = [make.slot(orq, day=DAY, start=f"{h}:00", end=f"{h}:45", capacity=5) for h in (10, 11, 12, 13)]
    churn = Churn(activated_codes(make, orq, 40), slot_ids)
    desk = ServiceDesk(racers)
    threads = racing_threads(racers, postgresql=16, sqlite=8)
    operations = CHURN_OPERATIONS // threads

    outcomes = sum(run_together(threads, lambda worker: churn.run(desk, worker, operations)), Counter())

    assert_churn_kept_the_books(outcomes, unbalanced_books(racers, orq))


# --- Two server processes on one PostgreSQL database ---------------------------------------------------


def _wait_until_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"server {url} exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server {url} not ready after 30 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def two_servers(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Base URLs of two `uvicorn` processes serving the run's PostgreSQL database, stopped afterwards.

    Started once for the module: each test still gets emptied tables (the servers keep no state of their
    own), and a server pair costs seconds to start.
    """
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("several server processes share one database only on PostgreSQL (SQLite is embedded)")
    tmp_path = tmp_path_factory.mktemp("servers")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADMIT_") and k != "REDIS_URL"}
    env |= {
        "DATABASE_URL": database_url,
        "ADMIT_SECRET_KEY": TEST_SECRET,
        "ADMIT_FROZEN_NOW": DEFAULT_NOW.isoformat(),
        "ADMIT_RATE_LIMIT_RESERVATIONS": "off",
        "ADMIT_RATE_LIMIT_VALIDATION": "off",
        "ADMIT_DATA_DIR": str(tmp_path / "data"),
    }
    servers: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    try:
        for number in range(2):
            port = free_port()
            log = tmp_path / f"server-{number}.log"
            with log.open("wb") as output:
                command = [sys.executable, "-m", "uvicorn", "admit.app:create_app", "--factory"]
                command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
                process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
            servers.append((f"http://127.0.0.1:{port}", process, log))
        for url, process, log in servers:
            _wait_until_ready(url, process, log)
        yield [url for url, _, _ in servers]
    finally:
        for _, process, _ in servers:
            process.terminate()
        for _, process, _ in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def run_http_clients(servers: list[str], workers: int, work: Callable[[Desk, int], T]) -> list[T]:
    """`work(desk, i)` in `workers` threads, each with its own HTTP connection, alternating servers."""

    def client(worker: int) -> T:
        with httpx.Client(timeout=30) as http:
            # Odd workers start on the other server, so both take requests from the first instant.
            return work(HttpDesk(http, servers, calls=worker), worker)

    return run_together(workers, client)


def test_two_server_processes_on_one_database_never_overbook_a_slot(
    make: Builders, two_servers: list[str]
) -> None:
    """120 bookings for 50 places through two servers: 50 created, 70 SLOT_FULL, no 5xx, counts agree."""
    orq = make.org()
    slot_id = make.slot(orq, day=DAY, capacity=50)
    codes = activated_codes(make, orq, 120)
    workers = 24

    def book_share(desk: Desk, worker: int) -> list[str]:
        return [desk.book([code], slot_id)[0] for code in codes[worker::workers]]

    outcomes = Counter(o for share in run_http_clients(two_servers, workers, book_share) for o in share)

    assert outcomes == {OK: 50, "SLOT_FULL": 70}
    assert make.slot_counts(slot_id) == (50, 50, "FULL")
    assert unbalanced_books(make.context, orq) == []


def test_two_server_processes_keep_the_books_through_interleaved_moves_and_cancels(
    make: Builders, two_servers: list[str]
) -> None:
    """Bookings, moves and cancels through two servers over 4 slots of 5: the books balance, no 5xx."""
    orq = make.org()
    slot_ids = [make.slot(orq, day=DAY, start=f"{h}:00", end=f"{h}:45", capacity=5) for h in (10, 11, 12, 13)]
    churn = Churn(activated_codes(make, orq, 40), slot_ids)
    threads = 16

    def churn_share(desk: Desk, worker: int) -> Counter[tuple[str, str]]:
        return churn.run(desk, worker, CHURN_OPERATIONS // threads)

    outcomes = sum(run_http_clients(two_servers, threads, churn_share), Counter())

    assert_churn_kept_the_books(outcomes, unbalanced_books(make.context, orq))
