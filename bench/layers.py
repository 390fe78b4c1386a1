"""Where a door scan's CPU goes: the same validation timed through each layer, one request at a time.

    .venv/bin/python -m bench.layers [--requests 2000]

Four measurements of the same work, each adding one layer to the one before:

1. the door's service (`services.door.scan`: the code check, one query, the verdict, the answer),
   called directly with a new session each time, as a route does;
2. the application called as ASGI in this process, with no network: the middleware, the routing, the
   dependencies (token, staff member, session), the body's validation and the response;
3. the same through a real uvicorn process over HTTP on loopback: the server's CPU per request;
4. for scale, `/healthz` through the same server: what any request costs before a route does anything.

Beside them, the floors of the parts this stack is made of, measured the same way:

- the statements a validation sends (captured from the service's own scans), run through psycopg alone
  in one transaction each: what the database driver costs, with no toolkit around it;
- a bare route of the same framework, called as ASGI: the validation's body model in, a fixed answer out,
  with no middleware and no dependencies, as a synchronous route (so with the hop to a worker thread).

Then, through the same server, the booking path's hot requests, each on its own line: a one-ticket
booking (`POST /api/reservations`), one refused by a full slot (as most of a flash sale's are: SLOT_FULL
with the nearest slots that have room) and the 90-day calendar read (`GET /api/reservation-slots/
available`), 12 hourly slots a day. With `--profile DIR`, py-spy samples the server during each HTTP
line and writes its stacks (raw, collapsed) to DIR, one file per line.

One request at a time, so no request waits for another and the CPU figures are each layer's own. The
in-process steps (1, 2 and the floors) take turns in ten rounds, and each one's CPU is the median of its
rounds: a shared machine's speed can drift by half over a minute, and steps timed one after another
would each get a different spell of it. The closed-loop runs in `bench.door` add contention (two cores
shared by servers, PostgreSQL and clients).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg
import uvloop
from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy.engine import make_url

from admit.api.door import ScanIn
from admit.app import create_app
from admit.db.models import Operator
from admit.domain.lifecycle import ActivationMode
from admit.domain.roles import Role
from admit.services import door as door_service
from admit.services.door import Action
from admit.services.operators import StaffMember, create_operator
from admit.services.slots import NewSlot, create_schedule, create_slot
from admit.settings import Settings
from bench._common import (
    DEFAULT_PG_URL,
    FROZEN_NOW,
    PHONE,
    SECRET_KEY,
    Client,
    bench_context,
    book_in_parties,
    create_museum,
    issue_tickets,
    load_average,
    machine_facts,
    percentile,
    print_table,
    running_servers,
    seeded_database,
    server_env,
)
from bench.captured_sql import Sent, capturing
from bench.door import profiling

USERNAME, PASSWORD = "layers-door", "layers-door-password-1"
VALIDATE_PATH = "/api/operator/validate-ticket"
TICKETS = 200  # validations cycle through these, all GREEN for today
CALENDAR_DAYS, SLOTS_PER_DAY = 90, 12
WARMUP = 100
ROUNDS = 10  # turns of the in-process steps


@dataclass(frozen=True)
class Seeded:
    codes: list[str]
    operator_id: int
    orq: int
    calendar_slot_ids: list[int]
    booking_codes: list[str]  # activated, not booked: one per booking request
    full_slot_id: int  # a sold-out slot among the calendar's: a booking there is refused with alternatives


@dataclass(frozen=True)
class Layer:
    label: str
    cpu_ms: float  # CPU per request, of the process that serves it
    wall_ms: list[float]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.layers", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per layer (default 2000)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server to make the database on")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="py-spy the server's HTTP lines into DIR")
    parser.add_argument(
        "--only-booking", action="store_true", help="skip the validation's layers: booking and calendar only"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with (
        seeded_database(args.pg_url, lambda url: seed(url, args.requests)) as (database_url, seeded, _),
        tempfile.TemporaryDirectory() as tmp,
    ):
        print_table("Machine", ["fact", "value"], machine_facts(database_url, 1), left=2)
        gc.collect()
        gc.freeze()  # as the server does at startup: the seeding's heap is not walked again
        # The servers write their logs to a file; in this process they go nowhere rather than on screen.
        layers: list[Layer] = []
        floors: list[Layer] = []
        if not args.only_booking:
            with open(os.devnull, "w") as nowhere, contextlib.redirect_stdout(nowhere):
                # uvicorn runs its event loop on uvloop: so does this one, for the same costs.
                layers, floors = uvloop.run(in_process(database_url, seeded, args.requests))
        door, hot = http_layers(database_url, seeded, args.requests, Path(tmp), args)
    report(layers + door, floors, hot)
    print(f"\nload average at the end: {load_average()}")


def seed(database_url: str, requests: int) -> Seeded:
    context = bench_context(database_url)
    now = context.clock.now()
    today = date.fromisoformat(FROZEN_NOW[:10])
    try:
        with context.sessions() as session:
            org, admin = create_museum(session, context)
            operator = create_operator(
                session,
                orq=org.id,
                username=USERNAME,
                name="Layers Door",
                role=Role.OPERATOR,
                password=PASSWORD,
                pin=None,
                now=now,
            )
            slot = create_schedule(
                session,
                orq=org.id,
                first=today,
                last=today,
                weekdays=set(range(7)),
                first_start=clock_time(10),
                last_start=clock_time(10),
                every=timedelta(hours=1),
                duration=timedelta(hours=8),
                capacity=TICKETS,
                now=now,
            ).created[0]
            codes = issue_tickets(session, context, admin, TICKETS, ActivationMode.IMMEDIATE)
            book_in_parties(session, context, codes, [slot.id])
            calendar = create_schedule(
                session,
                orq=org.id,
                first=today + timedelta(days=1),
                last=today + timedelta(days=CALENDAR_DAYS),
                weekdays=set(range(7)),
                first_start=clock_time(9),
                last_start=clock_time(9 + SLOTS_PER_DAY - 1),
                every=timedelta(hours=1),
                duration=timedelta(minutes=59),
                capacity=100,
                now=now,
            ).created
            full = create_slot(
                session,
                orq=org.id,
                slot=NewSlot(today + timedelta(days=7), clock_time(9, 30), clock_time(9, 59)),
                capacity=0,
                now=now,
            )
            booking_codes = issue_tickets(
                session, context, admin, requests + WARMUP, ActivationMode.IMMEDIATE
            )
    finally:
        context.engine.dispose()
    return Seeded(codes, operator.id, org.id, [s.id for s in calendar], booking_codes, full.id)


def timed(label: str, requests: int, one: Callable[[int], None], cpu: Callable[[], float]) -> Layer:
    """`one(n)` for a warm-up of 100, then `requests` times: CPU per request (from `cpu`) and latencies."""
    for n in range(WARMUP):
        one(n)
    wall, before = [], cpu()
    for n in range(WARMUP, WARMUP + requests):
        started = time.perf_counter()
        one(n)
        wall.append((time.perf_counter() - started) * 1000)
    return Layer(label, (cpu() - before) * 1000 / requests, wall)


Step = Callable[[int], Awaitable[None]]


async def interleaved(steps: dict[str, Step], requests: int) -> list[Layer]:
    """Each step `requests` times, in ROUNDS turns taken in order, so that a spell of this machine's
    speed falls on every step alike; a step's CPU per request is the median of its turns'."""
    for one in steps.values():
        for n in range(WARMUP):
            await one(n)
    per_turn = max(1, requests // ROUNDS)
    cpu: dict[str, list[float]] = {label: [] for label in steps}
    wall: dict[str, list[float]] = {label: [] for label in steps}
    for turn in range(ROUNDS):
        for label, one in steps.items():
            before = time.process_time()
            for n in range(WARMUP + turn * per_turn, WARMUP + (turn + 1) * per_turn):
                started = time.perf_counter()
                await one(n)
                wall[label].append((time.perf_counter() - started) * 1000)
            cpu[label].append((time.process_time() - before) * 1000 / per_turn)
    return [Layer(label, statistics.median(cpu[label]), wall[label]) for label in steps]


async def in_process(database_url: str, seeded: Seeded, requests: int) -> tuple[list[Layer], list[Layer]]:
    """The validation through the service and through the application, and the floors of the parts,
    all in this process: (layers 1 and 2, the floors)."""
    async with contextlib.AsyncExitStack() as stack:
        service, statements = service_step(database_url, seeded, stack)
        steps = {
            "1. door service, called directly": service,
            "2. the application as ASGI, no network": await application_step(database_url, seeded, stack),
            "the validation's statements through psycopg alone": driver_step(database_url, statements, stack),
            "a bare route: the body model in, a fixed answer out": framework_step(),
        }
        layers = await interleaved(steps, requests)
    return layers[:2], layers[2:]


def service_step(
    database_url: str, seeded: Seeded, stack: contextlib.AsyncExitStack
) -> tuple[Step, list[list[Sent]]]:
    """The door's service, and the statements its scan of each ticket sends (for the driver's floor)."""
    context = bench_context(database_url)
    stack.callback(context.engine.dispose)
    with context.sessions() as session, session.begin():
        member = StaffMember.of(session.get_one(Operator, seeded.operator_id))

    def scan(n: int) -> None:
        with context.sessions() as session:
            outcome = door_service.scan(
                session,
                code=seeded.codes[n % TICKETS],
                operator=member,
                action=Action.VALIDATE,
                nonce=None,
                device_id="layers",
                venue=context.venue(session, member.orq),
                keys=context.keys,
                now=context.clock.now(),
                started=time.perf_counter(),
            )
            assert outcome.result.value == "GREEN", outcome.body

    statements = []
    for n in range(TICKETS):
        with capturing(context.engine) as sent:
            scan(n)
        statements.append(sent)

    async def one(n: int) -> None:
        scan(n)

    return one, statements


def driver_step(database_url: str, statements: list[list[Sent]], stack: contextlib.AsyncExitStack) -> Step:
    """A validation's statements, as the service sent them, through psycopg alone: one transaction each."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = stack.enter_context(psycopg.connect(url))

    async def one(n: int) -> None:
        with connection.transaction():
            for sent in statements[n % TICKETS]:
                connection.execute(sent.statement, sent.parameters).fetchall()

    return one


