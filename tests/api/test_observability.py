"""Health, readiness, Prometheus metrics and the stories' log events."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from pathlib import Path

import yaml
from fastapi.testclient import TestClient
from httpx2 import Response
from prometheus_client import generate_latest
from structlog.testing import capture_logs

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.domain.roles import Role
from admit.metrics import Metrics
from admit.services.sweeper import Outcome, run_sweeper
from admit.settings import Settings
from tests.builders import Builders

HISTOGRAM = ("bucket", "count", "sum")
ALERTS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_health_and_readiness(make: Builders) -> None:
    assert make.client.get("/healthz").json() == {"status": "ok"}
    ready = make.client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["database"] == make.context.engine.dialect.name


def scrape(make: Builders, host: str = "127.0.0.1", **headers: str) -> Response:
    """GET /metrics as a client at `host` (the test client's default address is not an IP)."""
    client = TestClient(make.client.app, client=(host, 50000))
    return client.get("/metrics", headers=headers)


def test_metrics_count_scans_reservations_requests_and_todays_slots(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00", capacity=2)
    make.slot(orq, day="2025-11-20", start="11:00", end="12:00", capacity=10)
    make.slot(orq, day="2025-11-21", start="10:00", end="11:00", capacity=10)  # tomorrow: not counted
    code, _ = make.reservation(orq, slot)
    operator = make.staff(orq, Role.OPERATOR)
    make.client.post("/api/operator/validate-ticket", json={"code": code}, headers=operator.headers)
    make.client.post("/api/operator/validate-ticket", json={"code": "nope"}, headers=operator.headers)
    make.reserve([make.ticket(orq, "INACTIVE")], slot)
    make.reservation(orq, slot)

    text = scrape(make).text
    assert metric(text, "admit_scans_total", result="GREEN", reason="VALID") == 1
    assert metric(text, "admit_scans_total", result="RED", reason="INVALID_TICKET") == 1
    assert metric(text, "admit_reservations_total", outcome="created") == 2
    assert metric(text, "admit_reservations_total", outcome="NOT_ACTIVATED") == 1
    assert metric(text, "admit_slots_today", fill="full") == 1
    assert metric(text, "admit_slots_today", fill="open") == 1
    assert metric(text, "admit_slot_places_booked_today") == 2
    assert metric(text, "admit_slot_places_today") == 12
    assert metric(text, "admit_metrics_collector_errors_total", collector="slots") == 0
    count = metric(
        text, "admit_http_request_duration_seconds_count", route="/api/operator/validate-ticket", status="200"
    )
    assert count == 2
    assert code not in text  # routes are templates: no ticket code ever reaches the metrics


def test_no_metric_names_an_organization_a_slot_a_ticket_or_a_person(make: Builders) -> None:
    for name in ("Museum", "Tower"):
        orq = make.org(name=name)
        slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00", capacity=3)
        code, reservation_id = make.reservation(orq, slot)
        operator = make.staff(orq, Role.OPERATOR)
        make.client.post("/api/operator/verify-ticket", json={"code": code}, headers=operator.headers)
        make.client.get(f"/api/reservations/{reservation_id}")
        make.client.get(f"/api/reservation-slots/available?orq={orq}")

    text = scrape(make).text
    labels = {name for name, _ in re.findall(r'(\w+)="([^"]*)"', text)}
    assert labels, "the scrape has labelled samples"
    assert not labels & {"orq", "org", "organization", "slot_id", "date", "start_time", "code", "ticket"}
    assert not {label for label in labels if label == "id" or label.endswith("_id")}
    assert code not in text
    assert reservation_id not in text


def test_metrics_without_a_token_are_served_to_this_machine_only(make: Builders) -> None:
    assert scrape(make, "127.0.0.1").status_code == 200
    assert scrape(make, "::1").status_code == 200
    remote = scrape(make, "203.0.113.7")
    assert remote.status_code == 403
    assert remote.json()["error"]["code"] == "FORBIDDEN"
    # A proxy on this machine relays everyone's requests from a local address: not ours to show.
    relayed = scrape(make, "127.0.0.1", **{"X-Forwarded-For": "203.0.113.7"})
    assert relayed.status_code == 403
    assert "admit_scans_total" not in relayed.text


def test_metrics_with_a_token_need_it_as_a_bearer_token(settings: Settings, clock: FrozenClock) -> None:
    token = "metrics-" + "z" * 32
    app = create_app(settings.model_copy(update={"metrics_token": token}), clock=clock)
    client = TestClient(app, client=("203.0.113.7", 50000))
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "NOT_AUTHENTICATED"
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "z" * 40})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "INVALID_TOKEN"
    local = TestClient(app, client=("127.0.0.1", 50000)).get("/metrics")
    assert local.status_code == 401  # with a token, it is needed from everywhere
    served = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert served.status_code == 200
    assert "admit_scans_total" in served.text
    context_of(app).engine.dispose()


