"""The `admit` command line as a new user runs it: the real entry point, in a fresh directory.

A command runs as the installed `admit` script runs it, through `admit.cli.main` with its arguments in
`sys.argv`, in a temporary working directory and an environment holding only what a user would set, and
its exit status, standard output and standard error are what the test sees. Most commands run in this
process (`Cli.run`), as a fresh process would: the environment, working directory and logging are those
of the command alone, and put back afterwards. Where the process itself is what is tested (the installed
script, `admit serve`, the exit status a shell sees) the script runs in a subprocess (`Cli.run_script`).
Tests that take `cli` run on SQLite (the embedded default: nothing set, the database lands in ./data)
and on PostgreSQL (a throwaway database, dropped at the end); `ADMIT_TEST_DATABASES` narrows that, as in
tests/conftest.py.
"""

from __future__ import annotations

import ast
import os
import re
import secrets
import subprocess
import sys
import time
import tomllib
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi.testclient import TestClient
from packaging.requirements import Requirement
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from admit.app import context_of, create_app
from admit.cli import main
from admit.db.migrate import head_revision
from admit.db.models import Base
from admit.settings import Settings
from tests.nodes import free_port

ADMIT = Path(sys.executable).with_name("admit")
ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = os.environ.get("ADMIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = os.environ.get("ADMIT_TEST_DATABASES", "sqlite,postgresql").split(",")
SECRET = "cli-test-secret-key-" + "k" * 32
# Settings a developer may have exported; the tests start from a clean slate.
OUR_VARIABLES = ("DATABASE_URL", "REDIS_URL")
COMMAND_TIMEOUT = 120  # ceilings against a hang, not costs: a loaded machine is slow
SERVER_START_TIMEOUT = 60


@dataclass
class Cli:
    """The `admit` command in one working directory with one environment, and a look at its database."""

    backend: str
    cwd: Path
    env: dict[str, str]
    database_url: str
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`admit ARGS` through the script's entry point, in this process: a second's imports saved."""
        with _as_a_new_process(self.cwd, self.env, ["admit", *args]) as (stdout, stderr):
            returncode = _exit_status(main)
            sys.stdout.flush()
            sys.stderr.flush()
            return subprocess.CompletedProcess(
                args, returncode, stdout.getvalue().decode(), stderr.getvalue().decode()
            )

    def run_script(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`admit ARGS` as the installed script, in a process of its own."""
        return subprocess.run(
            [str(ADMIT), *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )

    def ok(self, *args: str) -> str:
        """Run a command that must succeed; its standard output."""
        return _succeeded(args, self.run(*args))

    def query(self, sql: str) -> list[Any]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql)))
        finally:
            engine.dispose()

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {table}")[0][0])

    def counts(self) -> dict[str, int]:
        """Rows in every table the models know."""
        return {table.name: self.count(table.name) for table in Base.metadata.sorted_tables}

    def schema(self) -> dict[str, Any]:
        """Tables, their columns and indexes: what a migration would change."""
        engine = create_engine(self.database_url)
        try:
            found = inspect(engine)
            return {
                table: (
                    [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)],
                    sorted((i["name"], i["column_names"], i["unique"]) for i in found.get_indexes(table)),
                )
                for table in sorted(found.get_table_names())
            }
        finally:
            engine.dispose()

    @contextmanager
    def http(self) -> Iterator[TestClient]:
        """The HTTP API in-process, on this database with the settings the commands used."""
        settings = Settings(
            data_dir=self.cwd / "data",
            database_url=self.database_url,
            secret_key=self.env.get("ADMIT_SECRET_KEY", ""),
        )
        app = create_app(settings)
        try:
            with TestClient(app) as client:
                yield client
        finally:
            context_of(app).engine.dispose()

    def serve(self, *args: str) -> Server:
        """Start `admit serve` on a free port and wait until /readyz says ready."""
        port = free_port()
        out, err = self.cwd / f"serve-{port}.out", self.cwd / f"serve-{port}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [str(ADMIT), "serve", "--port", str(port), *args],
                cwd=self.cwd,
                env=self.env,
                stdout=stdout,
                stderr=stderr,
            )
        self.servers.append(process)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"admit serve exited with {process.returncode}:\n{err.read_text()}")
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    # The demo's printout is written (and flushed) before the server starts listening.
                    return Server(base_url=base_url, output=out.read_text())
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        pytest.fail(f"admit serve did not become ready within {SERVER_START_TIMEOUT} s:\n{err.read_text()}")

    def stop_servers(self) -> None:
        """Terminate every server this test started (SIGTERM, then SIGKILL if it hangs)."""
        for process in self.servers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.servers.clear()