def asgi_caller(app: Any) -> Callable[[str, object, str], Awaitable[tuple[int, bytes]]]:
    """A POST of a JSON body to `app` as ASGI, in this process: its status and answer."""

    async def call(path: str, body: object, token: str = "") -> tuple[int, bytes]:
        payload = json.dumps(body).encode()
        headers = [(b"host", b"bench"), (b"content-type", b"application/json")]
        headers += [(b"content-length", str(len(payload)).encode())]
        if token:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": payload, "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        status = int(str(sent[0]["status"]))
        return status, b"".join(bytes(m.get("body", b"")) for m in sent[1:])  # type: ignore[call-overload]

    return call


async def application_step(database_url: str, seeded: Seeded, stack: contextlib.AsyncExitStack) -> Step:
    settings = Settings(
        database_url=database_url,
        secret_key=SECRET_KEY,
        frozen_now=FROZEN_NOW,
        rate_limit_validation="off",
        rate_limit_door_login="off",
        log_format="json",
    )
    app = create_app(settings)
    call = asgi_caller(app)
    await stack.enter_async_context(app.router.lifespan_context(app))
    status, answer = await call("/api/operator/login", {"username": USERNAME, "password": PASSWORD}, "")
    if status != 200:
        raise RuntimeError(f"login: {status} {answer[:300]!r}")
    token = json.loads(answer)["access_token"]

    async def one(n: int) -> None:
        body = {"code": seeded.codes[n % TICKETS], "device_id": "layers"}
        status, answer = await call(VALIDATE_PATH, body, token)
        if status != 200:
            raise RuntimeError(f"validate: {status} {answer[:300]!r}")

    return one


