"""Booking benchmark: the availability calendar, uncontended reservations, and a flash sale on one slot.

    .venv/bin/python -m bench.booking            # default sizes, a few minutes
    .venv/bin/python -m bench.booking --quick    # under a minute

It makes its own PostgreSQL database (dropped at the end), seeds it through the service layer with a
pinned clock, starts real uvicorn processes against it, and prints tables with the targets beside the
figures. Not part of the test suite: timings depend on the machine, correctness is asserted elsewhere.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select

from admit.db.models import Reservation, ReservationSlot
from admit.domain.lifecycle import ActivationMode, ReservationStatus
from admit.services.slots import NewSlot, create_schedule, create_slot
from bench._common import (
    DEFAULT_PG_URL,
    FROZEN_NOW,
    LATENCY_HEADERS,
    PHONE,
    Client,
    Reply,
    Servers,
    bench_context,
    create_museum,
    issue_tickets,
    latency_row,
    load_average,
    machine_facts,
    percentile,
    print_table,
    running_servers,
    seeded_database,
    server_env,
    verdict,
)

SIZES = {
    "default": {"availability_requests": 400, "reservations": 400, "capacity": 500, "attempts": 2000},
    "quick": {"availability_requests": 60, "reservations": 60, "capacity": 200, "attempts": 600},
}
AVAILABILITY_P95_MS = 5.0
RESERVATION_P95_MS = 50.0
FLASH_DECISIONS_PER_S = 600.0
FLASH_P99_MS = 150.0
FLASH_SERVER_CPU_MS = 1.5  # per booking decision, at most
WARMUP_PER_SERVER = 5  # requests per server and phase that are not counted (imports, first connections)
ROOMY_CAPACITY = 100


@dataclass(frozen=True)
class Seeded:
    orq: int
    first: date
    last: date
    roomy_slot_ids: list[int]
    flash_slot_id: int
    quiet_codes: list[str]
    flash_codes: list[str]


@dataclass(frozen=True)
class Answer:
    reply: Reply
    done_at: float  # seconds after the sale opened


@dataclass(frozen=True)
class Sequential:
    ms: list[float]  # latency of each counted request
    server_cpu_ms: float  # server CPU per counted request


@dataclass(frozen=True)
class Results:
    availability: Sequential
    availability_bytes: int
    reservation: Sequential
    flash: list[Answer]
    flash_wall_s: float
    flash_server_cpu_s: float
    flash_client_cpu_s: float


def main() -> None:
    args = parse_args()
    # Stopped from outside: unwind like Ctrl-C, so the servers stop and the database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"admit booking benchmark ({'quick' if args.quick else 'default'} sizes)")
    with (
        seeded_database(args.pg_url, lambda url: seed(url, args)) as (database_url, seeded, seconds),
        tempfile.TemporaryDirectory() as tmp,
    ):
        print(f"seeded in {seconds:.1f} s; starting {args.servers} server(s)")
        log_dir = Path(tmp)
        with running_servers(args.servers, server_env(database_url, log_dir), log_dir) as servers:
            print_table("Machine", ["fact", "value"], machine_facts(database_url, args.servers), left=2)
            results = run(servers, seeded, args)
            errors = servers.logged_errors()
        capacity, booked, live = slot_counts(database_url, seeded.flash_slot_id)
        report(results, args, capacity=capacity, booked=booked, live=live, errors=errors)
        print(f"\nload average at the end: {load_average()}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.booking", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: finishes in under a minute")
    parser.add_argument("--servers", type=int, default=2, help="uvicorn processes (default 2)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server to make the database on")
    parser.add_argument("--days", type=int, default=90, help="days of slots in the calendar (default 90)")
    parser.add_argument("--slots-per-day", type=int, default=12, help="hourly slots a day (default 12)")
    parser.add_argument("--availability-requests", type=int, help="sequential calendar reads")
    parser.add_argument("--reservations", type=int, help="sequential one-ticket bookings")
    parser.add_argument("--capacity", type=int, help="places in the flash-sale slot")
    parser.add_argument("--attempts", type=int, help="flash-sale booking attempts, one ticket each")
    parser.add_argument("--concurrency", type=int, default=32, help="flash-sale clients (default 32)")
    args = parser.parse_args()
    for name, value in SIZES["quick" if args.quick else "default"].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if not 1 <= args.slots_per_day <= 24:
        parser.error("--slots-per-day is 1 to 24 (hourly slots from 00:00)")
    for name in ("servers", "days", "concurrency", "capacity", "attempts"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def seed(database_url: str, args: argparse.Namespace) -> Seeded:
    """An organization, its admin, a calendar of roomy hourly slots, one flash-sale slot and tickets."""
    context = bench_context(database_url)
    now = context.clock.now()
    today = date.fromisoformat(FROZEN_NOW[:10])
    first, last = today + timedelta(days=1), today + timedelta(days=args.days)
    opening = max(0, min(9, 24 - args.slots_per_day))
    try:
        with context.sessions() as session:
            org, admin = create_museum(session, context)
            roomy = create_schedule(
                session,
                orq=org.id,
                first=first,
                last=last,
                weekdays=set(range(7)),
                first_start=clock_time(opening),
                last_start=clock_time(opening + args.slots_per_day - 1),
                every=timedelta(hours=1),
                duration=timedelta(minutes=59),
                capacity=ROOMY_CAPACITY,
                now=now,
            ).created
            # A half-hour special a week ahead, among the calendar's slots, which a refusal offers instead.
            flash_day = first + timedelta(days=min(6, args.days - 1))
            flash = NewSlot(flash_day, clock_time(opening, 30), clock_time(opening, 59))
            flash_slot = create_slot(session, orq=org.id, slot=flash, capacity=args.capacity, now=now)
            wanted = args.reservations + WARMUP_PER_SERVER * args.servers + args.attempts
            codes = issue_tickets(session, context, admin, wanted, ActivationMode.IMMEDIATE)
    finally:
        context.engine.dispose()
    return Seeded(
        orq=org.id,
        first=first,
        last=last,
        roomy_slot_ids=[s.id for s in roomy],
        flash_slot_id=flash_slot.id,
        quiet_codes=codes[: wanted - args.attempts],
        flash_codes=codes[wanted - args.attempts :],
    )


def run(servers: Servers, seeded: Seeded, args: argparse.Namespace) -> Results:
    warmup = WARMUP_PER_SERVER * len(servers.ports)
    client = Client(servers)
    try:
        query = urlencode({"orq": seeded.orq, "from": seeded.first, "to": seeded.last})
        calendar_read = ("GET", f"/api/reservation-slots/available?{query}", None)
        reads = [calendar_read] * (warmup + args.availability_requests)
        availability = sequential(client, servers, reads, warmup, expect=200)
        size = len(client.request(0, *calendar_read).body)
        slots = itertools.cycle(seeded.roomy_slot_ids)
        bookings = [
            ("POST", "/api/reservations", booking(code, next(slots), n))
            for n, code in enumerate(seeded.quiet_codes)
        ]
        reservation = sequential(client, servers, bookings, warmup, expect=201)
    finally:
        client.close()
    server_cpu, client_cpu = servers.cpu_seconds(), time.process_time()
    flash, wall = flash_sale(servers, seeded.flash_slot_id, seeded.flash_codes, args.concurrency)
    return Results(
        availability=availability,
        availability_bytes=size,
        reservation=reservation,
        flash=flash,
        flash_wall_s=wall,
        flash_server_cpu_s=servers.cpu_seconds() - server_cpu,
        flash_client_cpu_s=time.process_time() - client_cpu,
    )


def sequential(
    client: Client, servers: Servers, requests: Sequence[tuple[str, str, object]], warmup: int, *, expect: int
) -> Sequential:
    """Send the requests one after another, spread over the servers; the first `warmup` do not count."""
    latencies, cpu = [], servers.cpu_seconds()
    for n, request in enumerate(requests):
        if n == warmup:
            cpu = servers.cpu_seconds()
        reply = client.request(n, *request)
        if reply.status != expect:
            raise RuntimeError(f"{request[0]} {request[1]}: {reply.label} {reply.body[:300]!r}")
        if n >= warmup:
            latencies.append(reply.ms)
    return Sequential(latencies, (servers.cpu_seconds() - cpu) * 1000 / max(1, len(latencies)))


def booking(code: str, slot_id: int, n: int) -> dict[str, object]:
    return {
        "ticket_code": code,
        "slot_id": slot_id,
        "customer_email": f"visitor{n}@example.com",
        "customer_phone": PHONE,
    }


def flash_sale(
    servers: Servers, slot_id: int, codes: list[str], concurrency: int
) -> tuple[list[Answer], float]:
    """`concurrency` customers (threads) book distinct tickets into one slot as fast as answers come."""
    work = iter(enumerate(codes))
    take = threading.Lock()
    answers: list[Answer] = []
    start = threading.Barrier(concurrency + 1)
    opened = 0.0

    def customer() -> None:
        client = Client(servers)
        start.wait()
        try:
            while True:
                with take:
                    n, code = next(work, (-1, ""))
                if n < 0:
                    return
                reply = client.request(n, "POST", "/api/reservations", booking(code, slot_id, n))
                answers.append(Answer(reply, time.perf_counter() - opened))
        finally:
            client.close()

    customers = [threading.Thread(target=customer, daemon=True) for _ in range(concurrency)]
    for thread in customers:
        thread.start()
    opened = time.perf_counter()
    start.wait()
    for thread in customers:
        thread.join()
    return answers, time.perf_counter() - opened


def slot_counts(database_url: str, slot_id: int) -> tuple[int, int, int]:
    """The slot's capacity and booked_count, and its live reservations, read after the run."""
    context = bench_context(database_url)
    try:
        with context.sessions() as session, session.begin():
            slot = session.get_one(ReservationSlot, slot_id)
            live = session.scalar(
                select(func.count())
                .select_from(Reservation)
                .where(Reservation.slot_id == slot_id, Reservation.status != ReservationStatus.CANCELLED)
            )
            return slot.total_capacity, slot.booked_count, int(live or 0)
    finally:
        context.engine.dispose()


