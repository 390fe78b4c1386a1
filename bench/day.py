"""Mixed-day benchmark: calendar reads, bookings, moves, cancellations and door scans, all at once.

    .venv/bin/python -m bench.day            # default sizes, about a minute and a half
    .venv/bin/python -m bench.day --quick    # about half a minute

The other benchmarks load one path at a time. A venue's day is all of them together: visitors reading
the calendar and booking, some moving or cancelling, while the door admits today's visitors. Here
clients send such a mix back to back (a closed loop) against real server processes on a throwaway
PostgreSQL database, and the table shows each kind's latency and the servers' CPU per request. After
the run the database is checked: no slot over its capacity, each slot's booked count equal to its live
reservations, one admission per ticket.

Not part of the test suite: timings depend on the machine, correctness is asserted elsewhere.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, func, select

from admit.db.models import Reservation, ReservationSlot, TicketTransition
from admit.domain.lifecycle import ActivationMode, ReservationStatus, TicketStatus
from admit.domain.roles import Role
from admit.services.operators import create_operator
from admit.services.slots import NewSlot, create_schedule, create_slot
from bench._common import (
    DEFAULT_PG_URL,
    FROZEN_NOW,
    LATENCY_HEADERS,
    PARTY,
    PHONE,
    Client,
    Reply,
    Servers,
    bench_context,
    book_in_parties,
    create_museum,
    issue_tickets,
    latency_row,
    load_average,
    machine_facts,
    print_table,
    running_servers,
    seeded_database,
    server_env,
    verdict,
)

SIZES = {"default": {"seconds": 30.0}, "quick": {"seconds": 8.0}}
# A day's requests by kind, in parts of 100: most visitors read the calendar; the door admits today's.
MIX = {"calendar": 35, "book": 20, "move": 8, "cancel": 4, "admit": 25, "scan again": 8}
CALENDAR_DAYS = 30  # what the visitor page asks for: a month
BOOKING_DAYS = range(2, 16)  # bookings go two to fifteen days ahead, so moves are inside the policy
SLOT_HOURS = range(9, 17)
TODAY_HOURS = range(10, 18)  # today's slots not yet started: the pinned now is 09:00
SLOT_CAPACITY = 200
ADMITS_PER_S = 400  # today's reserved tickets to seed per second of the run: more than are admitted
BOOKINGS_PER_S = 300
USERNAME, PASSWORD = "day-door", "day-door-password-1"


@dataclass(frozen=True)
class Seeded:
    orq: int
    today: date
    future_slot_ids: list[int]
    to_book: list[str]  # activated tickets with no reservation
    to_admit: list[str]  # reserved for today, not yet in


@dataclass
class Answers:
    by_kind: dict[str, list[Reply]] = field(default_factory=lambda: defaultdict(list))
    admitted: set[str] = field(default_factory=set)


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"admit mixed-day benchmark ({'quick' if args.quick else 'default'} sizes)")
    with (
        seeded_database(args.pg_url, lambda url: seed(url, args)) as (database_url, seeded, seconds),
        tempfile.TemporaryDirectory() as tmp,
    ):
        print(f"seeded in {seconds:.1f} s; starting {args.servers} server(s)")
        log_dir = Path(tmp)
        # One door login serves every client here; a venue's lanes would each log in.
        env = {**server_env(database_url, log_dir), "ADMIT_RATE_LIMIT_DOOR_LOGIN": "off"}
        with running_servers(args.servers, env, log_dir) as servers:
            print_table("Machine", ["fact", "value"], machine_facts(database_url, args.servers), left=2)
            token = log_in(servers)
            cpu_before = servers.cpu_seconds()
            answers, wall = run(servers, seeded, token, args)
            server_cpu_s = servers.cpu_seconds() - cpu_before
            errors = servers.logged_errors()
        failures = check_database(database_url, answers)
        report(answers, wall, server_cpu_s, errors, failures, args)
        print(f"\nload average at the end: {load_average()}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.day", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--servers", type=int, default=2, help="uvicorn processes (default 2)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server to make the database on")
    parser.add_argument("--clients", type=int, default=32, help="closed-loop clients (default 32)")
    parser.add_argument("--seconds", type=float, help="length of the run (default 30, quick 8)")
    parser.add_argument("--seed", type=int, default=1, help="the random mix's seed")
    args = parser.parse_args()
    for name, value in SIZES["quick" if args.quick else "default"].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.servers < 1 or args.clients < 1 or args.seconds <= 0:
        parser.error("--servers, --clients and --seconds must be positive")
    return args


def seed(database_url: str, args: argparse.Namespace) -> Seeded:
    """A museum open 09:00-17:00 every day, its door operator, tickets to book and today's visitors."""
    context = bench_context(database_url)
    now = context.clock.now()
    today = date.fromisoformat(FROZEN_NOW[:10])
    admits = int(ADMITS_PER_S * args.seconds)
    try:
        with context.sessions() as session:
            org, admin = create_museum(session, context)
            create_operator(
                session,
                orq=org.id,
                username=USERNAME,
                name="Day Door",
                role=Role.OPERATOR,
                password=PASSWORD,
                pin=None,
                now=now,
            )
            future = create_schedule(
                session,
                orq=org.id,
                first=today + timedelta(days=1),
                last=today + timedelta(days=CALENDAR_DAYS),
                weekdays=set(range(7)),
                first_start=clock_time(SLOT_HOURS.start),
                last_start=clock_time(SLOT_HOURS.stop - 1),
                every=timedelta(hours=1),
                duration=timedelta(minutes=59),
                capacity=SLOT_CAPACITY,
                now=now,
            ).created
            # Today's slots hold every visitor the run can admit, so none is refused for capacity.
            per_slot = admits // len(TODAY_HOURS) + PARTY
            today_slots = [
                create_slot(
                    session,
                    orq=org.id,
                    slot=NewSlot(today, clock_time(hour), clock_time(hour, 59)),
                    capacity=per_slot,
                    now=now,
                ).id
                for hour in TODAY_HOURS
            ]
            to_admit = issue_tickets(session, context, admin, admits, ActivationMode.IMMEDIATE)
            book_in_parties(session, context, to_admit, today_slots)
            to_book = issue_tickets(
                session, context, admin, int(BOOKINGS_PER_S * args.seconds), ActivationMode.IMMEDIATE
            )
    finally:
        context.engine.dispose()
    bookable = [s.id for s in future if (s.date - today).days in BOOKING_DAYS]
    return Seeded(org.id, today, bookable, to_book, to_admit)


