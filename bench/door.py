"""Door benchmark: scans at the door's peak, over HTTP on PostgreSQL, open loop and closed loop.

    .venv/bin/python -m bench.door            # default sizes, about three minutes
    .venv/bin/python -m bench.door --quick    # about a minute and a half

It makes its own PostgreSQL database (dropped at the end), seeds it through the service layer with a
pinned clock (one organization, one operator per scanner lane, today's slots, reserved tickets and a
few of other kinds), starts real uvicorn processes against it and then:

- open loop: a steady rate of scans from every lane, each sent at its planned time by whichever
  sender thread is free, its latency measured from the planned time (so a stall is charged to every
  scan that should have gone out during it); once validate-only, once admitting distinct tickets;
- closed loop: clients sending scans back to back (validate, then admitting distinct tickets), each
  beside pgbench running the same SQL against the same database: what the servers sustain next to what
  the database alone could. pgbench's SQL is captured from a real scan of each kind (captured_sql.py);
- a login flood: the validate open loop again while clients post wrong logins back to back, each
  from a new address (forwarded by a trusted proxy), so that no per-client limit applies and only the
  bound on hashes at once stands between the flood and the door;
- checks from the database: one VERIFIED transition per admitted ticket, one scan event per scan.

Not part of the test suite: timings depend on the machine, correctness is asserted elsewhere.
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import multiprocessing.synchronize
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from admit.context import AppContext
from admit.db.models import (
    Operator,
    Organization,
    Reservation,
    ReservationSlot,
    ScanEvent,
    Ticket,
    TicketTransition,
    live_reservation_of,
)
from admit.domain.lifecycle import ActivationMode, TicketStatus
from admit.domain.roles import Role
from admit.security import codes as ticket_codes
from admit.security.codes import CodeKeys
from admit.services import door as door_service
from admit.services.door import Action
from admit.services.operators import StaffMember, create_operator
from admit.services.slots import NewSlot, create_slot
from bench import captured_sql
from bench._common import (
    DEFAULT_PG_URL,
    FROZEN_NOW,
    HOST,
    LATENCY_HEADERS,
    PARTY,
    SECRET_KEY,
    Client,
    Reply,
    Servers,
    bench_context,
    book_in_parties,
    busy_percent,
    create_museum,
    issue_tickets,
    latency_row,
    load_average,
    machine_cpu_ticks,
    machine_facts,
    percentile,
    print_table,
    running_servers,
    seeded_database,
    server_env,
    vacuum_analyze,
    verdict,
)

SIZES = {
    "default": {"seconds": 20.0, "validate_pool": 2000},
    "quick": {"seconds": 5.0, "validate_pool": 500},
}
# Distinct tickets per second of a run that admits each once: more than the servers or pgbench admit here.
CLOSED_ADMITS_PER_S = 600
PGBENCH_ADMITS_PER_S = 4000
VALIDATE_P95_MS = 10.0
ADMIT_P95_MS = 25.0
CLOSED_VALIDATE_SHARE = 50  # % of pgbench's rate for the same SQL, at least
CLOSED_ADMIT_SHARE = 40
SERVER_CPU_MS = {"closed": 0.8, "closed_admit": 1.5}  # per scan, at most
WARMUP_PER_SERVER = 10  # scans per server before each open-loop run that are not counted
SLOT_HOURS = range(10, 18)  # today's hourly slots, 10:00-17:59; the pinned now is 09:00
# Of every ODD_EVERY scans, one at each of these positions is not a valid ticket for today.
ODD_EVERY = 50
ODD_POSITIONS = {16: "wrong_date", 32: "not_activated", 48: "unknown"}
VALIDATE_PATH = "/api/operator/validate-ticket"
LOGIN_PATH = "/api/operator/login"
SCAN_PATH = "/venue/scan"
RUN_TITLES = {"closed": "validate", "closed_admit": "admit"}
PGBENCH_DEVICE = "pgbench"  # the scan events pgbench writes, told apart from the servers' own
SAMPLE_EVERY_S = 0.2  # how often the database's CPU is sampled during a run
SENDER_CHECK_S = 0.002  # how often the open loop checks that a sender is free for the next scan
COST_HEADERS = [
    *["", "scans/s", "avg ms"],
    *["server CPU", "database CPU", "client CPU"],  # ms per scan
    *["ours, cores", "others, cores", "machine busy %"],
]


@dataclass(frozen=True)
class Seeded:
    orq: int
    lanes: list[tuple[str, str]]  # (username, password), one operator per scanner lane
    validate_pool: list[str]  # reserved for today; validated again and again, never admitted
    admit_pool: list[str]  # reserved for today; each admitted once
    closed_admit_pool: list[str]  # the same, for the closed loop
    spare: list[str]  # two more: one scanned to capture the admit SQL, one cloned for pgbench
    wrong_date: list[str]  # reserved for tomorrow
    not_activated: list[str]  # pre-made tickets nobody activated
    unknown: list[str]  # well-formed codes that were never issued


@dataclass(frozen=True)
class Scan:
    path: str
    body: dict[str, object]
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    scan: Scan
    reply: Reply
    lag_ms: float  # actual send time minus planned send time (open loop); 0 in the closed loop
    ms: float  # from the planned send time (open loop) or the send (closed loop) to the whole answer

    @property
    def label(self) -> str:
        """ "GREEN VALID", "RED WRONG_DATE", or the error: what answers are counted by."""
        if self.reply.status != 200:
            return self.reply.label
        body = self.reply.json()
        return f"{body['result']} {body['code']}"


@dataclass(frozen=True)
class Usage:
    """What a run cost: wall time and CPU of the servers, the database, this client, the machine."""

    wall_s: float
    server_cpu_s: float
    database_cpu_s: float
    client_cpu_s: float
    machine_busy_pct: float

    @property
    def our_cores(self) -> float:
        """Cores kept busy by this benchmark: servers, database backends and clients."""
        ours = self.server_cpu_s + self.database_cpu_s + self.client_cpu_s
        return ours / self.wall_s if self.wall_s > 0 else math.nan

    @property
    def other_cores(self) -> float:
        """Cores kept busy by everything else on the machine (other work, the kernel) meanwhile."""
        return max(0.0, self.machine_busy_pct / 100 * (os.cpu_count() or 1) - self.our_cores)

    def cost(self) -> list[str]:
        """The last three columns under COST_HEADERS."""
        return [f"{self.our_cores:.2f}", f"{self.other_cores:.2f}", f"{self.machine_busy_pct:.0f}"]


@dataclass(frozen=True)
class Run:
    name: str
    answers: list[Answer]
    usage: Usage
    span_s: float  # from the first planned send (or the start) to the last answer
    peak_in_flight: int = 0
    senders: int = 0  # open loop: sender threads in the end
    concurrency: int = 0
    warmup: list[Answer] = field(default_factory=list)  # answered before the run, not counted in it
    logins: Counter[str] = field(default_factory=Counter)  # the login flood's answers, by label


@dataclass(frozen=True)
class Pgbench:
    tps: float
    latency_ms: float
    failed: str
    usage: Usage
    clients: int
    threads: int
    output: str = ""


@dataclass(frozen=True)
class Checks:
    admitted: int  # tickets answered GREEN with verified_now in the admit run
    admitted_once: int  # ... of which the database holds exactly one VERIFIED transition
    verified_more_than_once: int
    verified_not_admitted: int  # VERIFIED transitions on tickets this run did not admit
    scan_events: int
    verified_events: int
    scans_sent: int
    server_log_errors: int


def main() -> None:
    args = parse_args()
    # Stopped from outside: unwind like Ctrl-C, so the servers stop and the database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"admit door benchmark ({'quick' if args.quick else 'default'} sizes)")
    with (
        seeded_database(args.pg_url, lambda url: seed(url, args)) as (database_url, seeded, seconds),
        tempfile.TemporaryDirectory() as tmp,
    ):
        print(
            f"seeded in {seconds:.1f} s: {len(seeded.lanes)} lanes, "
            f"{len(seeded.validate_pool) + len(seeded.admit_pool)} tickets reserved for today; "
            f"starting {args.servers} server(s)"
        )
        log_dir = Path(tmp)
        monitor = create_engine(database_url, pool_size=1, max_overflow=0)
        try:
            # The servers are behind a "proxy" on this machine: the login flood comes from many addresses.
            env = {**server_env(database_url, log_dir), "ADMIT_TRUSTED_PROXIES": HOST}
            with running_servers(args.servers, env, log_dir) as servers:
                print_table("Machine", ["fact", "value"], machine_facts(database_url, args.servers), left=2)
                warn_if_loaded()
                tokens = log_in(servers, seeded.lanes)
                runs, sent = run_http(servers, monitor, seeded, tokens, args)
                errors = servers.logged_errors()
            # Checked before pgbench writes its own scans and verifications.
            checks = check_database(monitor, runs, sent, errors)
            scripts = pgbench_scripts(database_url, monitor, seeded, args)
            pgbench = {
                name: run_pgbench(name, script, transactions, database_url, monitor, args, Path(tmp))
                for name, (script, transactions) in scripts.items()
            }
        finally:
            monitor.dispose()
        report(runs, pgbench, checks, args)
        print(
            f"\nload average at the end: {load_average()} ({os.cpu_count()} cores; the last minutes include "
            "this benchmark's own servers, database work and clients)"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.door", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs: about a minute and a half")
    parser.add_argument("--servers", type=int, default=2, help="uvicorn processes (default 2)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server to make the database on")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop scans per second (default 200)")
    parser.add_argument("--scanners", type=int, default=50, help="scanner lanes, one operator each (50)")
    parser.add_argument("--seconds", type=float, help="length of each run (default 20, quick 5)")
    parser.add_argument("--senders", type=int, default=64, help="open-loop sender threads at first (64)")
    parser.add_argument(
        "--max-senders", type=int, default=512, help="open-loop sender threads at most (default 512)"
    )
    parser.add_argument("--concurrency", type=int, default=24, help="closed-loop clients (default 24)")
    parser.add_argument(
        "--login-flood", type=int, default=16, help="clients flooding wrong logins (16; 0: no flood run)"
    )
    parser.add_argument("--validate-pool", type=int, help="tickets the validate runs cycle through")
    parser.add_argument("--odd", type=int, default=20, help="tickets of each odd kind (default 20)")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="py-spy the servers during each run, into DIR"
    )
    args = parser.parse_args()
    for name, value in SIZES["quick" if args.quick else "default"].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in ("servers", "scanners", "senders", "max_senders", "concurrency", "validate_pool", "odd"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rate <= 0 or args.seconds < 1:
        parser.error("--rate must be positive and --seconds at least 1")
    return args


def warn_if_loaded() -> None:
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > cores / 2:
        print(
            f"NOTE: this machine is loaded by other work (1-minute load average {load:.1f} on {cores} "
            "cores): the servers, the database and this client compete with it for the CPU, so every "
            "latency and rate here is pessimistic."
        )


# --- seeding ------------------------------------------------------------------------------------------


def seed(database_url: str, args: argparse.Namespace) -> Seeded:
    """An organization, its lanes' operators, today's slots, tickets reserved for today and odd ones."""
    context = bench_context(database_url)
    now = context.clock.now()
    today = date.fromisoformat(FROZEN_NOW[:10])
    admit_count = math.ceil(args.rate * args.seconds) + WARMUP_PER_SERVER * args.servers
    closed_admit_count = math.ceil(CLOSED_ADMITS_PER_S * args.seconds)
    valid_count = args.validate_pool + admit_count + closed_admit_count + 2
    try:
        with context.sessions() as session:
            org, admin = create_museum(session, context)
        lanes = create_lanes(context, org.id, args.scanners)
        with context.sessions() as session:
            per_slot = math.ceil(valid_count / len(SLOT_HOURS)) + PARTY
            today_slots = [
                create_slot(
                    session,
                    orq=org.id,
                    slot=NewSlot(today, clock_time(hour), clock_time(hour, 59)),
                    capacity=per_slot,
                    now=now,
                ).id
                for hour in SLOT_HOURS
            ]
            tomorrow = NewSlot(today + timedelta(days=1), clock_time(10), clock_time(10, 59))
            tomorrow_slot = create_slot(session, orq=org.id, slot=tomorrow, capacity=args.odd, now=now).id

            valid = issue_tickets(session, context, admin, valid_count, ActivationMode.IMMEDIATE)
            wrong_date = issue_tickets(session, context, admin, args.odd, ActivationMode.IMMEDIATE)
            not_activated = issue_tickets(session, context, admin, args.odd, ActivationMode.PRE_MADE)
            book_in_parties(session, context, valid, today_slots)
            book_in_parties(session, context, wrong_date, [tomorrow_slot])
    finally:
        context.engine.dispose()
    return Seeded(
        orq=org.id,
        lanes=lanes,
        validate_pool=valid[: args.validate_pool],
        admit_pool=valid[args.validate_pool : args.validate_pool + admit_count],
        closed_admit_pool=valid[args.validate_pool + admit_count : -2],
        spare=valid[-2:],
        wrong_date=wrong_date,
        not_activated=not_activated,
        unknown=[ticket_codes.new_code() for _ in range(args.odd)],
    )


def create_lanes(context: AppContext, orq: int, count: int) -> list[tuple[str, str]]:
    """One operator per scanner lane; Argon2 makes each slow, so a few are made at once."""
    now = context.clock.now()

    def one(lane: int) -> tuple[str, str]:
        username, password = f"lane-{lane:02d}", secrets.token_urlsafe(12)
        with context.sessions() as session:
            create_operator(
                session,
                orq=orq,
                username=username,
                name=f"Lane {lane:02d}",
                role=Role.OPERATOR,
                password=password,
                pin=None,
                now=now,
            )
        return username, password

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(1, count + 1)))


def log_in(servers: Servers, lanes: list[tuple[str, str]]) -> list[str]:
    """Each lane's operator logs in over HTTP; their tokens, in lane order."""

    def one(item: tuple[int, tuple[str, str]]) -> str:
        n, (username, password) = item
        client = Client(servers)
        try:
            body = {"username": username, "password": password}
            forwarded = {"X-Forwarded-For": f"10.255.0.{n % 250}"}
            reply = client.request(n, "POST", LOGIN_PATH, body, forwarded)
            while reply.status == 503:  # the servers hash a few passwords a second: wait as told
                time.sleep(float(reply.json()["error"]["details"]["retry_after"]))
                reply = client.request(n, "POST", LOGIN_PATH, body, forwarded)
        finally:
            client.close()
        if reply.status != 200:
            raise RuntimeError(f"login of {username}: {reply.label} {reply.body[:300]!r}")
        return str(reply.json()["access_token"])

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, enumerate(lanes)))