def report(
    results: Results, args: argparse.Namespace, *, capacity: int, booked: int, live: int, errors: int
) -> None:
    calendar = f"{args.days} days x {args.slots_per_day} slots, {results.availability_bytes / 1024:.0f} KiB"
    print_table(
        f"Sequential, one client (after a warm-up of {WARMUP_PER_SERVER} requests per server and phase)",
        [*LATENCY_HEADERS, "server CPU ms/req"],
        [
            _sequential_row(f"GET availability ({calendar})", results.availability),
            _sequential_row("POST reservation (1 ticket, roomy slot)", results.reservation),
        ],
    )

    answers, wall = results.flash, results.flash_wall_s
    ok = [a for a in answers if a.reply.status is not None and 200 <= a.reply.status < 300]
    refused = [a for a in answers if a.reply.status is not None and 400 <= a.reply.status < 500]
    decisions = len(ok) + len(refused)
    sold_out_at = max((a.done_at for a in ok), default=0.0)
    flash_ms = [a.reply.ms for a in answers]
    print_table(
        f"Flash sale: {args.attempts} attempts by {args.concurrency} clients at one slot of {capacity} "
        f"places, {wall:.2f} s",
        ["", "count", "per s"],
        [
            ["booked (2xx)", len(ok), f"{len(ok) / wall:.0f}"],
            [f"  until the last booking, at {sold_out_at:.2f} s", len(ok), _rate(len(ok), sold_out_at)],
            ["refused (4xx)", len(refused), f"{len(refused) / wall:.0f}"],
            ["decisions (2xx + 4xx)", decisions, f"{decisions / wall:.0f}"],
            ["errors (5xx, transport)", len(answers) - decisions, f"{(len(answers) - decisions) / wall:.0f}"],
        ],
    )
    per_answer = results.flash_server_cpu_s * 1000 / max(1, len(answers))
    print_table(
        f"Flash sale latency (CPU: servers {results.flash_server_cpu_s:.1f} s, "
        f"this client {results.flash_client_cpu_s:.1f} s)",
        [*LATENCY_HEADERS, "server CPU ms/req"],
        [[*latency_row("POST reservation", flash_ms), f"{per_answer:.1f}"]],
    )
    by_label = Counter(a.reply.label for a in answers)
    print_table("Flash sale answers", ["status", "count"], sorted(by_label.items()))

    overbooking = max(0, booked - capacity)
    expected = min(capacity, args.attempts)
    print_table(
        "Flash sale, from the database after the run",
        ["check", "figure", "want", "result"],
        [
            ["overbooking (booked_count - capacity)", overbooking, 0, verdict(overbooking == 0)],
            ["booked_count = live reservations", f"{booked} = {live}", "equal", verdict(booked == live)],
            ["booked_count = 2xx answers", f"{booked} = {len(ok)}", "equal", verdict(booked == len(ok))],
            ["sold out", f"{booked} of {capacity}", expected, verdict(booked == expected)],
            ["errors in the server logs", errors, 0, verdict(errors == 0)],
        ],
    )

    availability_p95 = percentile(results.availability.ms, 95)
    reservation_p95 = percentile(results.reservation.ms, 95)
    flash_p99 = percentile(flash_ms, 99)
    print_table(
        "Targets",
        ["", "figure", "target", "result"],
        [
            _target("availability p95", availability_p95, "ms", "<", AVAILABILITY_P95_MS),
            _target("uncontended reservation p95", reservation_p95, "ms", "<", RESERVATION_P95_MS),
            _target("flash sale decisions", decisions / wall, "/s", ">", FLASH_DECISIONS_PER_S),
            _target("flash sale p99", flash_p99, "ms", "<", FLASH_P99_MS),
            _target("server CPU per decision", per_answer, "ms", "<", FLASH_SERVER_CPU_MS),
            ["no overbooking", str(overbooking), "0", verdict(overbooking == 0)],
        ],
    )


def _sequential_row(label: str, phase: Sequential) -> list[str]:
    return [*latency_row(label, phase.ms), f"{phase.server_cpu_ms:.1f}"]


def _target(label: str, figure: float, unit: str, sense: str, target: float) -> list[str]:
    ok = figure < target if sense == "<" else figure > target
    return [label, f"{figure:.1f} {unit}", f"{sense} {target:g} {unit}", verdict(ok)]


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.0f}" if seconds > 0 else "-"


if __name__ == "__main__":
    main()
