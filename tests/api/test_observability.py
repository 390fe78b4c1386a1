"""Health, readiness, Prometheus metrics and the stories' log events."""

from __future__ import annotations

import re

from structlog.testing import capture_logs

from admit.domain.roles import Role
from tests.builders import Builders


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


def test_metrics_count_scans_reservations_requests_and_slot_utilisation(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00", capacity=2)
    code, _ = make.reservation(orq, slot)
    operator = make.staff(orq, Role.OPERATOR)
    make.client.post("/api/operator/validate-ticket", json={"code": code}, headers=operator.headers)
    make.client.post("/api/operator/validate-ticket", json={"code": "nope"}, headers=operator.headers)
    make.reserve([make.ticket(orq, "INACTIVE")], slot)

    text = make.client.get("/metrics").text
    assert metric(text, "admit_scans_total", result="GREEN", reason="VALID") == 1
    assert metric(text, "admit_scans_total", result="RED", reason="INVALID_TICKET") == 1
    assert metric(text, "admit_reservations_total", outcome="created") == 1
    assert metric(text, "admit_reservations_total", outcome="NOT_ACTIVATED") == 1
    assert (
        metric(text, "admit_slot_utilisation_ratio", orq=str(orq), date="2025-11-20", start_time="10:00")
        == 0.5
    )
    count = metric(
        text, "admit_http_request_duration_seconds_count", route="/api/operator/validate-ticket", status="200"
    )
    assert count == 2
    assert code not in text  # routes are templates: no ticket code ever reaches the metrics


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