# --- the scans ----------------------------------------------------------------------------------------


def plan(seeded: Seeded, tokens: list[str], *, admit: bool, count: int, greens: Iterator[str]) -> list[Scan]:
    """`count` scans from the lanes in turn: mostly valid tickets (taken from `greens`), a few odd ones."""
    tag = secrets.token_hex(4)
    scans = []
    for i in range(count):
        kind = ODD_POSITIONS.get(i % ODD_EVERY)
        if kind is None:
            code = next(greens)
        else:
            odd: list[str] = getattr(seeded, kind)
            code = odd[i // ODD_EVERY % len(odd)]
        lane = i % len(tokens)
        body: dict[str, object] = {"code": code, "device_id": f"scanner-{lane + 1:02d}"}
        if admit:
            body |= {"action": "admit", "nonce": f"{tag}-{i}"}
        headers = {"Authorization": f"Bearer {tokens[lane]}"}
        scans.append(Scan(SCAN_PATH if admit else VALIDATE_PATH, body, headers))
    return scans


def run_http(
    servers: Servers, monitor: Engine, seeded: Seeded, tokens: list[str], args: argparse.Namespace
) -> tuple[dict[str, Run], int]:
    """The two open-loop runs and the closed-loop one; also how many scans were sent in all."""
    warmup = WARMUP_PER_SERVER * len(servers.ports)
    total = round(args.rate * args.seconds)
    sent = 0
    runs: dict[str, Run] = {}
    for name, admit, greens in (
        ("validate", False, itertools.cycle(seeded.validate_pool)),
        ("admit", True, iter(seeded.admit_pool)),
    ):
        scans = plan(seeded, tokens, admit=admit, count=warmup + total, greens=greens)
        warmed = warm(servers, scans[:warmup])
        print(f"open loop, {name}: {total} scans at {args.rate:.0f}/s from {len(tokens)} lanes ...")
        with profiling(servers, args.profile, args.seconds, name):
            run = open_loop(name, servers, monitor, scans[warmup:], args.rate, args.senders, args.max_senders)
        runs[name] = replace(run, warmup=warmed)
        sent += len(scans)
    if args.login_flood:
        greens = itertools.cycle(seeded.validate_pool)
        scans = plan(seeded, tokens, admit=False, count=warmup + total, greens=greens)
        warmed = warm(servers, scans[:warmup])
        print(f"open loop, validate during a flood of wrong logins from {args.login_flood} clients ...")
        usernames, cap = [username for username, _ in seeded.lanes], args.max_senders
        with login_flood(servers, usernames, args.login_flood) as logins:
            run = open_loop("flood", servers, monitor, scans[warmup:], args.rate, args.senders, cap)
        runs["flood"] = replace(run, warmup=warmed, logins=logins)
        sent += len(scans)
    scans = plan(seeded, tokens, admit=False, count=20_000, greens=itertools.cycle(seeded.validate_pool))
    print(f"closed loop, validate: {args.concurrency} clients back to back for {args.seconds:.0f} s ...")
    with profiling(servers, args.profile, args.seconds, "closed"):
        runs["closed"] = closed_loop(servers, monitor, scans, args.concurrency, args.seconds)
    pool = seeded.closed_admit_pool
    scans = plan(seeded, tokens, admit=True, count=len(pool), greens=iter(pool))
    print(f"closed loop, admit: {args.concurrency} clients back to back for {args.seconds:.0f} s ...")
    with profiling(servers, args.profile, args.seconds, "closed-admit"):
        runs["closed_admit"] = closed_loop(servers, monitor, scans, args.concurrency, args.seconds, once=True)
    sent += len(runs["closed"].answers) + len(runs["closed_admit"].answers)
    return runs, sent


@contextmanager
def login_flood(servers: Servers, usernames: list[str], clients: int) -> Iterator[Counter[str]]:
    """`clients` threads posting wrong passwords back to back while the body runs, each login from a new
    address; yields the count of their answers by label, complete once the body is over.

    The flood runs in a process of its own, so that it takes no turns for this process's interpreter
    from the door's lanes, whose latencies are measured here: the servers alone stand between them.
    """
    stop = multiprocessing.Event()
    results: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_flood_process, args=(servers, usernames, clients, stop, results), daemon=True
    )
    process.start()
    counts: Counter[str] = Counter()
    try:
        yield counts
    finally:
        stop.set()
        counts.update(results.get(timeout=120))
        process.join(timeout=30)