@dataclass
class Server:
    base_url: str
    output: str


@dataclass
class DemoPrintout:
    orq: int
    passwords: dict[str, str]
    pins: dict[str, str]
    tickets: dict[str, list[str]]


@contextmanager
def _as_a_new_process(cwd: Path, env: dict[str, str], argv: list[str]) -> Iterator[tuple[BytesIO, BytesIO]]:
    """This process made to look, for one command, like a new one: its environment (`env` alone), working
    directory, `sys.argv`, logging as configured on start, and standard output and error of its own.
    Everything is put back afterwards, so that a command leaves nothing behind for the next test; the
    commands close their own database engines."""
    previous_cwd, previous_argv, previous_hook = Path.cwd(), sys.argv, sys.excepthook
    previous_logging = structlog.get_config()
    replaced = {name: None for name in os.environ if name not in env} | env
    with CliRunner().isolation(env=replaced) as (stdout, stderr, _both):
        os.chdir(cwd)
        sys.argv = argv
        # structlog's defaults as a new process has them, printing to this command's standard output.
        structlog.reset_defaults()
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stdout))
        try:
            yield stdout, stderr
        finally:
            structlog.configure(**previous_logging)
            sys.excepthook = previous_hook  # typer installs its own
            sys.argv = previous_argv
            os.chdir(previous_cwd)


def _exit_status(entry_point: Callable[[], object]) -> int:
    """The status a process running `entry_point` exits with; an uncaught error's traceback on stderr."""
    try:
        entry_point()
    except SystemExit as stopped:
        if stopped.code is None or isinstance(stopped.code, int):
            return stopped.code or 0
        print(stopped.code, file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def _succeeded(args: tuple[str, ...], result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"admit {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _clean_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ADMIT_") and name not in OUR_VARIABLES
    }


