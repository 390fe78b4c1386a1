"""Browser tests: a real Admit server per test module and headless Chromium driving the pages.

The server is `uvicorn admit.app:create_app --factory` in a subprocess, on the run's test database
(so these tests run on SQLite and on PostgreSQL like the others), with the clock pinned to the stories'
reference day (Thursday 20 November 2025, 09:00 in Amsterdam) and rate limits off. Tests seed data
through the same database: organizations and staff with the service layer (there is no API for them),
everything else over HTTP, as the venue's own software would.

Chromium is Debian's (`/usr/bin/chromium`, installed by scripts/test); Playwright never downloads a browser
of its own here. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy import create_engine, text

from admit.clock import FrozenClock
from admit.context import AppContext, build_context
from admit.db.models import Base
from admit.domain.roles import Role
from admit.services.operators import create_operator
from admit.services.organizations import create_organization
from admit.settings import Settings
from tests.conftest import DEFAULT_NOW, TEST_SECRET
from tests.mail.conftest import smtp  # noqa: F401  (a real SMTP server, shared with the mail tests)
from tests.nodes import free_port

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
PASSWORD = "correct horse battery"
PIN = "246810"
CONTACT = {"customer_email": "visitor@example.com", "customer_phone": "+31 20 123 4567"}
TODAY = "2025-11-20"

expect.set_options(timeout=10_000)


def hours(start: str, end: str) -> str:
    """A slot's time range as the pages write it, with an en dash between the two times."""
    return f"{start}\u2013{end}"


def _empty(database_url: str) -> None:
    engine = create_engine(database_url)
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
    engine.dispose()


@dataclass
class Server:
    base_url: str
    database_url: str
    backend: str
    log: Path  # what the server writes: its own log lines and the HTTP server's


