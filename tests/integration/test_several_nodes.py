"""Two `admit serve` nodes on one new PostgreSQL database behind nginx with TLS, as deploy/nginx ships it.

Every request below goes over HTTPS through nginx, which shares them between the nodes; both nodes run
the e-mail sender (into a real SMTP server) and the expiry scheduler. Their clocks are pinned to
Thursday 20 November 2025, 09:00 in Amsterdam. Data the nodes cannot make (organizations, staff, and
reservations on a past day) is seeded through the same database with the application in-process.

The nodes share their rate limits through Redis and believe nginx's X-Forwarded-For (it connects
from 127.0.0.1): a client connecting to nginx from another loopback address (127.0.0.5) is known to
the nodes by that address.
"""

from __future__ import annotations

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
import redis
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.db.models import OutboxMessage, Reservation, ReservationSlot, TicketTransition
from admit.domain.lifecycle import ReservationStatus, TicketEvent
from admit.domain.mail import MailKind, MailStatus
from admit.domain.roles import Role
from admit.settings import Settings
from tests.builders import CONTACT, Builders
from tests.conftest import BACKENDS, DEFAULT_NOW, TEST_SECRET, redis_test_url
from tests.mail.conftest import SmtpServer
from tests.nodes import Cluster, free_port, fresh_postgresql, running_cluster
from tests.sse import events

pytestmark = pytest.mark.skipif("postgresql" not in BACKENDS, reason="several nodes share PostgreSQL")

TODAY = "2025-11-20"
PLACES, VISITORS = 40, 60
PIN = "246810"
WAIT = 60  # seconds: ceilings against a hang on a loaded machine, not costs
REDIS_URL = redis_test_url(1)
CODE_LOOKUPS = 20  # per client and minute, shared by the nodes through Redis
# Within a second, with room for a loaded machine: the nodes read the change counter every 0.5 s.
ACROSS_NODES = 3.0


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_limits() -> Iterator[str]:
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    yield REDIS_URL
    store.flushdb()


