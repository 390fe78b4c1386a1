"""Two `admit serve` nodes on one new PostgreSQL database behind nginx with TLS, as deploy/nginx ships it.

Every request below goes over HTTPS through nginx, which shares them between the nodes; both nodes run
the e-mail sender (into a real SMTP server) and the expiry scheduler. Their clocks are pinned to
Thursday 20 November 2025, 09:00 in Amsterdam. Data the nodes cannot make (organizations, staff, and
reservations on a past day) is seeded through the same database with the application in-process.

To prove more across nodes (a policy change or a disabled operator seen by the other node, limits
shared through Redis), start a cluster with the environment it needs: `running_cluster(env=…, nodes=…)`.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect, sync_playwright
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.db.models import OutboxMessage, Reservation, ReservationSlot, TicketTransition
from admit.domain.lifecycle import ReservationStatus, TicketEvent
from admit.domain.mail import MailKind, MailStatus
from admit.domain.roles import Role
from admit.settings import Settings
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.builders import CONTACT, Builders
from tests.conftest import BACKENDS, DEFAULT_NOW, TEST_SECRET
from tests.mail.conftest import SmtpServer
from tests.nodes import Cluster, free_port, fresh_postgresql, running_cluster

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="several nodes share PostgreSQL")

TODAY = "2025-11-20"
PLACES, VISITORS = 40, 60
PIN = "246810"
WAIT = 60  # seconds: ceilings against a hang on a loaded machine, not costs


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster(smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    mail = {
        "ADMIT_SMTP_HOST": "127.0.0.1",
        "ADMIT_SMTP_PORT": str(smtp.port),
        "ADMIT_SMTP_STARTTLS": "false",
        "ADMIT_MAIL_FROM": "City Museum <tickets@museum.example>",
    }
    with (
        fresh_postgresql() as database_url,
        running_cluster(
            database_url=database_url,
            workdir=tmp_path_factory.mktemp("cluster"),
            env={**mail, "ADMIT_EXPIRY_INTERVAL_SECONDS": "0.5"},
        ) as started,
    ):
        yield started


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT} s: {what}"
        time.sleep(0.2)


@contextmanager
def seeder(cluster: Cluster, data_dir: Path, clock: FrozenClock) -> Iterator[Builders]:
    """Builders on the application in-process, on the cluster's database, with its own clock."""
    settings = Settings(
        database_url=cluster.database_url,
        secret_key=TEST_SECRET,
        data_dir=data_dir,
        rate_limit_reservations="off",
        rate_limit_validation="off",
    )
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield Builders(client=client, context=context_of(app))
    context_of(app).engine.dispose()


@pytest.fixture(scope="module")
def seed(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builders]:
    with seeder(cluster, tmp_path_factory.mktemp("seed"), FrozenClock(DEFAULT_NOW)) as builders:
        yield builders


@dataclass
class Race:
    orq: int
    slot_id: int
    answers: list[httpx.Response]

    def created(self) -> list[str]:
        return [a.json()["reservations"][0]["reservation_id"] for a in self.answers if a.status_code == 201]


@pytest.fixture(scope="module")
def race(cluster: Cluster, seed: Builders) -> Race:
    """60 visitors book one of 40 places at the same moment, each on a connection of their own."""
    orq = seed.org("City Museum")
    slot_id = seed.slot(orq, day=TODAY, start="10:00", end="11:00", capacity=PLACES)
    codes = [t["code"] for t in seed.order(orq, quantity=VISITORS, mode="immediate")["tickets"]]
    start = threading.Barrier(VISITORS)

    def book(code: str) -> httpx.Response:
        with cluster.client() as http:
            http.get("/healthz")  # connect and shake hands first, so that the bookings leave together
            start.wait(timeout=WAIT)
            body = {"ticket_code": code, "slot_id": slot_id, **CONTACT}
            return http.post("/api/reservations/create", json=body)

    with ThreadPoolExecutor(max_workers=VISITORS) as pool:
        answers = list(pool.map(book, codes))
    return Race(orq, slot_id, answers)


def node_counter(cluster: Cluster, name: str, **labels: str) -> dict[str, float]:
    """A counter's value on each node, read from the node itself (not through nginx)."""
    values = {}
    for node in cluster.nodes:
        families = text_string_to_metric_families(httpx.get(f"{node.url}/metrics", timeout=10).text)
        values[node.name] = sum(
            sample.value
            for family in families
            for sample in family.samples
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
        )
    return values


