"""Staff reads against the size of the history: the same reads at S, M and L, on PostgreSQL.

    .venv/bin/python -m bench.scale                 # S, M, L: 10k / 100k / 1M tickets, 10k / 300k / 3M scans
    .venv/bin/python -m bench.scale --sizes S,M     # only some of them
    .venv/bin/python -m bench.scale --quick         # a tenth of each, a couple of minutes in all
    .venv/bin/python -m bench.scale --explain       # and the query plans of the reads at each size

Each size gets its own PostgreSQL database (dropped at the end), seeded in bulk with INSERT ... SELECT
over generate_series, row for row as the services store them: orders and tickets with their ISSUE
transitions, eight slots a day from the first scan's day to 90 days ahead, and the door's scans going
back from the pinned now at the same pace at every size (DAY_SCANS a day), so a larger size is a longer
history, not a busier day. Every GREEN scan verified its ticket (and wrote its VERIFY transition); the
scans older than the answer retention window keep only their compact row, as the sweeper leaves them.

Then one server answers each staff read REQUESTS times, one at a time: the day's live stats, the scan
history's first page, a page 30 days deep (or as deep as the history goes) reached with its cursor, the
first page of RED scans, and the public 90-day calendar. The table shows p50 / p95 per read and size; the
run fails (exit 1) when a read's p50 at the largest size is more than twice its p50 at the smallest.
Not part of the test suite: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

from admit.domain.roles import Role
from admit.services.operators import create_operator
from admit.services.scans import HistoryFilter, day_stats, make_cursor, scan_history
from admit.settings import Settings
from bench._common import (
    DEFAULT_PG_URL,
    FROZEN_NOW,
    TIMEZONE,
    Client,
    bench_context,
    create_museum,
    machine_facts,
    percentile,
    print_table,
    running_servers,
    seeded_database,
    server_env,
)


@dataclass(frozen=True)
class Size:
    name: str
    tickets: int
    scans: int


SIZES = {
    "S": Size("S", 10_000, 10_000),
    "M": Size("M", 100_000, 300_000),
    "L": Size("L", 1_000_000, 3_000_000),
}
QUICK = {"S": Size("S", 1_000, 3_000), "M": Size("M", 10_000, 30_000), "L": Size("L", 100_000, 300_000)}
DAY_SCANS = 3_000  # the door's pace at every size: a larger size is more days of it
DEEP_DAYS = 30
REQUESTS = 60
WARM_UP = 5
GROWTH_LIMIT = 2.0
TRENDS = "trends page's numbers, 28 days"
TRENDS_P95_MS = 300.0  # at the largest size
PASSWORD = "bench-manager-password"
ORDER_SIZE = 100
SLOT_HOURS = range(9, 17)
FUTURE_DAYS = 90
ANSWER = "x" * 600  # a stored answer's size; its content is never read by these reads


@dataclass(frozen=True)
class Seeded:
    orq: int
    username: str
    deep_cursor: str
    history_days: float
    scan_mb: float
    transition_rows: int


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sizes = [(QUICK if args.quick else SIZES)[name] for name in args.sizes]
    results: dict[str, dict[str, list[float]]] = {}
    facts: list[list[str]] = []
    for size in sizes:
        print(f"size {size.name}: {size.tickets:,} tickets, {size.scans:,} scans: seeding ...", flush=True)
        with (
            seeded_database(args.pg_url, lambda url, size=size: seed(url, size)) as (
                database_url,
                seeded,
                took,
            ),
            tempfile.TemporaryDirectory() as tmp,
        ):
            print(
                f"  seeded in {took:.0f} s ({seeded.history_days:.0f} days of scans, scan_events"
                f" {seeded.scan_mb:,.0f} MB, {seeded.transition_rows:,} transitions); timing reads ...",
                flush=True,
            )
            if args.explain:
                explain_reads(database_url, seeded)
            log_dir = Path(tmp)
            with running_servers(1, server_env(database_url, log_dir), log_dir) as servers:
                if not facts:
                    facts = machine_facts(database_url, 1)
                client = Client(servers)
                results[size.name] = time_reads(client, seeded, args.requests)
                client.close()
                if servers.logged_errors():
                    sys.exit(f"the server logged {servers.logged_errors()} errors at size {size.name}")
    print_table("Machine", ["fact", "value"], facts, left=2)
    sys.exit(report(sizes, results))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L", help="which sizes, e.g. S,M (default S,M,L)")
    parser.add_argument("--quick", action="store_true", help="a tenth of each size")
    parser.add_argument("--requests", type=int, default=REQUESTS, help=f"per read and size ({REQUESTS})")
    parser.add_argument("--explain", action="store_true", help="print the reads' query plans per size")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server to make the databases on")
    args = parser.parse_args()
    args.sizes = [name.strip().upper() for name in args.sizes.split(",") if name.strip()]
    if not args.sizes or any(name not in SIZES for name in args.sizes):
        parser.error("--sizes takes S, M and L, comma-separated")
    if args.requests < 10:
        parser.error("--requests must be at least 10")
    return args


# --- seeding ------------------------------------------------------------------------------------------


def seed(database_url: str, size: Size) -> Seeded:
    """One organization with `size` tickets and scans, written the way the services write them."""
    context = bench_context(database_url)
    try:
        now = context.clock.now()
        with context.sessions() as session:
            org, admin = create_museum(session, context)
            manager = create_operator(
                session,
                orq=org.id,
                username="bench-manager",
                name="Bench Manager",
                role=Role.MANAGER,
                password=PASSWORD,
                pin=None,
                now=now,
            )
            door = create_operator(
                session,
                orq=org.id,
                username="bench-door",
                name="Bench Door",
                role=Role.OPERATOR,
                password=None,
                pin="246810",
                now=now,
            )
            orq, admin_id, manager_name, door_id = org.id, admin.id, manager.username, door.id
    finally:
        context.engine.dispose()
    history_days = size.scans / DAY_SCANS
    retention = timedelta(hours=Settings.model_fields["scan_answer_retention_hours"].default)
    values: dict[str, Any] = {
        "orq": orq,
        "admin": f"operator:{admin_id}",
        "door": door_id,
        "tickets": size.tickets,
        "scans": size.scans,
        "order_size": ORDER_SIZE,
        "now": now,
        "issued": now - timedelta(days=history_days + 1),
        "kept_after": now - retention,
        "first_day": (now - timedelta(days=history_days + 1)).date(),
        "last_day": (now + timedelta(days=FUTURE_DAYS)).date(),
        "first_hour": SLOT_HOURS.start,
        "last_hour": SLOT_HOURS.stop - 1,
        "seconds_apart": 86_400 / DAY_SCANS,
        "zone": TIMEZONE,
        "answer": ANSWER,
    }
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            for statement in SEED:
                connection.execute(text(statement), values)
        # The statistics and visibility maps come after the seeding, for every benchmark alike
        # (_common.seeded_database).
        with engine.connect() as connection:
            deep = connection.execute(
                text(
                    "SELECT scanned_at, id FROM scan_events WHERE orq = :orq AND scanned_at <= :at"
                    " ORDER BY scanned_at DESC, id DESC LIMIT 1"
                ),
                {"orq": orq, "at": now - timedelta(days=min(DEEP_DAYS, history_days * 0.9))},
            ).one()
            scan_mb = connection.execute(
                text("SELECT pg_total_relation_size('scan_events') / 1048576.0")
            ).scalar_one()
            transitions = connection.execute(text("SELECT count(*) FROM ticket_transitions")).scalar_one()
    finally:
        engine.dispose()
    return Seeded(
        orq=orq,
        username=manager_name,
        deep_cursor=make_cursor(deep.scanned_at, deep.id),
        history_days=history_days,
        scan_mb=float(scan_mb),
        transition_rows=int(transitions),
    )


# Scan n happens n * seconds_apart before now; one in twenty is an unknown code (RED), one in twenty a
# second scan of a verified ticket (YELLOW ALREADY_VERIFIED), the rest GREEN and verified, each in the
# slot of its day and hour (the first or last slot outside opening hours).
SEED = [
    """
    INSERT INTO orders (id, orq, quantity, activation_mode, paid, created_at, paid_at, link_token)
    SELECT 'bench' || lpad(k::text, 12, '0'), :orq, :order_size, 'immediate', true, :issued, :issued,
           md5('bench-order-' || k)
    FROM generate_series(0, (:tickets - 1) / :order_size) AS k
    """,
    """
    INSERT INTO tickets (orq, order_id, code_hash, code_suffix, code_sealed, status, activation_mode,
                         activated_at, created_at, updated_at)
    SELECT :orq, 'bench' || lpad((i / :order_size)::text, 12, '0'), md5('code' || i) || md5('hash' || i),
           upper(substr(md5('code' || i), 1, 4)), 'sealed-' || i, 'ACTIVATED', 'immediate',
           :issued, :issued, :issued
    FROM generate_series(0, :tickets - 1) AS i
    """,
    """
    INSERT INTO ticket_transitions (ticket_id, orq, event, from_status, to_status, actor, at)
    SELECT id, orq, 'issue', NULL, 'ACTIVATED', :admin, created_at FROM tickets WHERE orq = :orq
    """,
    """
    INSERT INTO reservation_slots (orq, date, start_time, end_time, total_capacity, booked_count, status,
                                   created_at, updated_at)
    SELECT :orq, day::date, make_time(hour, 0, 0), make_time(hour + 1, 0, 0), 500,
           (hour * 37 + extract(doy FROM day)::int * 11) % 500, 'ACTIVE', :issued, :issued
    FROM generate_series(CAST(:first_day AS date), CAST(:last_day AS date), interval '1 day') AS day,
         generate_series(CAST(:first_hour AS int), CAST(:last_hour AS int)) AS hour
    """,
    """
    WITH scans AS (
        SELECT n, CAST(:now AS timestamptz) - make_interval(secs => n * :seconds_apart) AS at,
               (SELECT min(id) FROM tickets WHERE orq = :orq) + n % :tickets AS ticket_id
        FROM generate_series(0, :scans - 1) AS n
    ), placed AS (
        SELECT scans.*, (at AT TIME ZONE :zone)::date AS local_day,
               make_time(greatest(:first_hour, least(:last_hour,
                   extract(hour FROM at AT TIME ZONE :zone)::int)), 0, 0) AS local_start
        FROM scans
    )
    INSERT INTO scan_events (orq, operator_id, device_id, nonce, action, code_hash, code_suffix, ticket_id,
                             result, reason, verified, slot_id, reservation_date, reservation_start,
                             latency_ms, scanned_at, response, offline, conflict)
    SELECT :orq, :door, 'lane-' || n % 4, md5('nonce' || n), 'admit',
           CASE WHEN n % 20 = 0 THEN NULL ELSE md5('code' || ticket_id) || md5('hash' || ticket_id) END,
           upper(substr(md5('code' || ticket_id), 1, 4)),
           CASE WHEN n % 20 = 0 THEN NULL ELSE ticket_id END,
           CASE n % 20 WHEN 0 THEN 'RED' WHEN 1 THEN 'YELLOW' ELSE 'GREEN' END,
           CASE n % 20 WHEN 0 THEN 'INVALID_TICKET' WHEN 1 THEN 'ALREADY_VERIFIED' ELSE 'VALID' END,
           n % 20 > 1,
           CASE WHEN n % 20 = 0 THEN NULL ELSE slot.id END,
           CASE WHEN n % 20 = 0 THEN NULL ELSE local_day END,
           CASE WHEN n % 20 = 0 THEN NULL ELSE local_start END,
           2.5, at, CASE WHEN at > :kept_after THEN :answer END, false, false
    FROM placed
    JOIN reservation_slots AS slot
      ON slot.orq = :orq AND slot.date = placed.local_day AND slot.start_time = placed.local_start
    """,
    """
    INSERT INTO ticket_transitions (ticket_id, orq, event, from_status, to_status, actor, at)
    SELECT ticket_id, orq, 'verify', 'ACTIVATED', 'VERIFIED', 'operator:' || operator_id, scanned_at
    FROM scan_events WHERE orq = :orq AND verified
    """,
]


# --- the reads ----------------------------------------------------------------------------------------


def time_reads(client: Client, seeded: Seeded, requests: int) -> dict[str, list[float]]:
    """Each staff read, `requests` times one after the other after a warm-up: milliseconds per answer."""
    login = client.request(
        0, "POST", "/api/operator/login", {"username": seeded.username, "password": PASSWORD}
    )
    if login.status != 200:
        sys.exit(f"the manager could not log in: {login.label} {login.body[:200]!r}")
    staff = {"Authorization": f"Bearer {login.json()['access_token']}"}
    today = FROZEN_NOW[:10]
    reads: dict[str, tuple[str, dict[str, str] | None]] = {
        "stats (today)": ("/api/operator/stats", staff),
        "scan history, first page": ("/api/operators/scan-history", staff),
        f"scan history, {DEEP_DAYS} days deep": (
            f"/api/operators/scan-history?cursor={seeded.deep_cursor}",
            staff,
        ),
        "scan history, RED only": ("/api/operators/scan-history?result=RED", staff),
        "calendar, 90 days": (f"/api/reservation-slots/available?orq={seeded.orq}", None),
        "trends page's numbers, last day": (f"/api/reports/numbers?from={today}&to={today}", staff),
        TRENDS: ("/api/reports/numbers", staff),
    }
    timings: dict[str, list[float]] = {}
    for name, (path, headers) in reads.items():
        samples = []
        for n in range(WARM_UP + requests):
            reply = client.request(n, "GET", path, headers=headers)
            if reply.status != 200:
                sys.exit(f"{name}: {reply.label} {reply.body[:200]!r}")
            if n >= WARM_UP:
                samples.append(reply.ms)
        timings[name] = samples
        time.sleep(0.05)
    return timings


def explain_reads(database_url: str, seeded: Seeded) -> None:
    """The plans PostgreSQL runs for the stats and history reads: scans, index names, and time."""
    context = bench_context(database_url)
    statements: list[tuple[str, Any]] = []

    @event.listens_for(context.engine, "before_cursor_execute")
    def _capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if "scan_events" in statement or "ticket_transitions" in statement:
            statements.append((statement, parameters))

    try:
        with context.sessions() as session:
            day_stats(session, orq=seeded.orq, day=None, now=context.clock.now())
            scan_history(
                session,
                orq=seeded.orq,
                timezone=TIMEZONE,
                where=HistoryFilter(),
                limit=50,
                cursor=seeded.deep_cursor,
            )
        event.remove(context.engine, "before_cursor_execute", _capture)
        with context.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None
            for statement, parameters in statements:
                with raw.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = [row[0] for row in cursor.fetchall()]
                print("  " + " ".join(statement.split())[:100] + " ...")
                for line in plan:
                    if "Scan" in line or "Execution Time" in line or "Buffers" in line:
                        print("      " + line.strip())
    finally:
        context.engine.dispose()


def report(sizes: list[Size], results: dict[str, dict[str, list[float]]]) -> int:
    """The read-by-size table; 1 when a read's p50 grew more than GROWTH_LIMIT from smallest to largest."""
    names = list(next(iter(results.values())))
    headers = ["read", *(f"{s.name} p50 / p95 ms" for s in sizes), "growth p50"]
    rows, grown = [], []
    for name in names:
        p50s = [percentile(results[s.name][name], 50) for s in sizes]
        cells = [
            f"{percentile(results[s.name][name], 50):.1f} / {percentile(results[s.name][name], 95):.1f}"
            for s in sizes
        ]
        growth = p50s[-1] / p50s[0] if len(sizes) > 1 else 1.0
        if name == TRENDS:  # the smaller sizes hold fewer than 28 days: more of its range is empty
            rows.append([name, *cells, "(not compared)"])
            continue
        if growth > GROWTH_LIMIT:
            grown.append(f"{name}: {growth:.1f}x")
        rows.append([name, *cells, f"{growth:.2f}x"])
    title = ", ".join(f"{s.name} = {s.tickets:,} tickets / {s.scans:,} scans" for s in sizes)
    print_table(f"Staff reads by size ({title}), 1 server, one request at a time", headers, rows)
    trends = percentile(results[sizes[-1].name][TRENDS], 95)
    met = "met" if trends < TRENDS_P95_MS else "MISSED"
    print(f"\n{TRENDS} at {sizes[-1].name}: p95 {trends:.1f} ms (target < {TRENDS_P95_MS:.0f} ms: {met})")
    if grown:
        span = f"from {sizes[0].name} to {sizes[-1].name}"
        print(f"\nFAIL: staff reads grew more than {GROWTH_LIMIT:.0f}x {span}:")
        for line in grown:
            print(f"  {line}")
        return 1
    print(
        f"\nPASS: no staff read grew more than {GROWTH_LIMIT:.0f}x from {sizes[0].name} to {sizes[-1].name}"
    )
    return 0


if __name__ == "__main__":
    main()