@pytest.fixture(scope="module")
def cluster(
    smtp: SmtpServer, shared_limits: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    limits = {
        "REDIS_URL": shared_limits,
        "ADMIT_TRUSTED_PROXIES": "127.0.0.1",
        "ADMIT_RATE_LIMIT_VALIDATION": f"{CODE_LOOKUPS}/minute",
    }
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
            env={**mail, **limits, "ADMIT_EXPIRY_INTERVAL_SECONDS": "0.5"},
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
        rate_limit_door_login="off",
        rate_limit_login="off",
        login_hashes_per_second=1000,  # it logs staff in back to back
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


def within_a_moment(check: Callable[[], bool]) -> float:
    """Seconds until `check` holds, polled; fails after ACROSS_NODES."""
    started = time.monotonic()
    while not check():
        waited = time.monotonic() - started
        assert waited < ACROSS_NODES, f"not seen by the other node within {ACROSS_NODES} s"
        time.sleep(0.05)
    return time.monotonic() - started


def door_verdict(node: str, token: dict[str, str], code: str) -> httpx.Response:
    return httpx.post(
        f"{node}/api/operator/validate-ticket",
        json={"code": code, "device_id": "lane-1"},
        headers=token,
        timeout=10,
    )


def test_a_policy_change_made_on_one_node_decides_the_other_nodes_door_at_once(
    cluster: Cluster, seed: Builders
) -> None:
    orq = seed.org("Botanic Garden")
    admin = seed.staff(orq, Role.ADMIN)
    door = seed.staff(orq, Role.OPERATOR)
    code = seed.ticket(orq, "ACTIVATED")  # no reservation: the policy decides
    first, second = (node.url for node in cluster.nodes)
    before = door_verdict(second, door.headers, code).json()  # the second node now holds the policy
    assert (before["result"], before["code"]) == ("RED", "NO_RESERVATION")

    changed = httpx.patch(
        f"{first}/api/organizations/{orq}/policy",
        json={"unreserved_entry": "allow"},
        headers=admin.headers,
        timeout=10,
    )
    assert changed.status_code == 200, changed.text

    within_a_moment(
        lambda: door_verdict(second, door.headers, code).json()["code"] == "NO_RESERVATION_ALLOWED"
    )
    after = door_verdict(second, door.headers, code).json()
    assert (after["result"], after["entry_allowed"]) == ("YELLOW", True)


def test_an_operator_disabled_on_one_node_is_refused_by_the_other_and_cannot_log_in_again(
    cluster: Cluster, seed: Builders
) -> None:
    orq = seed.org("Castle Keep")
    admin = seed.staff(orq, Role.ADMIN)
    door = seed.staff(orq, Role.OPERATOR, pin=PIN)
    code = seed.ticket(orq, "ACTIVATED")
    first, second = (node.url for node in cluster.nodes)
    assert door_verdict(second, door.headers, code).status_code == 200  # the second node knows the member

    disabled = httpx.post(f"{first}/api/operators/{door.id}/disable", headers=admin.headers, timeout=10)
    assert disabled.status_code == 200, disabled.text

    within_a_moment(lambda: door_verdict(second, door.headers, code).status_code == 401)
    with cluster.client() as http:
        again = http.post("/api/operator/login", json={"username": door.username, "pin": PIN})
        stranger = http.post("/api/operator/login", json={"username": "nobody-here", "pin": PIN})
    assert again.status_code == stranger.status_code == 401
    assert again.json() == stranger.json()


def from_address(cluster: Cluster, address: str) -> httpx.Client:
    """A client of nginx connecting from `address` (any 127.x.y.z is this machine)."""
    transport = httpx.HTTPTransport(local_address=address, verify=cluster.tls())
    return httpx.Client(base_url=cluster.url, transport=transport, timeout=30)


def test_code_look_ups_are_limited_per_real_client_across_both_nodes(
    cluster: Cluster, seed: Builders
) -> None:
    orq = seed.org("Science Centre")
    code = seed.ticket(orq, "ACTIVATED")
    served_before = node_counter(cluster, "admit_http_request_duration_seconds_count")

    with from_address(cluster, "127.0.0.5") as guesser, from_address(cluster, "127.0.0.6") as neighbour:
        answers = [guesser.get(f"/api/tickets/{code}/status").status_code for _ in range(CODE_LOOKUPS + 6)]
        # A forged header from the client changes nothing: nginx sets the address it saw.
        forged = guesser.get(f"/api/tickets/{code}/status", headers={"X-Forwarded-For": "203.0.113.9"})
        other = neighbour.get(f"/api/tickets/{code}/status")

    # One limit across both nodes: a limit per node would have let twice as many through.
    assert answers == [200] * CODE_LOOKUPS + [429] * 6
    assert forged.status_code == 429 and int(forged.headers["Retry-After"]) >= 1
    assert other.status_code == 200  # limits are keyed by the real client, not by nginx's address
    served = node_counter(cluster, "admit_http_request_duration_seconds_count")
    assert all(served[n] > served_before[n] for n in served), "nginx used one node only"


def test_the_live_dashboard_streams_through_the_proxy_and_ends_when_its_manager_is_disabled(
    cluster: Cluster, seed: Builders
) -> None:
    orq = seed.org("Lighthouse")
    admin, manager = seed.staff(orq, Role.ADMIN), seed.staff(orq, Role.MANAGER)
    door = seed.staff(orq, Role.OPERATOR)
    first, second = (node.url for node in cluster.nodes)
    url = "/api/operator/stats/stream"
    with cluster.client() as http, http.stream("GET", url, headers=manager.headers) as stream:
        # nginx would buffer the answer but for the stream's X-Accel-Buffering: no (which it keeps to itself).
        received = events(stream)  # each read waits 30 s at most (the client's timeout)
        name, stats = next(received)
        assert (name, stats["validated"]) == ("stats", 0)
        # Whichever node nginx chose for the stream, one of these scans is on the other.
        for node in (first, second):
            assert door_verdict(node, door.headers, "NOT-A-TICKET").status_code == 200
        while next(received)[1]["validated"] < 2:
            pass
        disable = f"{first}/api/operators/{manager.id}/disable"
        disabled = httpx.post(disable, headers=admin.headers, timeout=10)
        assert disabled.status_code == 200, disabled.text
        ends = [data for name, data in received if name == "end"]
    assert ends == [{"reason": "INVALID_TOKEN"}]