def test_bookings_racing_across_nodes_fill_the_slot_exactly_and_the_rest_are_slot_full(
    cluster: Cluster, seed: Builders, race: Race
) -> None:
    outcomes = Counter(
        (a.status_code, "CREATED" if a.status_code == 201 else a.json()["error"]["code"])
        for a in race.answers
    )

    assert outcomes == {(201, "CREATED"): PLACES, (409, "SLOT_FULL"): VISITORS - PLACES}
    assert seed.slot_counts(race.slot_id) == (PLACES, PLACES, "FULL")
    created = node_counter(cluster, "admit_reservations_total", outcome="created")
    refused = node_counter(cluster, "admit_reservations_total", outcome="SLOT_FULL")
    assert sum(created.values()) == PLACES and sum(refused.values()) == VISITORS - PLACES
    assert all(created[n] + refused[n] > 0 for n in created), f"nginx used one node only: {created}"


def test_each_confirmation_is_delivered_exactly_once_though_both_nodes_send_mail(
    cluster: Cluster, seed: Builders, race: Race, smtp: SmtpServer
) -> None:
    reservations = race.created()
    assert len(reservations) == PLACES

    def outbox() -> list[tuple[str | None, MailKind, MailStatus, int]]:
        with seed.context.sessions() as session, session.begin():
            rows = session.execute(
                select(
                    OutboxMessage.reservation_id,
                    OutboxMessage.kind,
                    OutboxMessage.status,
                    OutboxMessage.attempts,
                ).where(OutboxMessage.reservation_id.in_(reservations))
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]

    wait_until(
        lambda: len([r for r in outbox() if r[2] is MailStatus.SENT]) == PLACES,
        "every confirmation sent",
    )

    # Claimed once each (a second claim would count a second attempt), so no late second copy can come.
    assert sorted(outbox()) == sorted(
        (rid, MailKind.CONFIRMATION, MailStatus.SENT, 1) for rid in reservations
    )
    texts = [str(message) for message in list(smtp.inbox.messages)]
    received = Counter(rid for text in texts for rid in reservations if f"/reserve/{rid}" in text)
    assert received == dict.fromkeys(reservations, 1)
    assert all(str(m["To"]) == CONTACT["customer_email"] for m in smtp.inbox.messages)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: scripts/system-packages installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set ADMIT_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.mark.browser
def test_the_scanner_page_over_https_logs_in_and_shows_green_for_a_reserved_ticket(
    cluster: Cluster, seed: Builders, browser: Browser
) -> None:
    orq = seed.org("Harbour Tours")
    door = seed.staff(orq, Role.OPERATOR, pin=PIN)
    slot_id = seed.slot(orq, day=TODAY, start="12:00", end="13:00", capacity=5)
    code = seed.ticket(orq, "ACTIVATED")
    with cluster.client() as http:
        body = {"ticket_code": code, "slot_id": slot_id, **CONTACT}
        booked = http.post("/api/reservations/create", json=body)
        assert booked.status_code == 201, booked.text

    context = browser.new_context(base_url=cluster.url, ignore_https_errors=True, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/operator")
        page.get_by_label("Username").fill(door.username)
        page.get_by_role("radio", name="PIN").check()
        page.locator("#login-secret").fill(PIN)
        page.get_by_role("button", name="Log in").click()
        page.locator("input[name=code]").fill(code)
        page.get_by_role("button", name="Check").click()

        expect(page.locator("#verdict")).to_have_attribute("data-result", "GREEN", timeout=15_000)
        assert page.url.startswith("https://")
    finally:
        context.close()


def test_reservations_past_their_day_are_expired_once_by_one_of_the_nodes(
    cluster: Cluster, tmp_path: Path
) -> None:
    wednesday = FrozenClock(DEFAULT_NOW - timedelta(days=1))
    with seeder(cluster, tmp_path, wednesday) as past:  # booked on Wednesday: closed by the nodes' Thursday
        orq = past.org("Old Town Walks")
        slot_id = past.slot(orq, day="2025-11-19", capacity=30)
        codes = [t["code"] for t in past.order(orq, quantity=30, mode="immediate")["tickets"]]
        answer = past.reserve(codes, slot_id)
        assert answer.status_code == 201, answer.text

        def expired_per_ticket() -> Counter[int]:
            with past.context.sessions() as session, session.begin():
                rows = session.scalars(
                    select(TicketTransition.ticket_id).where(
                        TicketTransition.orq == orq, TicketTransition.event == TicketEvent.EXPIRE
                    )
                )
                return Counter(rows)

        wait_until(lambda: len(expired_per_ticket()) == len(codes), "every ticket expired")

        assert sorted(expired_per_ticket().values()) == [1] * len(codes)
        with past.context.sessions() as session, session.begin():
            statuses = session.scalars(select(Reservation.status).where(Reservation.orq == orq)).all()
            booked = session.get_one(ReservationSlot, slot_id).booked_count
    assert statuses == [ReservationStatus.EXPIRED] * len(codes)
    assert booked == len(codes)  # an expired visit keeps its place in a slot that is over
    assert sum(node_counter(cluster, "admit_tickets_expired_total").values()) == len(codes)