def _flood_process(
    servers: Servers,
    usernames: list[str],
    clients: int,
    stop: multiprocessing.synchronize.Event,
    results: multiprocessing.Queue[dict[str, int]],
) -> None:
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def flood(k: int) -> None:
        client = Client(servers)
        try:
            for n in itertools.count():
                if stop.is_set():
                    return
                body = {"username": usernames[n % len(usernames)], "password": "a-wrong-guess"}
                address = {"X-Forwarded-For": f"172.{16 + k % 16}.{n // 250 % 250}.{n % 250 + 1}"}
                reply = client.request(n, "POST", LOGIN_PATH, body, address)
                with lock:
                    counts[reply.label] += 1
        finally:
            client.close()

    threads = [threading.Thread(target=flood, args=(k,), daemon=True) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(counts))


@contextmanager
def profiling(
    servers: Servers, out_dir: Path | None, seconds: float, name: str, rate: int = 100
) -> Iterator[None]:
    """With --profile: py-spy samples each server while the body runs: collapsed stacks, one per line,
    of the threads holding the GIL (where the servers spend CPU in Python, not where they wait)."""
    if out_dir is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out_dir.mkdir(parents=True, exist_ok=True)
    spies = []
    for port, process in zip(servers.ports, servers.processes, strict=True):
        command = [spy, "record", "--pid", str(process.pid), "--duration", str(max(1, round(seconds)))]
        command += ["--format", "raw", "--gil", "--nonblocking", "--rate", str(rate)]
        command += ["--output", str(out_dir / f"{name}-server-{port}.txt")]
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        yield
    finally:
        for spy_process in spies:
            spy_process.wait()
        print(f"py-spy profiles (collapsed stacks) of the {name} run written to {out_dir}")


