"""A command run from cron or a terminal whose database stops answering ends within seconds, with a
one-line error and exit status 2, having changed nothing; once the database answers it does its work.

The commands reach PostgreSQL through a proxy that can swallow everything both ways (a blackholing
middlebox, a stopped server whose kernel still acknowledges): TCP keepalives see nothing wrong there.
The silence begins at a known point: another connection holds a lock the command's statement waits
for, the proxy goes silent, and the lock is let go. The commands run in this process (`Cli.run`), on a
thread of their own, so that a command which never ends fails its test instead of holding the run.
Their bounds are shortened through the settings (a request's statements may take 1 s here, a
connection may take 2 s to open) and, for the sweep's work done once, through its statement bound (1.5 s).
SQLite is a local file: there is no connection to lose.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url

from admit.clock import FrozenClock
from admit.context import AppContext
from admit.db.models import Organization, ScanEvent
from admit.domain.roles import Role
from admit.services import sweeper
from tests.builders import Builders
from tests.cli.test_cli import Cli, _clean_environment
from tests.conftest import DEFAULT_NOW, TEST_SECRET
from tests.faults import FaultyProxy, faulty_proxy, wait_until_a_statement_waits_for_a_lock
from tests.integration.test_scan_answer_retention import archived

# A ceiling against a command that never ends, well above its bounds here (2 s to connect, 2 s for an
# answer): not a measure of speed.
WITHIN = 8.0
FRIDAY_MORNING = DEFAULT_NOW + timedelta(days=1)


@pytest.fixture
def proxy(database_url: str) -> Iterator[FaultyProxy]:
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("SQLite is a local file: there is no connection to lose")
    with faulty_proxy(url.host or "127.0.0.1", url.port or 5432) as started:
        yield started


@pytest.fixture
def short_sweep_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """`admit expire` and `admit prune-scans` work under the sweep's statement bound: 1.5 s here, not 30."""
    monkeypatch.setattr(sweeper, "STATEMENT_TIMEOUT", 1.5)


def admit_through(proxy: FaultyProxy, database_url: str, workdir: Path, *, now: str) -> Cli:
    """The `admit` command on the test's database, reached through the proxy."""
    proxied = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    env = _clean_environment() | {
        "DATABASE_URL": proxied.render_as_string(hide_password=False),
        "ADMIT_SECRET_KEY": TEST_SECRET,
        "ADMIT_FROZEN_NOW": now,
        "ADMIT_DB_CONNECT_TIMEOUT": "2",
        "ADMIT_DB_STATEMENT_TIMEOUT": "1",
    }
    return Cli("postgresql", workdir, env, database_url)


def started(cli: Cli, proxy: FaultyProxy, *args: str) -> Callable[[], subprocess.CompletedProcess[str]]:
    """Start `admit ARGS`; what it printed and exited with, once it ended, which must be within WITHIN s."""
    results: list[subprocess.CompletedProcess[str]] = []
    command = threading.Thread(target=lambda: results.append(cli.run(*args)), daemon=True)
    command.start()

    def result() -> subprocess.CompletedProcess[str]:
        command.join(WITHIN)
        if not results:
            # Ended by cutting its connections, so that it puts this process back as it found it.
            proxy.set_mode("cut")
            command.join(WITHIN)
            pytest.fail(f"admit {' '.join(args)} was still waiting after {WITHIN} s")
        return results[0]

    return result


def ended(cli: Cli, proxy: FaultyProxy, *args: str) -> subprocess.CompletedProcess[str]:
    return started(cli, proxy, *args)()


@contextmanager
def silent_while_waiting(
    proxy: FaultyProxy, database_url: str, lock: str, cli: Cli, *args: str
) -> Iterator[Callable[[], subprocess.CompletedProcess[str]]]:
    """Run `admit ARGS` while another connection holds `lock` (SQL); once the command waits for it,
    the proxy swallows everything and the lock is let go. Yields the command's result, once it ended."""
    other = create_engine(database_url)
    try:
        with other.connect() as holder:
            holder.begin()
            holder.execute(text(lock))
            result = started(cli, proxy, *args)
            wait_until_a_statement_waits_for_a_lock(database_url, within=WITHIN)
            proxy.set_mode("blackhole")
            holder.rollback()
        yield result
    finally:
        other.dispose()


def assert_no_answer(result: subprocess.CompletedProcess[str], *, within: float) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: cannot use the database at postgresql"), result.stderr
    assert f"no answer within {within:g} s" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback


def reservation_due_friday(make: Builders) -> str:
    """A ticket booked for Thursday: its entry window has closed by Friday morning."""
    orq = make.org()
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-20"))
    return code


def test_expire_ends_with_a_clear_error_when_the_database_stops_answering_and_works_when_it_answers(
    make: Builders, proxy: FaultyProxy, database_url: str, tmp_path: Path, short_sweep_bound: None
) -> None:
    due = reservation_due_friday(make)
    cli = admit_through(proxy, database_url, tmp_path, now=FRIDAY_MORNING.isoformat())
    before = make.snapshot()

    lock = "LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE"
    with silent_while_waiting(proxy, database_url, lock, cli, "expire") as result:
        # The sweep's bound, not a request's: 1.5 s for the statement, and a second more for its answer.
        assert_no_answer(result(), within=2.5)
    assert make.snapshot() == before

    proxy.set_mode("pass")
    assert ended(cli, proxy, "expire").stdout == "1 tickets expired.\n"
    assert make.status_of(due) == "EXPIRED"