def test_every_alert_rule_watches_a_metric_admit_serves_after_a_journey(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    code = make.ticket(orq, "INACTIVE")
    make.client.post(f"/api/tickets/{code}/activate")
    reservation_id = make.reserve([code], slot).json()["reservations"][0]["reservation_id"]
    make.client.get(f"/api/reservations/{reservation_id}")
    operator = make.staff(orq, Role.OPERATOR)
    make.client.post("/api/operator/verify-ticket", json={"code": code}, headers=operator.headers)

    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    # Names with a sample in the scrape, not merely declared: an alert on them can fire.
    served = set(re.findall(r"^(admit_\w+)(?:\{| )", scrape(make).text, re.MULTILINE))
    for rule in rules:
        used = set(re.findall(r"\b(admit_\w+|up)\b", rule["expr"]))
        assert used, rule["alert"]
        assert used <= served | {"up"}, (rule["alert"], used - served)
    alerts = {rule["alert"]: rule["expr"] for rule in rules}
    assert any(re.search(r"\bup\b.*== 0", expr) for expr in alerts.values()), "an alert on the target down"
    assert any("admit_metrics_collector_errors_total" in expr for expr in alerts.values())


def test_the_dashboard_beside_the_alert_rules_charts_metrics_admit_exports(make: Builders) -> None:
    dashboard = json.loads((ALERTS.parent / "grafana-dashboard.json").read_text())
    exported = set(re.findall(r"^# TYPE (\w+) (\w+)", scrape(make).text, re.MULTILINE))
    names = {name for name, _ in exported}
    names |= {f"{name}_{part}" for name, kind in exported if kind == "histogram" for part in HISTOGRAM}
    names |= {f"{name}_total" for name, kind in exported if kind == "counter"}
    charted = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(admit_\w+)\b", target["expr"])
    }
    assert charted <= names, charted - names
    alerted = set(re.findall(r"\b(admit_\w+)\b", ALERTS.read_text()))
    assert alerted <= charted, alerted - charted  # every figure an alert watches is on the dashboard