def _pg_url_for(database: str) -> str:
    # The form a user types; the application picks the driver itself.
    return make_url(PG_SERVER).set(drivername="postgresql", database=database).render_as_string(False)


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    """A fresh directory and an empty, unmigrated database: a new user's first minute."""
    assert ADMIT.exists(), f"the admit script is not installed next to {sys.executable}"
    env = _clean_environment()
    if request.param == "sqlite":
        cli = Cli("sqlite", tmp_path, env, f"sqlite:///{tmp_path / 'data' / 'admit.db'}")
        try:
            yield cli
        finally:
            cli.stop_servers()
        return
    name = f"admit_cli_{os.getpid()}_{secrets.token_hex(4)}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url_for(name)
    env |= {"DATABASE_URL": url, "ADMIT_SECRET_KEY": SECRET}
    cli = Cli(
        "postgresql",
        tmp_path,
        env,
        make_url(url).set(drivername="postgresql+psycopg").render_as_string(False),
    )
    try:
        yield cli
    finally:
        cli.stop_servers()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def assert_refused(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """A failure a user can act on: non-zero exit, the expected words on stderr, no traceback."""
    assert result.returncode != 0, f"expected a failure, got:\n{result.stdout}"
    assert "Traceback" not in result.stderr, result.stderr
    for words in expected:
        assert words in result.stderr, result.stderr


def parse_demo(output: str) -> DemoPrintout:
    orq = re.search(r"Demo organization: orq=(\d+)", output)
    assert orq, output
    passwords: dict[str, str] = {}
    pins: dict[str, str] = {}
    for _role, username, password, pin in re.findall(
        r"^ +(admin|manager|operator) +(\S+) +password (\S+)(?: +PIN (\d+))?$", output, re.MULTILINE
    ):
        passwords[username] = password
        if pin:
            pins[username] = pin
    tickets = {
        label.split()[0]: codes.split()
        for label, codes in re.findall(r"^ +([A-Z_]+(?: \([^)]*\))?): ([0-9A-Z ]+)$", output, re.MULTILINE)
    }
    return DemoPrintout(orq=int(orq[1]), passwords=passwords, pins=pins, tickets=tickets)


def status_of(server: Server, code: str) -> str:
    response = httpx.get(f"{server.base_url}/api/tickets/{code}/status", timeout=10)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def login(base_url: str, username: str, **secret: str) -> httpx.Response:
    return httpx.post(f"{base_url}/api/operator/login", json={"username": username, **secret}, timeout=10)


# --- admit db upgrade ------------------------------------------------------------------------------


def test_db_upgrade_migrates_an_empty_database_and_a_second_run_changes_nothing(cli: Cli) -> None:
    assert "up to date" in cli.ok("db", "upgrade")
    assert cli.query("SELECT version_num FROM alembic_version") == [(head_revision(),)]
    schema = cli.schema()
    assert set(schema) == {"alembic_version", *(table.name for table in Base.metadata.sorted_tables)}
    orq = cli.ok("orgs", "create", "--name", "Louvre", "--timezone", "Europe/Paris").strip()

    assert "up to date" in cli.ok("db", "upgrade")

    assert cli.query("SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert cli.schema() == schema
    assert cli.query("SELECT id, name FROM organizations") == [(int(orq), "Louvre")]


def test_embedded_default_keeps_database_and_key_in_the_data_directory(tmp_path: Path) -> None:
    cli = Cli("sqlite", tmp_path, _clean_environment() | {"ADMIT_DATA_DIR": "state"}, "")
    _succeeded(("db", "upgrade"), cli.run_script("db", "upgrade"))  # the installed script itself
    assert (tmp_path / "state" / "admit.db").is_file()
    key = tmp_path / "state" / "secret_key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert len(key.read_text().strip()) >= 32
    assert not (tmp_path / "data").exists()


# --- admit orgs create -----------------------------------------------------------------------------


def test_orgs_create_prints_the_new_organizations_integer_id(cli: Cli) -> None:
    printed = cli.ok("orgs", "create", "--name", "Musée X", "--timezone", "Europe/Paris")

    assert re.fullmatch(r"\d+\n", printed), printed
    assert cli.query("SELECT id, name, timezone FROM organizations") == [
        (int(printed), "Musée X", "Europe/Paris")
    ]


def test_orgs_create_with_an_unknown_time_zone_fails_clearly_and_creates_nothing(cli: Cli) -> None:
    result = cli.run("orgs", "create", "--name", "X", "--timezone", "Europe/Atlantis")

    assert_refused(result, "timezone", "Europe/Atlantis")
    assert result.stdout == ""
    assert cli.count("organizations") == 0


def test_orgs_create_with_an_overlong_name_fails_clearly_on_every_database(cli: Cli) -> None:
    result = cli.run("orgs", "create", "--name", "N" * 300, "--timezone", "Europe/Paris")

    assert_refused(result, "name")
    assert cli.count("organizations") == 0


# --- admit operators create ------------------------------------------------------------------------


def test_operators_create_prints_an_id_and_that_operator_can_log_in_through_the_api(cli: Cli) -> None:
    orq = int(cli.ok("orgs", "create", "--name", "X", "--timezone", "Europe/Paris"))

    printed = cli.ok(
        *("operators", "create", "--orq", str(orq)),
        *("--username", "door1", "--role", "operator", "--pin", "123456"),
    )

    assert re.fullmatch(r"\d+\n", printed), printed
    with cli.http() as http:  # the same application `admit serve` runs; serving itself is tested below
        response = http.post("/api/operator/login", json={"username": "door1", "pin": "123456"})
        wrong = http.post("/api/operator/login", json={"username": "door1", "pin": "654321"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["operator"] == {"id": int(printed), "name": "door1", "role": "operator", "orq": orq}
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "INVALID_CREDENTIALS")


def test_operators_create_refuses_a_taken_username_and_creates_nothing(cli: Cli) -> None:
    orq = cli.ok("orgs", "create", "--name", "X", "--timezone", "Europe/Paris").strip()
    create = (
        "operators",
        "create",
        "--orq",
        orq,
        "--username",
        "door1",
        "--role",
        "operator",
        "--pin",
        "123456",
    )
    cli.ok(*create)

    result = cli.run(*create)

    assert_refused(result, "DUPLICATE_USERNAME", "taken")
    assert result.stdout == ""
    assert cli.count("operators") == 1


def test_operators_create_for_an_unknown_orq_fails_clearly_and_creates_nothing(cli: Cli) -> None:
    result = cli.run(
        "operators", "create", "--orq", "42", "--username", "door1", "--role", "admin", "--pin", "123456"
    )

    assert_refused(result, "ORGANIZATION_NOT_FOUND")
    assert result.stdout == ""
    assert cli.count("operators") == 0


def test_operators_create_for_an_orq_beyond_any_id_fails_clearly(cli: Cli) -> None:
    result = cli.run(
        *("operators", "create", "--orq", str(2**63)),
        *("--username", "door1", "--role", "admin", "--pin", "123456"),
    )

    assert_refused(result, "ORGANIZATION_NOT_FOUND")


# --- admit serve --demo ----------------------------------------------------------------------------


def test_serve_demo_prints_logins_and_codes_that_work_and_a_second_demo_adds_nothing(cli: Cli) -> None:
    server = cli.serve("--demo")

    demo = parse_demo(server.output)
    assert set(demo.passwords) == {"admin", "manager", "door"}
    assert set(demo.pins) == {"door"}
    assert {"INACTIVE", "ACTIVATED", "PENDING_PAYMENT", "VOID"} <= set(demo.tickets)
    admin = login(server.base_url, "admin", password=demo.passwords["admin"])
    assert admin.status_code == 200, admin.text
    assert admin.json()["operator"]["role"] == "admin"
    assert admin.json()["operator"]["orq"] == demo.orq
    assert login(server.base_url, "door", pin=demo.pins["door"]).status_code == 200
    for label, codes in demo.tickets.items():  # each printed code is in the state its label names
        for code in codes:
            assert status_of(server, code) == label, code

    for path in ("/reserve", "/operator", "/manager", "/admin"):  # the pages to look at first, printed
        assert f"{server.base_url}{path}\n" in server.output
        assert httpx.get(f"{server.base_url}{path}", timeout=10).status_code == 200

    inactive = demo.tickets["INACTIVE"][0]
    assert f"curl -X POST {server.base_url}/api/tickets/{inactive}/activate" in server.output
    activated = httpx.post(f"{server.base_url}/api/tickets/{inactive}/activate", timeout=10)
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "ACTIVATED"
    assert status_of(server, inactive) == "ACTIVATED"

    cli.stop_servers()
    before = cli.counts()
    again = cli.serve("--demo")

    assert "has data already" in again.output
    assert "Staff logins" not in again.output
    # It says where the first printout was kept (for the owner alone) and how to start afresh.
    printout = Path("data", "demo-logins.txt")
    assert f"are in {printout} (readable by you alone)" in again.output
    assert "To start afresh" in again.output
    printout = cli.cwd / printout
    assert printout.stat().st_mode & 0o777 == 0o600
    assert parse_demo(printout.read_text()) == demo
    assert cli.counts() == before
    # The first demo's logins and codes still work: same data, same key.
    assert login(again.base_url, "admin", password=demo.passwords["admin"]).status_code == 200
    assert status_of(again, inactive) == "ACTIVATED"


def test_expire_on_a_new_database_expires_nothing_and_says_so(cli: Cli) -> None:
    assert cli.ok("expire") == "0 tickets expired.\n"


def test_prune_scans_on_a_new_database_deletes_nothing_and_a_one_day_history_is_refused(cli: Cli) -> None:
    archive = cli.cwd / "archive"
    assert cli.ok("prune-scans", "--days", "30", "--archive", str(archive)) == (
        f"0 scans older than 30 days deleted, archived in {archive}.\n"
    )
    assert_refused(cli.run("prune-scans", "--days", "1"), "greater than or equal to 2")
    cli.env["ADMIT_SCAN_HISTORY_DAYS"] = "1"
    assert_refused(cli.run("expire"), "ADMIT_SCAN_HISTORY_DAYS is 0 (keep every scan) or at least 2")


# --- settings --------------------------------------------------------------------------------------


def test_a_setting_out_of_range_is_named_in_its_refusal(cli: Cli) -> None:
    cli.env["ADMIT_EXPORT_DOWNLOADS"] = "0"
    result = cli.run("expire")
    assert_refused(
        result, "setting error: ADMIT_EXPORT_DOWNLOADS: Input should be greater than or equal to 1"
    )
    # A message that names its setting already is not given the name twice.
    cli.env["ADMIT_EXPORT_DOWNLOADS"] = "2"
    cli.env["ADMIT_SCAN_HISTORY_DAYS"] = "1"
    assert_refused(cli.run("expire"), "setting error: ADMIT_SCAN_HISTORY_DAYS is 0 (keep every scan)")


@pytest.mark.parametrize(
    ("command", "secret_key", "expected"),
    [
        (("serve", "--demo"), None, "ADMIT_SECRET_KEY must be set"),
        (("db", "upgrade"), "too-short", "ADMIT_SECRET_KEY must be at least 32 characters"),
    ],
    ids=["serve-without-key", "upgrade-with-short-key"],
)
def test_postgresql_without_a_usable_secret_key_is_refused_before_anything_starts(
    tmp_path: Path, command: tuple[str, ...], secret_key: str | None, expected: str
) -> None:
    # The database does not exist: connecting to it would fail differently, so the refusal comes first.
    env = _clean_environment() | {"DATABASE_URL": _pg_url_for("admit_cli_never_created")}
    if secret_key is not None:
        env["ADMIT_SECRET_KEY"] = secret_key
    result = Cli("postgresql", tmp_path, env, "").run_script(*command)  # before the process starts anything

    assert_refused(result, expected)
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_is_reported_in_one_clear_line(tmp_path: Path) -> None:
    env = _clean_environment() | {
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/admit",
        "ADMIT_SECRET_KEY": SECRET,
    }
    result = Cli("postgresql", tmp_path, env, "").run("db", "upgrade")

    assert_refused(result, "127.0.0.1")


# --- installation ----------------------------------------------------------------------------------


def _distribution(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_by_declared_dependencies() -> set[str]:
    """[project] dependencies and everything they pull in: what `pip install .` gives a new user."""
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pending = [Requirement(line) for line in declared]
    found: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = _distribution(requirement.name)
        if name in found:
            continue
        found.add(name)
        try:
            requires = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:
            continue
        extras = {"", *requirement.extras}
        for line in requires:
            needed = Requirement(line)
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras):
                pending.append(needed)
    return found


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level modules imported anywhere in src/admit, outside the standard library and admit itself."""
    imports: dict[str, set[str]] = {}
    for path in (ROOT / "src" / "admit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "admit" and top not in sys.stdlib_module_names:
                    imports.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return imports


def test_every_library_the_code_imports_is_installed_by_the_declared_dependencies() -> None:
    installed = _installed_by_declared_dependencies()
    providers = metadata.packages_distributions()
    missing = {
        module: sorted(files)
        for module, files in _third_party_imports().items()
        if not {_distribution(d) for d in providers.get(module, [])} & installed
    }

    assert missing == {}, "imported but not in pyproject.toml's [project] dependencies"