def an_old_scan_and_a_later_one_pointing_at_it(make: Builders, clock: FrozenClock) -> tuple[int, int]:
    """(old, later) scan ids, three days apart; the later one is a second entry pointing at the first."""
    orq = make.org()
    first, second = make.ticket(orq, "ACTIVATED"), make.ticket(orq, "ACTIVATED")
    for code, nonce in ((first, "old"), (second, "later")):
        door = make.staff(orq, Role.OPERATOR)  # staff log in again: their tokens last 8 hours
        body = {"code": code, "action": "admit", "nonce": nonce}
        assert make.client.post("/venue/scan", json=body, headers=door.headers).status_code == 200
        clock.advance(timedelta(days=3))
    with make.context.sessions() as session, session.begin():
        old, later = session.scalars(select(ScanEvent.id).order_by(ScanEvent.id)).all()
        session.execute(
            update(ScanEvent).where(ScanEvent.id == later).values(conflict=True, conflict_with=old)
        )
    return old, later


def test_prune_scans_ends_with_a_clear_error_mid_batch_archiving_and_deleting_nothing_then_prunes(
    make: Builders,
    context: AppContext,
    clock: FrozenClock,
    proxy: FaultyProxy,
    database_url: str,
    tmp_path: Path,
    short_sweep_bound: None,
) -> None:
    old, later = an_old_scan_and_a_later_one_pointing_at_it(make, clock)
    cli = admit_through(proxy, database_url, tmp_path, now=clock.now().isoformat())
    archive = tmp_path / "archive"
    before = make.snapshot()

    # The batch of the old scan waits to clear the later scan's pointer to it, which another holds.
    lock = f"SELECT id FROM scan_events WHERE id = {later} FOR UPDATE"
    prune = ("prune-scans", "--days", "4", "--archive", str(archive))
    with silent_while_waiting(proxy, database_url, lock, cli, *prune) as result:
        assert_no_answer(result(), within=2.5)
    assert make.snapshot() == before
    assert archived(archive) == []

    proxy.set_mode("pass")
    assert ended(cli, proxy, *prune).stdout == f"1 scans older than 4 days deleted, archived in {archive}.\n"
    assert [row["id"] for row in archived(archive)] == [old]
    with context.sessions() as session:
        assert [(e.id, e.conflict, e.conflict_with) for e in session.scalars(select(ScanEvent))] == [
            (later, True, None)
        ]


def test_a_staff_command_ends_with_a_clear_error_when_the_database_stops_answering_and_creates_nothing(
    make: Builders, context: AppContext, proxy: FaultyProxy, database_url: str, tmp_path: Path
) -> None:
    cli = admit_through(proxy, database_url, tmp_path, now=DEFAULT_NOW.isoformat())
    create = ("orgs", "create", "--name", "Louvre", "--timezone", "Europe/Paris")

    lock = "LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE"
    with silent_while_waiting(proxy, database_url, lock, cli, *create) as result:
        assert_no_answer(result(), within=2)  # ADMIT_DB_STATEMENT_TIMEOUT, and a second more
    with context.sessions() as session:
        assert session.scalars(select(Organization.name)).all() == []

    proxy.set_mode("pass")
    orq = int(ended(cli, proxy, *create).stdout)
    with context.sessions() as session:
        assert session.get_one(Organization, orq).name == "Louvre"


@pytest.mark.parametrize(
    "command",
    [("expire",), ("prune-scans", "--days", "30"), ("operators", "list"), ("db", "upgrade")],
    ids=["expire", "prune-scans", "operators-list", "db-upgrade"],
)
def test_a_database_that_stops_answering_before_the_migrations_is_reported_within_seconds(
    make: Builders, proxy: FaultyProxy, database_url: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    make.org()
    cli = admit_through(proxy, database_url, tmp_path, now=FRIDAY_MORNING.isoformat())
    before = make.snapshot()

    # Every command first reads which migrations the database has.
    lock = "LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"
    with silent_while_waiting(proxy, database_url, lock, cli, *command) as result:
        assert_no_answer(result(), within=2)  # ADMIT_DB_STATEMENT_TIMEOUT, and a second more
    assert make.snapshot() == before


def test_expire_from_cron_on_a_database_silent_from_the_start_gives_up_after_the_connect_timeout(
    make: Builders, proxy: FaultyProxy, database_url: str, tmp_path: Path
) -> None:
    due = reservation_due_friday(make)
    cli = admit_through(proxy, database_url, tmp_path, now=FRIDAY_MORNING.isoformat())
    proxy.set_mode("blackhole")

    result = ended(cli, proxy, "expire")  # ADMIT_DB_CONNECT_TIMEOUT: 2 s

    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: cannot use the database at postgresql"), result.stderr
    assert "timeout" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert make.status_of(due) == "RESERVED"