def warm(servers: Servers, scans: Sequence[Scan]) -> list[Answer]:
    """Scans that are not counted: first connections, first queries, prepared statements."""
    client = Client(servers)
    answers = []
    try:
        for n, scan in enumerate(scans):
            reply = client.request(n, "POST", scan.path, scan.body, scan.headers)
            if reply.status != 200:
                raise RuntimeError(f"warm-up {scan.path}: {reply.label} {reply.body[:300]!r}")
            answers.append(Answer(scan, reply, 0.0, reply.ms))
    finally:
        client.close()
    return answers


def open_connections(client: Client, servers: Servers) -> None:
    for n in range(len(servers.ports)):
        client.request(n, "GET", "/healthz")


def open_loop(
    name: str, servers: Servers, monitor: Engine, scans: list[Scan], rate: float, senders: int, cap: int
) -> Run:
    """Send scan i at start + i / rate from whichever sender thread is free; latency from that time.

    Each sender takes the next scan, sleeps until its planned time and sends it. Should a scan fall due
    while every sender is waiting for an answer, another sender is started (up to `cap` in all), so that
    slow answers do not hold back the scans planned after them.
    """
    answers: list[Answer | None] = [None] * len(scans)
    ready = threading.Barrier(senders + 1)
    lock = threading.Lock()
    next_index = in_flight = peak = 0
    start = 0.0

    def take() -> int:
        nonlocal next_index
        with lock:
            next_index += 1
            return next_index - 1

    def sender(at_start: bool) -> None:
        nonlocal in_flight, peak
        client = Client(servers)
        try:
            if at_start:
                open_connections(client, servers)
                ready.wait()
            while (i := take()) < len(scans):
                planned = start + i / rate
                if (delay := planned - time.perf_counter()) > 0:
                    time.sleep(delay)
                sent = time.perf_counter()
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                scan = scans[i]
                reply = client.request(i, "POST", scan.path, scan.body, scan.headers)
                done = time.perf_counter()
                with lock:
                    in_flight -= 1
                answers[i] = Answer(scan, reply, (sent - planned) * 1000, (done - planned) * 1000)
        finally:
            client.close()

    def add_sender(at_start: bool) -> None:
        thread = threading.Thread(target=sender, args=(at_start,), daemon=True)
        thread.start()
        threads.append(thread)

    threads: list[threading.Thread] = []
    for _ in range(senders):
        add_sender(True)
    with Meter(servers, monitor) as meter:
        start = time.perf_counter() + 0.1
        ready.wait()
        while next_index < len(scans):
            time.sleep(SENDER_CHECK_S)
            with lock:
                overdue = time.perf_counter() - (start + next_index / rate) > SENDER_CHECK_S
                all_busy = in_flight >= len(threads)
            if overdue and all_busy and len(threads) < cap:
                add_sender(False)
        for thread in threads:
            thread.join()
    done = [a for a in answers if a is not None]
    span = max((i / rate + a.ms / 1000 for i, a in enumerate(answers) if a is not None), default=math.nan)
    return Run(name, done, meter.usage, span, peak_in_flight=peak, senders=len(threads))


