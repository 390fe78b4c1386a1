"""Prometheus metrics: request latency per route, scans by result and reason, reservations by outcome."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Buckets around the door's target (well under a second) and the booking path's.
_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


SlotRow = tuple[int, str, str, int, int]  # orq, date, start, booked, capacity


class SlotUtilisation(Collector):
    """Booked share of each of today's slots (venue days), read from the database at scrape time."""

    def __init__(self, read_slots: Callable[[], Iterable[SlotRow]]) -> None:
        self.read_slots = read_slots

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            "admit_slot_utilisation_ratio",
            "Booked share of today's slots",
            labels=["orq", "date", "start_time"],
        )
        for orq, day, start, booked, capacity in self.read_slots():
            gauge.add_metric([str(orq), day, start], booked / capacity if capacity else 1.0)
        yield gauge


OutboxRow = tuple[int, float, int]  # messages waiting, oldest waiting one's age (s), messages given up


class OutboxDepth(Collector):
    """Whether e-mail is going out, read from the database at scrape time (all organizations as one)."""

    def __init__(self, read_outbox: Callable[[], OutboxRow]) -> None:
        self.read_outbox = read_outbox

    def collect(self) -> Iterable[Metric]:
        pending, oldest_age, failed = self.read_outbox()
        yield GaugeMetricFamily("admit_outbox_pending_messages", "E-mails waiting to be sent", value=pending)
        yield GaugeMetricFamily(
            "admit_outbox_oldest_pending_age_seconds",
            "Age of the oldest e-mail waiting to be sent (0 when none waits)",
            value=oldest_age,
        )
        yield GaugeMetricFamily(
            "admit_outbox_failed_messages", "E-mails given up, until a manager sends them again", value=failed
        )


class Metrics:
    def __init__(
        self,
        read_slots: Callable[[], Iterable[SlotRow]] | None = None,
        read_outbox: Callable[[], OutboxRow] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        if read_slots is not None:
            self.registry.register(SlotUtilisation(read_slots))
        if read_outbox is not None:
            self.registry.register(OutboxDepth(read_outbox))
        self.requests = Histogram(
            "admit_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.scans = Counter(
            "admit_scans_total",
            "Scans at the door by result and reason",
            ["result", "reason"],
            registry=self.registry,
        )
        self.reservations = Counter(
            "admit_reservations_total",
            "Reservation attempts by outcome (created, moved, cancelled, or the refusal's code)",
            ["outcome"],
            registry=self.registry,
        )

        self.expiry_passes = Counter(
            "admit_expiry_passes_total",
            "Scheduled expiry passes on this node (swept; skipped: another node was sweeping; failed)",
            ["outcome"],
            registry=self.registry,
        )
        self.expired = Counter(
            "admit_tickets_expired_total",
            "Tickets this node's scheduled expiry sweep wrote as EXPIRED",
            registry=self.registry,
        )

    def count_expiry(self, outcome: str, expired: int) -> None:
        self.expiry_passes.labels(outcome).inc()
        self.expired.inc(expired)

    def render(self, _request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class RequestTimer:
    """Time every request under its route template (never its concrete path: codes stay out)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
