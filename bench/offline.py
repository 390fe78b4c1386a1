"""Offline bundle benchmark: a full bundle of 100,000 tickets and a delta after a busy minute, on PostgreSQL.

    .venv/bin/python -m bench.offline            # 100,000 tickets, about a minute and a half
    .venv/bin/python -m bench.offline --quick    # 20,000 tickets

It makes its own PostgreSQL database (dropped at the end) and seeds one organization with tickets of
every kind (most reserved for today, some verified already, some for another day, some not yet
reserved, a few voided or expired), written in bulk with the same keys and seals the services use.
Then it measures:

- the full bundle built in this process (the service call: read, unseal, hash, write, sign), its
  size as JSON and gzipped, and the same through HTTP from a real server;
- one busy minute at the door and the desk through the services (verifications, new reservations,
  moves, cancellations, voids), then the delta that brings a device up to date after it, again both
  in this process and through HTTP.

Targets: a full bundle in < 1.5 s and < 4 MiB gzipped; a delta in < 50 ms. Not part of the test
suite: timings depend on the machine, correctness is asserted in tests/.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update

from admit.api.offline import GZIP_LEVEL
from admit.clock import FrozenClock
from admit.context import AppContext
from admit.db.models import Order, Reservation, ReservationSlot, Ticket, TicketTransition
from admit.domain.lifecycle import ActivationMode, ReservationStatus, TicketEvent, TicketStatus
from admit.domain.roles import Role
from admit.security import codes as ticket_codes
from admit.services import offline_bundle
from admit.services.door import Action, scan
from admit.services.issuance import void_ticket
from admit.services.offline_bundle import build_bundle
from admit.services.operators import StaffMember, create_operator, get_operator
from admit.services.organizations import load_venue
from admit.services.reservations import cancel_reservation, checked_contact, move_reservation, reserve
from admit.services.slots import NewSlot, create_slot
from bench._common import (
    DEFAULT_PG_URL,
    FROZEN_NOW,
    PHONE,
    Client,
    bench_context,
    create_museum,
    load_average,
    machine_facts,
    print_table,
    running_servers,
    seeded_database,
    server_env,
    verdict,
)

FULL_S = 1.5
GZIPPED_MIB = 4.0
DELTA_MS = 50.0
PASSWORD = "bench-operator-password"
BATCH = 5000  # rows per INSERT
SLOT_HOURS = range(10, 18)
LATER_DAYS = 5  # the other day's slots: far enough ahead for moves and cancels (24 h cutoff)
# Of every 100 tickets: how many of each kind.
MIX = {
    "reserved_today": 55,
    "verified": 10,
    "reserved_later": 10,
    "activated": 15,
    "inactive": 4,
    "pending": 2,
    "expired": 2,
    "void": 2,
}
# One busy minute: changes of each kind (the door verifies, the desk and visitors do the rest).
BUSY_MINUTE = {"verify": 250, "reserve": 60, "move": 30, "cancel": 30, "void": 10}
SIZES = {"default": {"tickets": 100_000, "runs": 3}, "quick": {"tickets": 20_000, "runs": 2}}


@dataclass
class Seeded:
    orq: int
    operator_id: int
    username: str
    codes: dict[str, list[str]]  # by kind
    later_reservations: list[tuple[str, int]]  # (reservation id, slot id) of the reserved_later tickets
    later_slots: list[int]


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"admit offline bundle benchmark ({args.tickets:,} tickets)")
    with (
        seeded_database(args.pg_url, lambda url: seed(url, args.tickets)) as (database_url, seeded, seconds),
        tempfile.TemporaryDirectory() as tmp,
    ):
        print(f"seeded in {seconds:.1f} s; starting 1 server")
        log_dir = Path(tmp)
        context = bench_context(database_url)
        try:
            with running_servers(1, server_env(database_url, log_dir), log_dir) as servers:
                print_table("Machine", ["fact", "value"], machine_facts(database_url, 1), left=2)
                client = Client(servers)
                token = log_in(client, seeded.username)
                http_full = [http_get(client, token, {}) for _ in range(args.runs + 1)][1:]
                CPU_MS.clear()
                local_full = [timed(lambda: bundle_here(context, seeded.orq, None)) for _ in range(args.runs)]
                full_cpu_ms = list(CPU_MS)
                rows_ms = [timed(lambda: read_rows(context, seeded.orq))[0] for _ in range(args.runs)]
                body = local_full[-1][1]
                gzip_ms, gzipped = timed(lambda: gzip.compress(body, GZIP_LEVEL, mtime=0))
                http_cursor = json.loads(http_full[-1][1])["cursor"]
                local_cursor = json.loads(body)["cursor"]

                assert isinstance(context.clock, FrozenClock)
                context.clock.advance(timedelta(minutes=1))
                changes_s, changed = timed(lambda: busy_minute(context, seeded))
                deltas = args.runs * 5
                local_delta = [
                    timed(lambda: bundle_here(context, seeded.orq, local_cursor)) for _ in range(deltas)
                ]
                http_delta = [http_get(client, token, {"since": http_cursor}) for _ in range(deltas)]
                client.close()
                errors = servers.logged_errors()
        finally:
            context.engine.dispose()
        report(
            args,
            full_ms=[ms for ms, _ in local_full],
            full_cpu_ms=full_cpu_ms,
            http_full_ms=[ms for ms, _, _ in http_full],
            rows_ms=rows_ms,
            raw=len(body),
            gzipped=len(gzipped),
            gzip_ms=gzip_ms,
            entries=len(json.loads(body)["tickets"]),
            changed=changed,
            changes_s=changes_s / 1000,
            delta_ms=[ms for ms, _ in local_delta],
            http_delta_ms=[ms for ms, _, _ in http_delta],
            delta=json.loads(local_delta[-1][1]),
            errors=errors,
        )
        print(f"\nload average at the end: {load_average()} ({os.cpu_count()} cores)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.offline", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 tickets")
    parser.add_argument("--tickets", type=int, help="tickets of the organization (default 100,000)")
    parser.add_argument("--runs", type=int, help="full bundles built each way (default 3)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server to make the database on")
    args = parser.parse_args()
    for name, value in SIZES["quick" if args.quick else "default"].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.tickets < 1000 or args.runs < 1:
        parser.error("--tickets must be at least 1000 and --runs at least 1")
    return args


# --- seeding ------------------------------------------------------------------------------------------


def seed(database_url: str, count: int) -> Seeded:
    """The organization, an operator, today's and a later day's slots, and `count` tickets in bulk."""
    context = bench_context(database_url)
    now = context.clock.now()
    today = date.fromisoformat(FROZEN_NOW[:10])
    try:
        with context.sessions() as session:
            org, admin = create_museum(session, context)
            operator = create_operator(
                session,
                orq=org.id,
                username="bench-operator",
                name="Bench Operator",
                role=Role.OPERATOR,
                password=PASSWORD,
                pin=None,
                now=now,
            )
        with context.sessions() as session:
            today_slots, later_slots = (
                [
                    create_slot(
                        session,
                        orq=org.id,
                        slot=NewSlot(day, clock_time(hour), clock_time(hour, 59)),
                        capacity=count,
                        now=now,
                    ).id
                    for hour in SLOT_HOURS
                ]
                for day in (today, today + timedelta(days=LATER_DAYS))
            )
        kinds = [kind for kind, share in MIX.items() for _ in range(share)]
        plan = [kinds[i % len(kinds)] for i in range(count)]
        codes: dict[str, list[str]] = {kind: [] for kind in MIX}
        later_reservations = write_tickets(
            context, org.id, operator.id, admin.id, plan, codes, today_slots, later_slots, now
        )
    finally:
        context.engine.dispose()
    return Seeded(org.id, operator.id, "bench-operator", codes, later_reservations, later_slots)


STATUS = {
    "reserved_today": TicketStatus.RESERVED,
    "verified": TicketStatus.VERIFIED,
    "reserved_later": TicketStatus.RESERVED,
    "activated": TicketStatus.ACTIVATED,
    "inactive": TicketStatus.INACTIVE,
    "pending": TicketStatus.PENDING_PAYMENT,
    "expired": TicketStatus.EXPIRED,
    "void": TicketStatus.VOID,
}


def write_tickets(
    context: AppContext,
    orq: int,
    operator_id: int,
    admin_id: int,
    plan: list[str],
    codes: dict[str, list[str]],
    today_slots: list[int],
    later_slots: list[int],
    now: datetime,
) -> list[tuple[str, int]]:
    """Orders, tickets, live reservations and one transition each, in bulk, as the services store them."""
    keys = context.keys
    issued = now - timedelta(days=3)  # long before the bundles: the change feed starts empty
    verified_at = now - timedelta(minutes=40)
    later_reservations: list[tuple[str, int]] = []
    with context.engine.begin() as connection:
        first_id = connection.execute(select(func.coalesce(func.max(Ticket.id), 0))).scalar_one() + 1
        for start in range(0, len(plan), BATCH):
            order_id = secrets.token_hex(16)
            connection.execute(
                insert(Order),
                [
                    {
                        "id": order_id,
                        "orq": orq,
                        "quantity": min(BATCH, len(plan) - start),
                        "activation_mode": ActivationMode.IMMEDIATE,
                        "paid": True,
                        "customer_email": None,
                        "valid_until": None,
                        "created_at": issued,
                        "paid_at": issued,
                        "link_token": secrets.token_urlsafe(16),
                    }
                ],
            )
            tickets, reservations, transitions = [], [], []
            for n, kind in enumerate(plan[start : start + BATCH], start):
                code = ticket_codes.new_code()
                codes[kind].append(code)
                ticket_id = first_id + n
                status = STATUS[kind]
                tickets.append(
                    {
                        "id": ticket_id,
                        "orq": orq,
                        "order_id": order_id,
                        "code_hash": keys.lookup_hash(code),
                        "code_suffix": ticket_codes.suffix(code),
                        "code_sealed": keys.seal(code),
                        "code_sealed_bulk": keys.seal_for_bulk(code),
                        "status": status,
                        "activation_mode": ActivationMode.IMMEDIATE,
                        "activated_at": None if kind in ("inactive", "pending") else issued,
                        "verified_at": verified_at if kind == "verified" else None,
                        "verified_by": operator_id if kind == "verified" else None,
                        "valid_until": None,
                        "customer_email": None,
                        "customer_phone": None,
                        "created_at": issued,
                        "updated_at": issued,
                    }
                )
                transitions.append(
                    {
                        "ticket_id": ticket_id,
                        "orq": orq,
                        "event": TicketEvent.ISSUE,
                        "from_status": None,
                        "to_status": status,
                        "actor": f"operator:{admin_id}",
                        "at": issued,
                    }
                )
                if kind in ("reserved_today", "verified", "reserved_later", "expired"):
                    reservation_id = secrets.token_hex(16)
                    slots = later_slots if kind == "reserved_later" else today_slots
                    if kind == "reserved_later":
                        later_reservations.append((reservation_id, slots[n % len(slots)]))
                    reservations.append(
                        {
                            "id": reservation_id,
                            "party_id": reservation_id,
                            "orq": orq,
                            "ticket_id": ticket_id,
                            "slot_id": slots[n % len(slots)],
                            "customer_email": f"visitor{n}@example.com",
                            "customer_phone": PHONE,
                            "status": {
                                "verified": ReservationStatus.VERIFIED,
                                "expired": ReservationStatus.EXPIRED,
                            }.get(kind, ReservationStatus.RESERVED),
                            "sequence": 0,
                            "reserved_at": issued,
                            "cancelled_at": None,
                            "updated_at": issued,
                        }
                    )
            connection.execute(insert(Ticket), tickets)
            connection.execute(insert(TicketTransition), transitions)
            connection.execute(insert(Reservation), reservations)
        sequence = "pg_get_serial_sequence('tickets', 'id')"
        connection.execute(text(f"SELECT setval({sequence}, max(id)) FROM tickets"))
        live = Reservation.status != ReservationStatus.CANCELLED
        booked = select(func.count()).where(Reservation.slot_id == ReservationSlot.id, live).scalar_subquery()
        connection.execute(update(ReservationSlot).values(booked_count=booked))
    with context.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    return later_reservations


# --- the busy minute ----------------------------------------------------------------------------------


def busy_minute(context: AppContext, seeded: Seeded) -> int:
    """Changes through the services, as a minute of a busy day makes them; returns how many tickets."""
    now = context.clock.now()
    with context.sessions() as session:
        with session.begin():
            row = get_operator(session, seeded.operator_id)
            assert row is not None
            operator = StaffMember.of(row)
        venue = load_venue(session, seeded.orq)
        to_verify = seeded.codes["reserved_today"][: BUSY_MINUTE["verify"]]
        for n, code in enumerate(to_verify):
            outcome = scan(
                session,
                code=code,
                operator=operator,
                action=Action.ADMIT,
                nonce=None,
                device_id=f"lane-{n % 8}",
                venue=venue,
                keys=context.keys,
                now=now,
                started=time.perf_counter(),
            )
            assert outcome.verified_now, outcome.body
        for n, code in enumerate(seeded.codes["activated"][: BUSY_MINUTE["reserve"]]):
            reserve(
                session,
                ticket_codes=[code],
                slot_id=seeded.later_slots[n % len(seeded.later_slots)],
                contact=checked_contact(f"walk-in{n}@example.com", PHONE),
                keys=context.keys,
                now=now,
            )
        moves = seeded.later_reservations[: BUSY_MINUTE["move"]]
        cancels = seeded.later_reservations[BUSY_MINUTE["move"] : BUSY_MINUTE["move"] + BUSY_MINUTE["cancel"]]
        for reservation_id, slot_id in moves:
            later = seeded.later_slots
            next_slot = later[(later.index(slot_id) + 1) % len(later)]
            move_reservation(
                session, reservation_id=reservation_id, slot_id=next_slot, keys=context.keys, now=now
            )
        for reservation_id, _ in cancels:
            cancel_reservation(session, reservation_id=reservation_id, keys=context.keys, now=now)
        for code in seeded.codes["inactive"][: BUSY_MINUTE["void"]]:
            void_ticket(session, code=code, orq=seeded.orq, keys=context.keys, actor_id=operator.id, now=now)
    return sum(BUSY_MINUTE.values())


# --- measuring ----------------------------------------------------------------------------------------


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    """(wall ms, result) of `work`; its CPU ms in this process are added to CPU_MS."""
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    CPU_MS.append((time.process_time() - cpu) * 1000)
    return (time.perf_counter() - started) * 1000, result


CPU_MS: list[float] = []


def bundle_here(context: AppContext, orq: int, since: str | None) -> bytes:
    with context.sessions() as session:
        venue = load_venue(session, orq)
        now = context.clock.now()
        bundle = build_bundle(
            session,
            orq=orq,
            day=date.fromisoformat(FROZEN_NOW[:10]),
            since=since,
            venue=venue,
            keys=context.keys,
            offline_secrets=context.offline,
            now=now,
        )
        return bundle.body


def read_rows(context: AppContext, orq: int) -> int:
    """Only the full bundle's query, to tell the database's share from the rest."""
    with context.engine.connect() as connection:
        return len(connection.execute(offline_bundle._FULL, {"orq": orq}).all())


def log_in(client: Client, username: str) -> str:
    reply = client.request(0, "POST", "/api/operator/login", {"username": username, "password": PASSWORD})
    assert reply.status == 200, reply.body
    return str(reply.json()["access_token"])


def http_get(client: Client, token: str, params: dict[str, str]) -> tuple[float, bytes, int]:
    """(ms, the JSON, bytes on the wire) of one bundle request, asking for gzip as a browser does."""
    query = "&".join(f"{k}={v}" for k, v in {"date": FROZEN_NOW[:10], **params}.items())
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    reply = client.request(0, "GET", f"/api/operator/offline-bundle?{query}", headers=headers)
    assert reply.status == 200, reply.body[:500]
    return reply.ms, gzip.decompress(reply.body), len(reply.body)


# --- the report ---------------------------------------------------------------------------------------


def report(args: argparse.Namespace, **r: Any) -> None:
    full, http_full = statistics.median(r["full_ms"]), statistics.median(r["http_full_ms"])
    delta, http_delta = statistics.median(r["delta_ms"]), statistics.median(r["http_delta_ms"])
    mib = r["gzipped"] / 2**20
    full_target = f"< {FULL_S * 1000:.0f} ms"
    delta_target = f"< {DELTA_MS:.0f} ms"
    print_table(
        f"Full bundle: {args.tickets:,} tickets, {r['entries']:,} entries (VOID left out), "
        f"median of {args.runs}",
        ["", "value", "target", ""],
        [
            ["built in this process", f"{full:.0f} ms", full_target, verdict(full < FULL_S * 1000)],
            ["  CPU of this process", f"{statistics.median(r['full_cpu_ms']):.0f} ms", "", ""],
            ["  the database query alone", f"{statistics.median(r['rows_ms']):.0f} ms", "", ""],
            [f"gzip (level {GZIP_LEVEL}) of it", f"{r['gzip_ms']:.0f} ms", "", ""],
            ["through HTTP, gzipped", f"{http_full:.0f} ms", full_target, verdict(http_full < FULL_S * 1000)],
            ["size, JSON", f"{r['raw'] / 2**20:.1f} MiB", "", ""],
            ["size, gzipped", f"{mib:.2f} MiB", f"< {GZIPPED_MIB:.0f} MiB", verdict(mib < GZIPPED_MIB)],
        ],
    )
    busy = ", ".join(f"{n} {kind}" for kind, n in BUSY_MINUTE.items())
    print_table(
        f"Delta after a busy minute ({r['changed']} tickets changed in {r['changes_s']:.1f} s: {busy}), "
        f"median of {len(r['delta_ms'])}",
        ["", "value", "target", ""],
        [
            ["built in this process", f"{delta:.1f} ms", delta_target, verdict(delta < DELTA_MS)],
            ["  slowest", f"{max(r['delta_ms']):.1f} ms", "", ""],
            ["through HTTP", f"{http_delta:.1f} ms", delta_target, verdict(http_delta < DELTA_MS)],
            ["entries / removed", f"{len(r['delta']['tickets'])} / {len(r['delta']['removed'])}", "", ""],
        ],
    )
    print(f"\nserver log errors: {r['errors']}")


if __name__ == "__main__":
    main()
