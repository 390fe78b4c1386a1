"""What the benchmarks share: a throwaway database, real server processes, a light client, tables."""

from __future__ import annotations

import gc
import http.client
import json
import math
import os
import platform
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from admit.context import AppContext, build_context
from admit.db.migrate import upgrade
from admit.db.models import Operator, Organization
from admit.domain.lifecycle import ActivationMode
from admit.domain.roles import Role
from admit.services.issuance import MAX_QUANTITY, create_order
from admit.services.operators import create_operator
from admit.services.organizations import create_organization
from admit.services.reservations import checked_contact, reserve
from admit.settings import Settings

DEFAULT_PG_URL = os.environ.get("ADMIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = "bench-secret-key-" + "x" * 32
# Thursday 20 November 2025, 09:00 in Amsterdam (the stories' reference day): every run sees the same dates.
FROZEN_NOW = "2025-11-20T09:00:00+01:00"
T = TypeVar("T")
TIMEZONE = "Europe/Amsterdam"
PHONE = "+31201234567"
PARTY = 4  # members of a booked party as the benchmarks seed them: a family, a few friends
HOST = "127.0.0.1"
# uvicorn closes a keep-alive connection after 5 idle seconds; reopen ours before that can happen.
KEEP_ALIVE_S = 4.0
READY_TIMEOUT_S = 30.0


# --- the database -------------------------------------------------------------------------------------


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one run, dropped at the end whatever happened."""
    name = f"admit_bench_{os.getpid()}_{secrets.token_hex(4)}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


@contextmanager
def seeded_database(server_url: str, seed: Callable[[str], T]) -> Iterator[tuple[str, T, float]]:
    """A throwaway database, migrated and seeded: its URL, what `seed` returned, and the seconds it took."""
    with throwaway_database(server_url) as database_url:
        started = time.perf_counter()
        upgrade(database_url)
        seeded = seed(database_url)
        vacuum_analyze(database_url)
        yield database_url, seeded, time.perf_counter() - started


def vacuum_analyze(database_url: str) -> None:
    """Statistics and visibility maps as autovacuum keeps them on a live database. Without them the
    planner guesses, and may count a party's members through the slot's index: every reservation of
    the slot read at each scan. A server with autovacuum off would otherwise leave them so for the run."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def bench_context(database_url: str) -> AppContext:
    """The services on a benchmark's database, with the clock pinned as the servers have it."""
    return build_context(Settings(database_url=database_url, secret_key=SECRET_KEY, frozen_now=FROZEN_NOW))


def create_museum(session: Session, context: AppContext) -> tuple[Organization, Operator]:
    """The benchmark's organization and its admin."""
    now = context.clock.now()
    org = create_organization(session, name="Bench Museum", timezone=TIMEZONE, now=now)
    admin = create_operator(
        session,
        orq=org.id,
        username="bench-admin",
        name="Bench Admin",
        role=Role.ADMIN,
        password=secrets.token_urlsafe(12),
        pin=None,
        now=now,
    )
    return org, admin


def issue_tickets(
    session: Session, context: AppContext, admin: Operator, count: int, mode: ActivationMode
) -> list[str]:
    """The codes of `count` paid tickets of the admin's organization, in orders as large as allowed."""
    issued: list[str] = []
    while len(issued) < count:
        order = create_order(
            session,
            orq=admin.orq,
            quantity=min(MAX_QUANTITY, count - len(issued)),
            activation_mode=mode,
            paid=True,
            customer_email=None,
            valid_until=None,
            keys=context.keys,
            actor_id=admin.id,
            now=context.clock.now(),
        )
        issued += [t.code for t in order.tickets]
    return issued


def book_in_parties(session: Session, context: AppContext, codes: list[str], slot_ids: list[int]) -> None:
    """Reserve the codes as parties of `PARTY` (the door counts a party's members at every scan, so the
    parties are a venue's, not the largest batch a booking allows), spread over the slots in turn."""
    for n, k in enumerate(range(0, len(codes), PARTY)):
        reserve(
            session,
            ticket_codes=codes[k : k + PARTY],
            slot_id=slot_ids[n % len(slot_ids)],
            contact=checked_contact(f"visitor{k}@example.com", PHONE),
            keys=context.keys,
            now=context.clock.now(),
        )


def postgres_version(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


# --- the servers --------------------------------------------------------------------------------------


def server_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of a production-like server process, with the rate limits off for load."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "ADMIT_SECRET_KEY": SECRET_KEY,
        "ADMIT_FROZEN_NOW": FROZEN_NOW,
        "ADMIT_DATA_DIR": str(data_dir),
        "ADMIT_RATE_LIMIT_RESERVATIONS": "off",
        "ADMIT_RATE_LIMIT_VALIDATION": "off",
        "ADMIT_LOG_FORMAT": "json",
    }


@dataclass
class Servers:
    """Running server processes; request number n goes to server n modulo their number."""

    log_dir: Path
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the servers have used so far; NaN where there is no /proc."""
        ticks = 0
        try:
            for process in self.processes:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            return math.nan
        return ticks / os.sysconf("SC_CLK_TCK")

    def logged_errors(self) -> int:
        """Lines at level error, and tracebacks, in the servers' output: a good run has none."""
        count = 0
        for path in self.log_dir.glob("server-*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if '"level": "error"' in line or line.startswith("Traceback"):
                    count += 1
        return count


@contextmanager
def running_servers(count: int, env: dict[str, str], log_dir: Path) -> Iterator[Servers]:
    """`count` uvicorn processes, each on its own port, ready to serve; terminated at the end."""
    servers = Servers(log_dir)
    try:
        for _ in range(count):
            port = _free_port()
            command = [sys.executable, "-m", "uvicorn", "admit.app:create_app", "--factory"]
            command += ["--host", HOST, "--port", str(port), "--no-access-log"]
            with (log_dir / f"server-{port}.log").open("wb") as log:
                process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            servers.ports.append(port)
            servers.processes.append(process)
        for port, process in zip(servers.ports, servers.processes, strict=True):
            _wait_ready(port, process, log_dir / f"server-{port}.log")
        # This client's seeding left a large heap; out of the collector's reach, its full collections
        # no longer pause the senders for 100 ms, which the measured latencies would charge to the servers.
        gc.collect()
        gc.freeze()
        yield servers
    finally:
        for process in servers.processes:
            process.terminate()
        for process in servers.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}:\n{_tail(log_path)}")
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} not ready after {READY_TIMEOUT_S:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- the client ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int | None  # None: no HTTP answer came (see `failure`)
    body: bytes
    ms: float
    failure: str = ""

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def label(self) -> str:
        """ "201", "409 SLOT_FULL", or the transport failure: what to count answers by."""
        if self.status is None:
            return self.failure
        if self.status < 400:
            return str(self.status)
        try:
            return f"{self.status} {self.json()['error']['code']}"
        except (ValueError, KeyError, TypeError):
            return str(self.status)


class Client:
    """One client's keep-alive connections, one per server; use one per thread.

    The standard library's http.client rather than httpx: on a small machine the load generator shares
    the CPU with the servers, and httpx's AsyncClient spends about 3 ms of CPU per request under
    concurrency, where http.client needs about 0.2 ms.
    """

    def __init__(self, servers: Servers, timeout: float = 60) -> None:
        self._ports = servers.ports
        self._timeout = timeout
        self._open: dict[int, tuple[http.client.HTTPConnection, float]] = {}

    def request(
        self, n: int, method: str, path: str, body: object = None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """Send request number n (to server n modulo their number) and read the whole answer.

        `headers` are sent as well, e.g. {"Authorization": "Bearer ..."} for staff endpoints.
        """
        port = self._ports[n % len(self._ports)]
        connection = self._connection(port)
        payload = None if body is None else json.dumps(body).encode()
        headers = {**({} if payload is None else {"Content-Type": "application/json"}), **(headers or {})}
        started = time.perf_counter()
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            del self._open[port]
            return Reply(None, b"", (time.perf_counter() - started) * 1000, type(exc).__name__)
        self._open[port] = (connection, time.monotonic())
        return Reply(response.status, data, (time.perf_counter() - started) * 1000)

    def _connection(self, port: int) -> http.client.HTTPConnection:
        connection, used = self._open.get(port, (None, 0.0))
        if connection is not None and time.monotonic() - used > KEEP_ALIVE_S:
            connection.close()
            connection = None
        if connection is None:
            connection = http.client.HTTPConnection(HOST, port, timeout=self._timeout)
            self._open[port] = (connection, time.monotonic())
        return connection

    def close(self) -> None:
        for connection, _ in self._open.values():
            connection.close()
        self._open.clear()


# --- figures and tables -------------------------------------------------------------------------------

LATENCY_HEADERS = ["", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"]


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least p % of all samples at or below it."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_row(label: str, samples_ms: Sequence[float]) -> list[str]:
    """A row under LATENCY_HEADERS: label, count, p50, p95, p99, max (milliseconds)."""
    figures = [percentile(samples_ms, p) for p in (50, 95, 99)] + [max(samples_ms, default=math.nan)]
    return [label, str(len(samples_ms)), *(f"{value:.1f}" for value in figures)]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], *, left: int = 1
) -> None:
    """A plain text table: the first `left` columns left-aligned (labels), the others right-aligned."""
    cells = [[str(h) for h in headers], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [
            c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def machine_facts(database_url: str, servers: int) -> list[list[str]]:
    return [
        ["cores", str(os.cpu_count())],
        ["cpu", _cpu_model()],
        ["python", platform.python_version()],
        ["postgresql", postgres_version(database_url)],
        ["servers", f"{servers} x uvicorn (1 process each, no access log)"],
        ["pinned now", FROZEN_NOW],
        ["load average at start", load_average()],
    ]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat; (0, 0) where there is none.

    The difference between two readings gives how busy all cores were in between, whoever used them.
    """
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0, 0
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return total - idle, total


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How busy all cores were between two `machine_cpu_ticks()` readings, in per cent; NaN if unknown."""
    total = after[1] - before[1]
    return 100 * (after[0] - before[0]) / total if total > 0 else math.nan


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