def log_in(servers: Servers) -> str:
    client = Client(servers)
    try:
        reply = client.request(0, "POST", "/api/operator/login", {"username": USERNAME, "password": PASSWORD})
    finally:
        client.close()
    if reply.status != 200:
        raise RuntimeError(f"login: {reply.label} {reply.body[:300]!r}")
    return str(reply.json()["access_token"])


def run(servers: Servers, seeded: Seeded, token: str, args: argparse.Namespace) -> tuple[Answers, float]:
    """`args.clients` clients, each sending its next request of the mix as soon as the last is answered."""
    answers = Answers()
    kinds, weights = list(MIX), list(MIX.values())
    to_book, to_admit = iter(seeded.to_book), iter(seeded.to_admit)
    take = threading.Lock()
    ready = threading.Barrier(args.clients + 1)
    staff = {"Authorization": f"Bearer {token}"}
    calendar = "/api/reservation-slots/available?" + urlencode(
        {"orq": seeded.orq, "from": seeded.today, "to": seeded.today + timedelta(days=CALENDAR_DAYS - 1)}
    )
    deadline = 0.0

    def client_loop(number: int) -> None:
        rng = random.Random(args.seed * 1000 + number)
        client = Client(servers)
        booked: list[str] = []  # this client's live reservations, which it may move or cancel
        admitted: list[str] = []
        mine: dict[str, list[Reply]] = defaultdict(list)
        ready.wait()
        n = number
        try:
            while time.perf_counter() < deadline:
                n += args.clients
                kind = rng.choices(kinds, weights)[0]
                if kind in ("move", "cancel") and not booked:
                    kind = "book"
                if kind == "scan again" and not admitted:
                    kind = "admit"
                if kind == "calendar":
                    reply = client.request(n, "GET", calendar)
                elif kind == "book":
                    with take:
                        code = next(to_book, None)
                    if code is None:
                        break
                    body = {
                        "ticket_code": code,
                        "slot_id": rng.choice(seeded.future_slot_ids),
                        "customer_email": f"visitor-{code[-6:].lower()}@example.com",
                        "customer_phone": PHONE,
                    }
                    reply = client.request(n, "POST", "/api/reservations", body)
                    if reply.status == 201:
                        booked.append(reply.json()["reservations"][0]["reservation_id"])
                elif kind == "move":
                    target = {"slot_id": rng.choice(seeded.future_slot_ids)}
                    reply = client.request(n, "PUT", f"/api/reservations/{rng.choice(booked)}", target)
                elif kind == "cancel":
                    reservation_id = booked.pop(rng.randrange(len(booked)))
                    reply = client.request(n, "DELETE", f"/api/reservations/{reservation_id}")
                else:
                    if kind == "admit":
                        with take:
                            code = next(to_admit, None)
                        if code is None:
                            break
                        admitted.append(code)
                    else:
                        code = rng.choice(admitted)
                    body = {"code": code, "device_id": f"door-{number:02d}", "action": "admit"}
                    body["nonce"] = f"{number}-{n}"
                    reply = client.request(n, "POST", "/venue/scan", body, staff)
                mine[kind].append(reply)
        finally:
            client.close()
            with take:
                for kind, replies in mine.items():
                    answers.by_kind[kind].extend(replies)
                answers.admitted.update(admitted)

    threads = [threading.Thread(target=client_loop, args=(k,), daemon=True) for k in range(args.clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline = started + args.seconds
    ready.wait()
    for thread in threads:
        thread.join()
    return answers, time.perf_counter() - started


def check_database(database_url: str, answers: Answers) -> list[list[str]]:
    """What the database holds after the run: capacity kept, counts true, each visitor admitted once."""
    engine = create_engine(database_url)
    live = (
        select(Reservation.slot_id, func.count().label("live"))
        .where(Reservation.status != ReservationStatus.CANCELLED)
        .group_by(Reservation.slot_id)
        .subquery()
    )
    try:
        with engine.connect() as connection:
            slots = connection.execute(
                select(ReservationSlot.total_capacity, ReservationSlot.booked_count, live.c.live).join(
                    live, live.c.slot_id == ReservationSlot.id, isouter=True
                )
            ).all()
            verified = connection.execute(
                select(TicketTransition.ticket_id, func.count())
                .where(TicketTransition.to_status == TicketStatus.VERIFIED)
                .group_by(TicketTransition.ticket_id)
            ).all()
    finally:
        engine.dispose()
    over = sum(1 for capacity, booked, _ in slots if booked > capacity)
    wrong = sum(1 for _, booked, count in slots if booked != (count or 0))
    twice = sum(1 for _, n in verified if n > 1)
    admitted_ok = sum(1 for r in answers.by_kind["admit"] if r.status == 200 and r.json()["verified_now"])
    return [
        ["slots over capacity", str(over), "0", verdict(over == 0)],
        ["slots whose booked count is not their live reservations", str(wrong), "0", verdict(wrong == 0)],
        ["tickets admitted more than once", str(twice), "0", verdict(twice == 0)],
        ["admissions recorded = first scans answered", f"{len(verified)} = {admitted_ok}", "equal",
         verdict(len(verified) == admitted_ok)],
    ]  # fmt: skip


def report(
    answers: Answers,
    wall: float,
    server_cpu_s: float,
    errors: int,
    failures: list[list[str]],
    args: argparse.Namespace,
) -> None:
    everything = [r for replies in answers.by_kind.values() for r in replies]
    groups = [(kind, answers.by_kind[kind]) for kind in MIX if answers.by_kind[kind]] + [("all", everything)]
    rows = [[*latency_row(k, [r.ms for r in replies]), f"{len(replies) / wall:.0f}"] for k, replies in groups]
    print_table(
        f"A mixed day: {args.clients} clients back to back for {wall:.1f} s "
        f"(server CPU {server_cpu_s * 1000 / max(1, len(everything)):.2f} ms per request)",
        [*LATENCY_HEADERS, "per s"],
        rows,
    )
    labels = Counter((kind, r.label) for kind, replies in answers.by_kind.items() for r in replies)
    rows = [[kind, answer, n] for (kind, answer), n in sorted(labels.items())]
    print_table("Answers", ["kind", "answer", "count"], rows, left=2)
    transport = sum(1 for r in everything if r.status is None or r.status >= 500)
    print_table(
        "Checks, from the database after the run",
        ["check", "figure", "want", "result"],
        [
            *failures,
            ["server errors (5xx, transport)", str(transport), "0", verdict(transport == 0)],
            ["errors in the server logs", str(errors), "0", verdict(errors == 0)],
        ],
    )


if __name__ == "__main__":
    main()