def closed_loop(
    servers: Servers,
    monitor: Engine,
    scans: list[Scan],
    concurrency: int,
    seconds: float,
    *,
    once: bool = False,
) -> Run:
    """`concurrency` clients, each sending its next scan as soon as the last one is answered; with
    `once`, each scan is sent once at most (an admitted ticket admitted again is another kind of scan)."""
    answers: list[Answer] = []
    next_index = itertools.count()
    ready = threading.Barrier(concurrency + 1)
    deadline = 0.0

    def client_loop() -> None:
        client = Client(servers)
        mine: list[Answer] = []
        try:
            open_connections(client, servers)
            ready.wait()
            while time.perf_counter() < deadline:
                n = next(next_index)
                if once and n >= len(scans):
                    break
                scan = scans[n % len(scans)]
                sent = time.perf_counter()
                reply = client.request(n, "POST", scan.path, scan.body, scan.headers)
                mine.append(Answer(scan, reply, 0.0, (time.perf_counter() - sent) * 1000))
        finally:
            client.close()
            answers.extend(mine)

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    with Meter(servers, monitor) as meter:
        deadline = time.perf_counter() + seconds
        ready.wait()
        for thread in threads:
            thread.join()
    return Run("closed", answers, meter.usage, meter.usage.wall_s, concurrency=concurrency)


# --- measuring CPU ------------------------------------------------------------------------------------


class DatabaseCpu:
    """CPU time of the database's backends serving this database, sampled while a run goes on.

    Backends that connect during the run count from zero; each backend's last sample counts, so work in
    the last SAMPLE_EVERY_S of a backend that disconnects before the end is missed.
    """

    def __init__(self, monitor: Engine) -> None:
        self._monitor = monitor
        self._first: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def start(self) -> None:
        self._first = self._sample()
        self._last = dict(self._first)
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._last.update(self._sample())
        ticks = sum(last - self._first.get(pid, 0) for pid, last in self._last.items())
        return ticks / os.sysconf("SC_CLK_TCK") if self._last else math.nan

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self._last.update(self._sample())

    def _sample(self) -> dict[int, int]:
        query = text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with self._monitor.connect() as connection:
            pids = list(connection.execute(query).scalars())
        ticks = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone already, or the database runs elsewhere
                continue
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
        return ticks


class Meter:
    """Wall time and CPU (servers, database, this client, the whole machine) of what runs inside it."""

    def __init__(self, servers: Servers | None, monitor: Engine, *, children: bool = False) -> None:
        self._servers = servers
        self._database = DatabaseCpu(monitor)
        self._children = children  # count the CPU of child processes (pgbench) as the client's
        self.usage = Usage(math.nan, math.nan, math.nan, math.nan, math.nan)

    def _client_cpu(self) -> float:
        if self._children:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime
        return time.process_time()

    def __enter__(self) -> Meter:
        self._database.start()
        self._wall, self._machine = time.perf_counter(), machine_cpu_ticks()
        self._server = self._servers.cpu_seconds() if self._servers else 0.0
        self._client = self._client_cpu()
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.perf_counter() - self._wall
        machine = busy_percent(self._machine, machine_cpu_ticks())
        server = self._servers.cpu_seconds() - self._server if self._servers else 0.0
        client = self._client_cpu() - self._client
        self.usage = Usage(wall, server, self._database.stop(), client, machine)


# --- the database's own ceiling -----------------------------------------------------------------------

# pgbench runs the SQL the servers send for one scan, captured from a real one (captured_sql.py), with
# -M prepared because psycopg prepares statements it has run five times. The pool's row is read in a
# statement of its own: one primary-key probe more than the servers make.