def log_events(server: Server, event: str) -> list[dict[str, Any]]:
    """The server's log lines of `event` so far, for a module whose server logs JSON lines
    (`server_env` giving ADMIT_LOG_FORMAT=json)."""
    lines = (json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{"))
    return [line for line in lines if line.get("event") == event]


@pytest.fixture(scope="module")
def server_now(request: pytest.FixtureRequest) -> datetime:
    """The pinned clock of the module's server: a module may set its own `SERVER_NOW`."""
    now: datetime = getattr(request.module, "SERVER_NOW", DEFAULT_NOW)
    return now


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    server_now: datetime,
) -> Iterator[Server]:
    """A real Admit on a free port, on an emptied test database, for one test module.

    Its log is kept in test-artifacts/server-logs/<module>-<backend>.log.
    """
    _empty(database_url)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path_factory.mktemp("server-data")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ADMIT_SECRET_KEY": TEST_SECRET,
        "ADMIT_FROZEN_NOW": server_now.isoformat(),
        "ADMIT_RATE_LIMIT_RESERVATIONS": "off",
        "ADMIT_RATE_LIMIT_VALIDATION": "off",
        "ADMIT_RATE_LIMIT_LOGIN": "off",
        "ADMIT_LOGIN_HASHES_PER_SECOND": "1000",
        "ADMIT_DATA_DIR": str(data_dir),
        "ADMIT_PUBLIC_URL": base_url,
    }
    env.pop("REDIS_URL", None)
    # A module may start its server with settings of its own: `server_env(data_dir)` gives them.
    env.update(getattr(request.module, "server_env", lambda _: {})(data_dir))
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    module = request.module.__name__.rsplit(".", 1)[-1]
    log_path = ARTIFACTS.parent / "server-logs" / f"{module}-{backend}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "admit.app:create_app", "--factory"),
                *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_ready(base_url, process, log_path)
            yield Server(base_url, database_url, backend, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped at start:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not become ready:\n{log_path.read_text()[-3000:]}")


@dataclass
class StaffLogin:
    id: int
    orq: int
    username: str
    name: str
    role: Role
    headers: dict[str, str]


@dataclass
class Seed:
    """Data for one test, made through the server's own database and API."""

    server: Server
    context: AppContext
    http: httpx.Client
    _admins: dict[int, StaffLogin] = field(default_factory=dict)

    def org(self, name: str = "City Museum", timezone: str = "Europe/Amsterdam", **policy: Any) -> int:
        with self.context.sessions() as session:
            orq = create_organization(session, name=name, timezone=timezone, now=self.context.clock.now()).id
        if policy:
            self.call("PATCH", f"/api/organizations/{orq}/policy", self.admin(orq), json=policy)
        return orq

    def staff(self, orq: int, role: Role = Role.OPERATOR, name: str | None = None) -> StaffLogin:
        """A staff account: operators log in with a PIN, the others with a password (one Argon2 hash each)."""
        username = f"{role.value}-{secrets.token_hex(3)}"
        name = name or f"Staff {username}"
        pin = PIN if role is Role.OPERATOR else None
        with self.context.sessions() as session:
            operator = create_operator(
                session,
                orq=orq,
                username=username,
                name=name,
                role=role,
                password=None if pin else PASSWORD,
                pin=pin,
                now=self.context.clock.now(),
            )
        now = self.context.clock.now()
        token, _ = self.context.tokens.issue(operator_id=operator.id, orq=orq, role=role, now=now)
        return StaffLogin(operator.id, orq, username, name, role, {"Authorization": f"Bearer {token}"})

    def admin(self, orq: int) -> StaffLogin:
        if orq not in self._admins:
            self._admins[orq] = self.staff(orq, Role.ADMIN, name="Alex Admin")
        return self._admins[orq]

    def call(self, method: str, path: str, staff: StaffLogin | None = None, **kwargs: Any) -> Any:
        response = self.http.request(method, path, headers=staff.headers if staff else None, **kwargs)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def tickets(self, orq: int, quantity: int = 1, mode: str = "immediate") -> list[str]:
        body = {"orq": orq, "quantity": quantity, "activation_mode": mode, "paid": True}
        order = self.call("POST", "/api/orders", self.admin(orq), json=body)
        return [ticket["code"] for ticket in order["tickets"]]

    def slot(
        self, orq: int, day: str = TODAY, start: str = "10:00", end: str = "11:00", capacity: int = 200
    ) -> int:
        body = {"orq": orq, "date": day, "start_time": start, "end_time": end, "total_capacity": capacity}
        created = self.call("POST", "/api/reservation-slots/create", self.admin(orq), json=body)
        return int(created["slots"][0]["slot_id"])

    def reserve(self, codes: list[str], slot_id: int) -> list[dict[str, Any]]:
        body = {"ticket_codes": codes, "slot_id": slot_id, **CONTACT}
        reservations: list[dict[str, Any]] = self.call("POST", "/api/reservations", json=body)["reservations"]
        return reservations

    def book(self, orq: int, places: int, slot_id: int) -> None:
        """Take `places` in a slot with tickets of a fresh order (in batches the API accepts)."""
        codes = self.tickets(orq, places)
        for first in range(0, places, 50):
            self.reserve(codes[first : first + 50], slot_id)

    def reserved(self, orq: int, slot_id: int) -> tuple[str, str]:
        """(code, reservation id) of a fresh ticket booked into the slot."""
        code = self.tickets(orq)[0]
        return code, str(self.reserve([code], slot_id)[0]["reservation_id"])

    def expired_token(self, staff: StaffLogin) -> str:
        """A token that this server signed nine hours ago: expired an hour ago by its clock."""
        token, _ = self.context.tokens.issue(
            operator_id=staff.id,
            orq=staff.orq,
            role=staff.role,
            now=self.context.clock.now() - timedelta(hours=9),
        )
        return token


@pytest.fixture(scope="module")
def seed(server: Server, tmp_path_factory: pytest.TempPathFactory, server_now: datetime) -> Iterator[Seed]:
    """One per module, like the server: organizations and staff made once can serve several tests."""
    settings = Settings(
        database_url=server.database_url,
        secret_key=TEST_SECRET,
        data_dir=tmp_path_factory.mktemp("seed-data"),
        rate_limit_reservations="off",
        rate_limit_validation="off",
    )
    context = build_context(settings, FrozenClock(server_now))
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        yield Seed(server, context, http)
    context.engine.dispose()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def new_context(browser: Browser, server: Server, viewport: str) -> BrowserContext:
    # The browser's own clock in UTC whatever the machine's zone: a venue far from it has another day.
    context = browser.new_context(
        base_url=server.base_url, locale="en-GB", timezone_id="UTC", **VIEWPORTS[viewport]
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def page(browser: Browser, server: Server, viewport: str) -> Iterator[Page]:
    """A fresh browser profile per test, so no login or device id leaks between tests."""
    context = new_context(browser, server, viewport)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    refused: list[str] = []  # what the Content-Security-Policy blocked: the pages must need none of it
    opened.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    yield opened
    context.close()
    assert not errors, f"the page's scripts failed: {errors}"
    assert not refused, f"the Content-Security-Policy refused: {refused}"


Shot = Callable[[Page, str], Path]


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """Save a screenshot as a test artifact: test-artifacts/screenshots/<test and params>-<name>.png."""
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_")).strip("-")

    def take(target: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{test}-{name}.png"
        target.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return take


@dataclass
class Venue:
    orq: int
    door: StaffLogin
    today: int
    tomorrow: int


@pytest.fixture(scope="module")
def venue(seed: Seed) -> Venue:
    """One organization, its door operator and two slots for the module (staff accounts are slow to hash)."""
    orq = seed.org()
    return Venue(
        orq,
        seed.staff(orq, Role.OPERATOR, name="Jane Smith"),
        today=seed.slot(orq, day=TODAY, start="10:00", end="12:00"),
        tomorrow=seed.slot(orq, day="2025-11-21", start="14:00", end="15:00"),
    )


def scan(page: Page, code: str) -> None:
    page.locator("input[name=code]").fill(code)
    page.get_by_role("button", name="Check").click()


def check_only(page: Page) -> None:
    """The door in its two-step mode, which the device remembers: check a ticket, then Mark as Verified."""
    page.get_by_label("Admit on scan").uncheck()


def staff_login(page: Page, staff: StaffLogin) -> None:
    """Log in through the shared staff form: operators with their PIN, the others with a password."""
    page.get_by_label("Username").fill(staff.username)
    pin = staff.role is Role.OPERATOR
    if pin:
        page.get_by_role("radio", name="PIN").check()
    page.locator("#login-secret").fill(PIN if pin else PASSWORD)
    page.get_by_role("button", name="Log in").click()


def docs_shot(page: Page, server: Server, name: str, top: Locator | None = None) -> None:
    """With ADMIT_DOCS_SCREENSHOTS=1, refresh the README's picture docs/screenshots/<name>.png.

    One screen's worth (not the full page), from the SQLite run only, so the committed files stay small;
    `top`: a part further down the page, scrolled to the top of the screen first.
    """
    if os.environ.get("ADMIT_DOCS_SCREENSHOTS") == "1" and server.backend == "sqlite":
        docs = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        if top is not None:
            top.evaluate("node => node.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(docs / f"{name}.png"), animations="disabled")