def framework_step() -> Step:
    """The framework's own cost for a route like the door's: its body model in, an answer out."""
    app = FastAPI()
    answer = json.dumps({"result": "GREEN", "code": "VALID", "message": "x" * 400})

    @app.post(VALIDATE_PATH)
    def bare(body: ScanIn) -> Response:  # synchronous, as the door's routes: run on a worker thread
        return Response(answer, media_type="application/json")

    call = asgi_caller(app)

    async def one(n: int) -> None:
        status, _ = await call(VALIDATE_PATH, {"code": f"CODE-{n}", "device_id": "layers"}, "")
        if status != 200:
            raise RuntimeError(f"bare route: {status}")

    return one


def http_layers(
    database_url: str, seeded: Seeded, requests: int, log_dir: Path, args: argparse.Namespace
) -> tuple[list[Layer], list[Layer]]:
    """The validation and /healthz over HTTP, then a booking and a calendar read, each `requests` times."""
    env = {**server_env(database_url, log_dir), "ADMIT_RATE_LIMIT_DOOR_LOGIN": "off"}
    with running_servers(1, env, log_dir) as servers:
        client = Client(servers)

        @contextlib.contextmanager
        def spied(name: str) -> Iterator[None]:
            # Long enough for the warm-up and the timed requests; the sampler stops at its duration.
            # Sampled often: a request is a few milliseconds, and one line runs for seconds only.
            with profiling(servers, args.profile, requests / 150, name, rate=1000):
                yield

        try:
            login = client.request(
                0, "POST", "/api/operator/login", {"username": USERNAME, "password": PASSWORD}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

            def validate(n: int) -> None:
                body = {"code": seeded.codes[n % TICKETS], "device_id": "layers"}
                reply = client.request(0, "POST", VALIDATE_PATH, body, headers)
                if reply.status != 200:
                    raise RuntimeError(f"validate: {reply.label} {reply.body[:300]!r}")

            def health(_n: int) -> None:
                client.request(0, "GET", "/healthz")

            query = urlencode(
                {
                    "orq": seeded.orq,
                    "from": date.fromisoformat(FROZEN_NOW[:10]) + timedelta(days=1),
                    "to": date.fromisoformat(FROZEN_NOW[:10]) + timedelta(days=CALENDAR_DAYS),
                }
            )

            def book(n: int) -> None:
                body = {
                    "ticket_code": seeded.booking_codes[n],
                    "slot_id": seeded.calendar_slot_ids[n % len(seeded.calendar_slot_ids)],
                    "customer_email": f"visitor{n}@example.com",
                    "customer_phone": PHONE,
                }
                reply = client.request(0, "POST", "/api/reservations", body)
                if reply.status != 201:
                    raise RuntimeError(f"book: {reply.label} {reply.body[:300]!r}")

            def refused(n: int) -> None:
                # A refusal changes nothing, so one ticket serves every attempt.
                body = {
                    "ticket_code": seeded.booking_codes[0],
                    "slot_id": seeded.full_slot_id,
                    "customer_email": f"visitor{n}@example.com",
                    "customer_phone": PHONE,
                }
                reply = client.request(0, "POST", "/api/reservations", body)
                if reply.status != 409:
                    raise RuntimeError(f"refused: {reply.label} {reply.body[:300]!r}")

            def read_calendar(_n: int) -> None:
                reply = client.request(0, "GET", f"/api/reservation-slots/available?{query}")
                if reply.status != 200:
                    raise RuntimeError(f"calendar: {reply.label} {reply.body[:300]!r}")

            door = []
            if not args.only_booking:
                with spied("validate"):
                    label = "3. the same over HTTP, one uvicorn process"
                    door.append(timed(label, requests, validate, servers.cpu_seconds))
                door.append(
                    timed("4. GET /healthz over HTTP, for scale", requests, health, servers.cpu_seconds)
                )
            with spied("booking"):
                hot = [timed("POST /api/reservations, 1 ticket", requests, book, servers.cpu_seconds)]
            with spied("refused"):
                label = "POST /api/reservations, full slot (SLOT_FULL)"
                hot.append(timed(label, requests, refused, servers.cpu_seconds))
            with spied("calendar"):
                label = f"GET availability, {CALENDAR_DAYS} days x {SLOTS_PER_DAY} slots"
                hot.append(timed(label, requests, read_calendar, servers.cpu_seconds))
            return door, hot
        finally:
            client.close()


def report(layers: list[Layer], floors: list[Layer], hot: list[Layer]) -> None:
    if layers:
        report_validation(layers)
        print_table(
            "The floors of the parts, the same way (one request at a time, this process's CPU)",
            ["part", "CPU ms/req", "p50 ms", "p95 ms"],
            [
                [
                    floor.label,
                    f"{floor.cpu_ms:.2f}",
                    f"{percentile(floor.wall_ms, 50):.2f}",
                    f"{percentile(floor.wall_ms, 95):.2f}",
                ]
                for floor in floors
            ],
        )
    print_table(
        "The booking path over HTTP, one uvicorn process (one request at a time)",
        ["request", "server CPU ms/req", "p50 ms", "p95 ms", "p99 ms"],
        [
            [
                layer.label,
                f"{layer.cpu_ms:.2f}",
                f"{percentile(layer.wall_ms, 50):.2f}",
                f"{percentile(layer.wall_ms, 95):.2f}",
                f"{percentile(layer.wall_ms, 99):.2f}",
            ]
            for layer in hot
        ],
    )


def report_validation(layers: list[Layer]) -> None:
    rows = []
    previous = 0.0
    for layer in layers[:3]:
        rows.append(
            [
                layer.label,
                f"{layer.cpu_ms:.2f}",
                f"{layer.cpu_ms - previous:+.2f}" if previous else "",
                f"{percentile(layer.wall_ms, 50):.2f}",
                f"{percentile(layer.wall_ms, 95):.2f}",
            ]
        )
        previous = layer.cpu_ms
    floor = layers[3]
    rows.append([floor.label, f"{floor.cpu_ms:.2f}", "", f"{percentile(floor.wall_ms, 50):.2f}", ""])
    print_table(
        "A validation's CPU, layer by layer (one request at a time)",
        ["layer", "CPU ms/req", "added", "p50 ms", "p95 ms"],
        rows,
    )


if __name__ == "__main__":
    main()