def pgbench_scripts(
    database_url: str, monitor: Engine, seeded: Seeded, args: argparse.Namespace
) -> dict[str, tuple[str, int]]:
    """pgbench's script for each closed-loop run, from the SQL of one real scan of its kind, and the
    transactions each client runs of it (0: for --seconds)."""
    context = bench_context(database_url)
    keys = context.keys
    try:
        with context.sessions() as session:
            with session.begin():
                lane = session.scalars(select(Operator).where(Operator.username == seeded.lanes[0][0])).one()
                operator = StaffMember.of(lane)
            venue = context.venue(session, seeded.orq)

        def captured(code: str, action: Action) -> tuple[list[captured_sql.Sent], captured_sql.Scanned]:
            nonce = f"pgbench-capture-{action.value}"
            with context.sessions() as session, captured_sql.capturing(context.engine) as sent:
                door_service.scan(
                    session,
                    code=code,
                    operator=operator,
                    action=action,
                    nonce=nonce,
                    device_id=PGBENCH_DEVICE,
                    venue=venue,
                    keys=keys,
                    now=context.clock.now(),
                    started=time.perf_counter(),
                )
            ((code_hash, ticket_id, reservation_id),) = tickets_and_reservations(
                monitor, [keys.lookup_hash(code)]
            )
            return sent, captured_sql.Scanned(code_hash, ticket_id, reservation_id, nonce)

        # The last tickets made: their ids are above every organization's, operator's and slot's, the
        # other numbers the door's statements carry, so a ticket id found in them is the ticket's.
        validate_sent, validate_scanned = captured(seeded.validate_pool[-1], Action.VALIDATE)
        admit_sent, admit_scanned = captured(seeded.spare[0], Action.ADMIT)
        other_ids = max_other_id(monitor)
        if min(validate_scanned.ticket_id, admit_scanned.ticket_id) <= other_ids:
            raise RuntimeError(f"a captured ticket's id is not above {other_ids}: it cannot be told apart")
        ((_, template, _),) = tickets_and_reservations(monitor, [keys.lookup_hash(seeded.spare[1])])
        validate_rows = tickets_and_reservations(monitor, [keys.lookup_hash(c) for c in seeded.validate_pool])
        admits = math.ceil(PGBENCH_ADMITS_PER_S * args.seconds)
        with monitor.begin() as connection:
            captured_sql.make_pool(connection, "bench_validate_pool", validate_rows)
            clones = captured_sql.clone_reserved(connection, template, admits)
            captured_sql.make_pool(connection, "bench_admit_pool", clones)
            literal = captured_sql.literal_writer(connection)
            validate = captured_sql.pgbench_script(
                validate_sent,
                validate_scanned,
                pick=captured_sql.pool_pick("bench_validate_pool", random_from=len(validate_rows)),
                literal=literal,
            )
            admit = captured_sql.pgbench_script(
                admit_sent,
                admit_scanned,
                pick=captured_sql.pool_pick("bench_admit_pool", random_from=None),
                literal=literal,
            )
    finally:
        context.engine.dispose()
    vacuum_analyze(database_url)  # the clones more than doubled the tickets
    return {"closed": (validate, 0), "closed_admit": (admit, admits // args.concurrency)}


def max_other_id(monitor: Engine) -> int:
    with monitor.connect() as connection:
        return max(
            connection.execute(select(func.max(table.id))).scalar_one() or 0
            for table in (Organization, Operator, ReservationSlot)
        )


def tickets_and_reservations(monitor: Engine, code_hashes: list[str]) -> list[tuple[str, int, str]]:
    """(code hash, ticket id, live reservation id) of each code hash, in the order given."""
    with monitor.connect() as connection:
        found = {
            code_hash: (ticket_id, reservation_id)
            for code_hash, ticket_id, reservation_id in connection.execute(
                select(Ticket.code_hash, Ticket.id, Reservation.id)
                .join(Reservation, live_reservation_of(Ticket.id))
                .where(Ticket.code_hash.in_(code_hashes))
            )
        }
    return [(code_hash, *found[code_hash]) for code_hash in code_hashes]


def run_pgbench(
    name: str,
    script: str,
    transactions: int,
    database_url: str,
    monitor: Engine,
    args: argparse.Namespace,
    tmp: Path,
) -> Pgbench | None:
    """pgbench with `script`, as many clients as the closed loop: for as long, or `transactions` each."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        print("\npgbench not found (Debian: apt-get install postgresql-client): no database ceiling")
        return None
    path = tmp / f"{name}.sql"
    path.write_text(script)
    url = make_url(database_url)
    clients = args.concurrency
    command = [pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients), "-f", str(path)]
    command += ["-t", str(transactions)] if transactions else ["-T", str(max(1, round(args.seconds)))]
    command += ["-h", url.host or HOST, "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    command.append(url.database or "postgres")
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    print(f"pgbench: the SQL of the {RUN_TITLES[name]} run, {clients} clients ...")
    with Meter(None, monitor, children=True) as meter:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    failed = re.search(r"number of failed transactions: (.*)", output)
    if done.returncode != 0 or tps is None or latency is None:
        print(f"pgbench failed ({done.returncode}):\n{output[-2000:]}\nits script:\n{script}")
        return None
    return Pgbench(
        tps=float(tps.group(1)),
        latency_ms=float(latency.group(1)),
        failed=failed.group(1).strip() if failed else "?",
        usage=meter.usage,
        clients=clients,
        threads=clients,
        output=output,
    )


# --- after the run ------------------------------------------------------------------------------------


def check_database(monitor: Engine, runs: dict[str, Run], sent: int, errors: int) -> Checks:
    """What the database holds after the run, against what the servers answered."""
    keys = CodeKeys(SECRET_KEY)
    admitted_codes = {
        str(a.scan.body["code"])
        for a in runs["admit"].warmup + runs["admit"].answers + runs["closed_admit"].answers
        if a.reply.status == 200 and a.reply.json().get("verified_now") is True
    }
    with monitor.connect() as connection:
        ids = {code_hash: id_ for code_hash, id_ in connection.execute(select(Ticket.code_hash, Ticket.id))}
        admitted = {ids[keys.lookup_hash(code)] for code in admitted_codes}
        verifications = (
            select(TicketTransition.ticket_id, func.count())
            .where(TicketTransition.to_status == TicketStatus.VERIFIED)
            .group_by(TicketTransition.ticket_id)
        )
        per_ticket = {ticket_id: n for ticket_id, n in connection.execute(verifications)}
        servers_events = ScanEvent.device_id.is_distinct_from(PGBENCH_DEVICE)
        count = select(func.count()).select_from(ScanEvent).where(servers_events)
        events = connection.execute(count).scalar_one()
        verified = connection.execute(count.where(ScanEvent.verified.is_(True))).scalar_one()
    return Checks(
        admitted=len(admitted),
        admitted_once=sum(1 for t in admitted if per_ticket.get(t) == 1),
        verified_more_than_once=sum(1 for n in per_ticket.values() if n > 1),
        verified_not_admitted=sum(1 for t in per_ticket if t not in admitted),
        scan_events=events,
        verified_events=verified,
        scans_sent=sent,
        server_log_errors=errors,
    )


def report(
    runs: dict[str, Run], pgbench: dict[str, Pgbench | None], checks: Checks, args: argparse.Namespace
) -> None:
    planned = round(args.rate * args.seconds)
    rows = []
    for name in ("validate", "admit"):
        run = runs[name]
        sends = sorted(a.lag_ms for a in run.answers)
        rows.append(
            [
                f"{name}: from planned send time",
                *latency_row("", [a.ms for a in run.answers])[1:],
                f"{percentile(sends, 99):.1f} / {max(sends, default=math.nan):.1f}",
                run.peak_in_flight,
                run.senders,
            ]
        )
        rows.append(
            [f"{name}: from actual send (service)", *latency_row("", service_ms(run))[1:], "", "", ""]
        )
    print_table(
        f"Open loop: {args.rate:.0f} scans/s planned for {args.seconds:.0f} s ({planned} scans) from "
        f"{args.scanners} lanes over {args.servers} servers, after {WARMUP_PER_SERVER} warm-up scans "
        f"per server; sender threads {args.senders} at first, more when all wait, up to {args.max_senders}",
        [*LATENCY_HEADERS, "send lag p99 / max ms", "peak in flight", "senders"],
        rows,
    )
    for name in ("validate", "admit"):
        run = runs[name]
        if run.senders > args.senders:
            print(
                f"{name}: the servers fell behind the planned rate: up to {run.peak_in_flight} scans waited "
                f"for answers at once{' (the cap)' if run.senders >= args.max_senders else ''}; the latency "
                "from the planned send time counts that wait"
            )
    print_table(
        "Open loop answers",
        ["run", "answer", "count"],
        [[name, label, count] for name in ("validate", "admit") for label, count in labels(runs[name])],
        left=2,
    )

    if "flood" in runs:
        flood = runs["flood"]
        door_p95 = percentile([a.ms for a in flood.answers], 95)
        print_table(
            f"Door during a login flood ({args.login_flood} clients, wrong passwords, a new address each): "
            f"validate at {args.rate:.0f} scans/s; p95 target {VALIDATE_P95_MS:.0f} ms: "
            f"{verdict(door_p95 < VALIDATE_P95_MS)}",
            LATENCY_HEADERS,
            [latency_row("validate, from planned send", [a.ms for a in flood.answers])],
        )
        print_table(
            f"Login flood answers ({sum(flood.logins.values()) / flood.span_s:.0f} logins/s answered)",
            ["answer", "count"],
            sorted(flood.logins.items()),
            left=1,
        )

    closed_runs = {name: runs[name] for name in ("closed", "closed_admit")}
    rates = {name: len(run.answers) / run.usage.wall_s for name, run in closed_runs.items()}
    print_table(
        f"Closed loop: {args.concurrency} clients back to back, for up to {args.seconds:.0f} s each",
        [*LATENCY_HEADERS, "scans/s"],
        [
            [
                *latency_row(
                    f"{RUN_TITLES[name]} (HTTP, {args.servers} servers)", [a.ms for a in run.answers]
                ),
                f"{rates[name]:.0f}",
            ]
            for name, run in closed_runs.items()
        ],
    )
    print_table(
        "Closed loop answers",
        ["run", "answer", "count"],
        [
            [RUN_TITLES[name], label, count]
            for name, run in closed_runs.items()
            for label, count in labels(run)
        ],
        left=2,
    )

    cost_rows = [cost_row(f"open loop {n}", runs[n]) for n in ("validate", "admit")]
    for name, run in closed_runs.items():
        cost_rows.append(cost_row(f"closed loop {RUN_TITLES[name]}, {run.concurrency} clients", run))
        bench = pgbench.get(name)
        if bench is not None:
            u = bench.usage
            per = 1000 / (bench.tps * u.wall_s) if bench.tps > 0 else math.nan
            cost_rows.append(
                [
                    f"pgbench, same SQL, -c {bench.clients} -j {bench.threads}",
                    f"{bench.tps:.0f}",
                    f"{bench.latency_ms:.2f}",
                    "-",
                    f"{u.database_cpu_s * per:.2f}",
                    f"{u.client_cpu_s * per:.2f}",
                    *u.cost(),
                ]
            )
    print_table(
        "Where the time goes: CPU ms per scan (database = the backends serving this database), and "
        f"cores in use meanwhile, of {os.cpu_count()}: ours (servers, database, clients) and others'",
        COST_HEADERS,
        cost_rows,
    )
    for name, bench in pgbench.items():
        if bench is not None and bench.tps > 0:
            print(
                f"pgbench, {RUN_TITLES[name]}: tps {bench.tps:.1f}, "
                f"latency average {bench.latency_ms:.3f} ms, "
                f"failed transactions {bench.failed}; the servers sustain {rates[name]:.0f} scans/s, "
                f"{100 * rates[name] / bench.tps:.0f} % of the database's ceiling for the same queries"
            )

    http_errors = sum(1 for run in runs.values() for a in run.answers if a.reply.status != 200)
    print_table(
        "From the database after the run",
        ["check", "figure", "want", "result"],
        [
            [
                "admitted tickets (warm-ups incl.) with one VERIFIED transition",
                f"{checks.admitted_once} of {checks.admitted}",
                "all",
                verdict(checks.admitted_once == checks.admitted > 0),
            ],
            [
                "tickets with more than one VERIFIED transition",
                checks.verified_more_than_once,
                0,
                verdict(checks.verified_more_than_once == 0),
            ],
            [
                "VERIFIED transitions on tickets not admitted",
                checks.verified_not_admitted,
                0,
                verdict(checks.verified_not_admitted == 0),
            ],
            [
                "scan events = scans sent (warm-ups included)",
                f"{checks.scan_events} = {checks.scans_sent}",
                "equal",
                verdict(checks.scan_events == checks.scans_sent),
            ],
            [
                "scan events marked verified = admitted (warm-ups incl.)",
                f"{checks.verified_events} = {checks.admitted}",
                "equal",
                verdict(checks.verified_events == checks.admitted),
            ],
            ["HTTP errors (not 200, or no answer)", http_errors, 0, verdict(http_errors == 0)],
            [
                "errors in the server logs",
                checks.server_log_errors,
                0,
                verdict(checks.server_log_errors == 0),
            ],
        ],
    )

    validate_p95 = percentile([a.ms for a in runs["validate"].answers], 95)
    admit_p95 = percentile([a.ms for a in runs["admit"].answers], 95)
    print_table(
        "Targets (open loop: latency from the planned send time; closed loop: against the database)",
        ["", "figure", "target", "result"],
        [
            [
                f"validate p95 at {args.rate:.0f}/s",
                f"{validate_p95:.1f} ms",
                f"< {VALIDATE_P95_MS:.0f} ms",
                verdict(validate_p95 < VALIDATE_P95_MS),
            ],
            [
                f"admit p95 at {args.rate:.0f}/s",
                f"{admit_p95:.1f} ms",
                f"< {ADMIT_P95_MS:.0f} ms",
                verdict(admit_p95 < ADMIT_P95_MS),
            ],
            [
                "validate: achieved rate",
                f"{achieved(runs['validate']):.1f} /s",
                f"{args.rate:.0f} /s",
                "info",
            ],
            ["admit: achieved rate", f"{achieved(runs['admit']):.1f} /s", f"{args.rate:.0f} /s", "info"],
            *ceiling_rows(runs, pgbench, rates),
        ],
    )


def ceiling_rows(
    runs: dict[str, Run], pgbench: dict[str, Pgbench | None], rates: dict[str, float]
) -> list[list[str]]:
    """The closed loops against the database's ceiling, and the servers' CPU per scan there."""
    rows = []
    for name, least in (("closed", CLOSED_VALIDATE_SHARE), ("closed_admit", CLOSED_ADMIT_SHARE)):
        bench = pgbench.get(name)
        if bench is not None and bench.tps > 0:
            share = 100 * rates[name] / bench.tps
            rows.append(
                [
                    f"closed {RUN_TITLES[name]}: share of pgbench",
                    f"{share:.0f} %",
                    f">= {least} %",
                    verdict(share >= least),
                ]
            )
        run = runs[name]
        cpu_ms = run.usage.server_cpu_s * 1000 / max(1, len(run.answers))
        most = SERVER_CPU_MS[name]
        rows.append(
            [
                f"closed {RUN_TITLES[name]}: server CPU per scan",
                f"{cpu_ms:.2f} ms",
                f"<= {most} ms",
                verdict(cpu_ms <= most),
            ]
        )
    return rows


def service_ms(run: Run) -> list[float]:
    return [a.ms - a.lag_ms for a in run.answers]


def achieved(run: Run) -> float:
    """Scans answered per second, from the first planned send to the last answer."""
    return len(run.answers) / run.span_s if run.span_s > 0 else math.nan


def labels(run: Run) -> list[tuple[str, int]]:
    return sorted(Counter(a.label for a in run.answers).items(), key=lambda item: (-item[1], item[0]))


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def cost_row(label: str, run: Run) -> list[str]:
    u, count = run.usage, max(1, len(run.answers))

    def per(seconds: float) -> str:
        return f"{seconds * 1000 / count:.2f}"

    return [
        label,
        f"{len(run.answers) / u.wall_s:.0f}",
        f"{mean([a.ms for a in run.answers]):.2f}",
        per(u.server_cpu_s),
        per(u.database_cpu_s),
        per(u.client_cpu_s),
        *u.cost(),
    ]


if __name__ == "__main__":
    main()