def test_the_stories_log_events_are_emitted_without_the_code(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    operator = make.staff(orq, Role.OPERATOR)
    inactive = make.ticket(orq, "INACTIVE")
    with capture_logs() as logs:
        make.client.post(f"/api/tickets/{inactive}/activate")
        make.client.post("/api/tickets/validate", json={"code": inactive})
        reservation_id = make.reserve([inactive], slot).json()["reservations"][0]["reservation_id"]
        make.reserve([inactive], slot)
        make.client.post("/api/operator/verify-ticket", json={"code": inactive}, headers=operator.headers)
        make.client.post("/api/operator/validate-ticket", json={"code": "nope"}, headers=operator.headers)
    events = [entry["event"] for entry in logs]
    for name in (
        "ticket.activation.success",
        "ticket.validated",
        "reservation.created",
        "reservation.failed",
        "validation.result",
        "scan.validation.success",
        "ticket.verified",
        "scan.validation.failure",
    ):
        assert name in events, name
    assert reservation_id
    assert all(inactive not in repr(entry) for entry in logs)


def test_slots_of_the_next_two_weeks_are_counted_per_day_ahead(make: Builders) -> None:
    orq = make.org()
    make.slot(orq, day="2025-11-20", start="10:00", end="11:00", capacity=10)  # today
    selling_out = make.slot(orq, day="2025-11-22", start="10:00", end="11:00", capacity=2)
    make.slot(orq, day="2025-11-22", start="11:00", end="12:00", capacity=8)
    make.slot(orq, day="2025-12-03", start="10:00", end="11:00", capacity=7)  # the 14th day
    make.slot(orq, day="2025-12-04", start="10:00", end="11:00", capacity=5)  # beyond: not counted
    codes = [make.ticket(orq, "ACTIVATED") for _ in range(2)]
    assert make.reserve(codes, selling_out).status_code == 201

    text = scrape(make).text
    assert metric(text, "admit_upcoming_slots", days_ahead="2", fill="full") == 1
    assert metric(text, "admit_upcoming_slots", days_ahead="2", fill="open") == 1
    assert metric(text, "admit_upcoming_places_booked", days_ahead="2") == 2
    assert metric(text, "admit_upcoming_places", days_ahead="2") == 10
    assert metric(text, "admit_upcoming_places", days_ahead="0") == 10
    assert metric(text, "admit_upcoming_places", days_ahead="13") == 7
    places = re.findall(r'^admit_upcoming_places\{days_ahead="(\d+)"\} (\S+)$', text, re.MULTILINE)
    assert [int(day) for day, _ in places] == list(range(14))  # one series per day ahead, no more
    assert sum(float(value) for _, value in places) == 27
    assert metric(text, "admit_slots_today", fill="open") == 1


def test_figures_read_from_the_database_are_served_again_for_a_few_seconds() -> None:
    reads: list[int] = []

    def read_slots() -> list[tuple[int, int, int]]:
        reads.append(1)
        if len(reads) == 1:
            raise RuntimeError("database away")
        return [(0, len(reads), 10)]

    metrics = Metrics(read_slots, fresh_for=60)
    failed = generate_latest(metrics.registry).decode()
    assert "admit_upcoming_places_booked" not in failed  # a failed read is not kept ...
    first = generate_latest(metrics.registry).decode()
    second = generate_latest(metrics.registry).decode()
    assert len(reads) == 2  # ... a good one is, for the next scrape
    assert metric(first, "admit_upcoming_places_booked", days_ahead="0") == 2
    assert metric(second, "admit_upcoming_places_booked", days_ahead="0") == 2
    uncached = Metrics(read_slots, fresh_for=0)
    generate_latest(uncached.registry)
    generate_latest(uncached.registry)
    assert len(reads) == 4


def test_activations_checks_moves_and_refused_changes_are_counted_by_outcome(make: Builders) -> None:
    orq = make.org()
    later, other = make.slot(orq, day="2025-11-22"), make.slot(orq, day="2025-11-23")
    inactive = make.ticket(orq, "INACTIVE")
    make.client.post("/api/tickets/validate", json={"code": inactive})
    make.client.post(f"/api/tickets/{inactive}/activate")
    make.client.post(f"/api/tickets/{inactive}/activate")
    make.client.post("/api/tickets/validate", json={"code": inactive})
    reservation_id = make.reserve([inactive], later).json()["reservations"][0]["reservation_id"]
    assert make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": other}).status_code == 200
    assert make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": 999999}).status_code == 404
    assert make.client.delete(f"/api/reservations/{reservation_id}").status_code == 200
    assert make.client.delete(f"/api/reservations/{reservation_id}").status_code == 409

    text = scrape(make).text
    assert metric(text, "admit_activations_total", outcome="activated") == 1
    assert metric(text, "admit_activations_total", outcome="refused", reason="ALREADY_ACTIVATED") == 1
    assert metric(text, "admit_ticket_validations_total", outcome="refused", reason="NOT_ACTIVATED") == 1
    assert metric(text, "admit_ticket_validations_total", outcome="valid") == 1
    assert metric(text, "admit_reservations_total", outcome="moved") == 1
    assert metric(text, "admit_reservations_total", outcome="cancelled") == 1
    assert (
        metric(text, "admit_reservation_changes_refused_total", change="move", reason="SLOT_NOT_FOUND") == 1
    )
    assert metric(text, "admit_reservation_changes_refused_total", change="cancel") == 1


def test_no_shows_are_counted_once_when_the_entry_window_closes(make: Builders, clock: FrozenClock) -> None:
    orq = make.org()
    today = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    make.reservation(orq, today)  # nobody comes
    came, _ = make.reservation(orq, today)
    operator = make.staff(orq, Role.OPERATOR)
    make.client.post("/api/operator/verify-ticket", json={"code": came}, headers=operator.headers)
    make.order(orq, valid_until="2025-11-20")  # a validity that passes: expired, but no reservation missed
    context = make.context
    rounds = 0

    def counted(outcome: Outcome, expired: int) -> None:
        nonlocal rounds
        context.metrics.count_expiry(outcome, expired)
        rounds += 1
        if rounds == 2:
            stop.set()

    stop = threading.Event()
    clock.advance(timedelta(days=1))
    run_sweeper(sessions=context.sessions, clock=clock, stop=stop, interval=0, counted=counted)

    text = scrape(make).text
    assert metric(text, "admit_tickets_expired_total") == 2
    assert metric(text, "admit_no_shows_total") == 1  # the second round found nothing more
