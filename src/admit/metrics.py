"""Prometheus metrics: request latency per route, scans by result and reason, reservations by outcome.

No label names an organization, a slot, a ticket or a person: whoever may read the metrics sees
figures for the whole service only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait

import anyio
import structlog
from anyio import to_thread
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger()

# Buckets around the door's target (well under a second) and the booking path's.
_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# A collector that reads the database gets this long at each scrape, in seconds; the scrape goes on
# without its figures after that.
COLLECT_WITHIN = 2.0
# A slot this share booked (but not full) counts as nearly full.
NEARLY_FULL = 0.9

SlotFill = tuple[int, int]  # booked, capacity of one of today's slots


class TodaysSlots(Collector):
    """Today's slots (each venue's today) as totals across organizations, read at scrape time."""

    def __init__(self, read_slots: Callable[[], Iterable[SlotFill]]) -> None:
        self.read_slots = read_slots

    def collect(self) -> Iterable[Metric]:
        slots = {"open": 0, "nearly_full": 0, "full": 0}
        booked = capacity = 0
        for slot_booked, slot_capacity in self.read_slots():
            booked += slot_booked
            capacity += slot_capacity
            if slot_booked >= slot_capacity:
                slots["full"] += 1
            elif slot_booked >= NEARLY_FULL * slot_capacity:
                slots["nearly_full"] += 1
            else:
                slots["open"] += 1
        by_fill = GaugeMetricFamily("admit_slots_today", "Today's slots by how full", labels=["fill"])
        for fill, count in slots.items():
            by_fill.add_metric([fill], count)
        yield by_fill
        yield GaugeMetricFamily("admit_slot_places_booked_today", "Places booked in today's slots", booked)
        yield GaugeMetricFamily("admit_slot_places_today", "Places (capacity) of today's slots", capacity)


class Watched(Collector):
    """Collectors that read another system (the database), bounded together; failures counted.

    Each runs on a thread of its own, all at once, and the scrape waits for them `within` seconds at
    most: one that fails or is still reading by then is left out of this scrape and counted.
    """

    def __init__(self, *, within: float) -> None:
        self.within = within
        self.collectors: dict[str, Collector] = {}
        self.errors = Counter(
            "admit_metrics_collector_errors_total",
            "Scrapes that went without a collector's figures because it failed or was too slow",
            ["collector"],
            registry=None,
        )
        self._threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="metrics")

    def add(self, name: str, collector: Collector) -> None:
        self.collectors[name] = collector
        self.errors.labels(name)  # shown as 0 from the start, so that an alert sees the first error

    def collect(self) -> Iterable[Metric]:
        futures = {
            name: self._threads.submit(_read, collector) for name, collector in self.collectors.items()
        }
        wait(futures.values(), timeout=self.within)
        for name, future in futures.items():
            try:
                yield from future.result(timeout=0)
            except Exception as exc:  # too slow, or whatever its system raised: the scrape goes on
                future.cancel()
                log.warning("metrics.collector_failed", collector=name, error=type(exc).__name__)
                self.errors.labels(name).inc()
        yield from self.errors.collect()


def _read(collector: Collector) -> list[Metric]:
    return list(collector.collect())


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
        read_slots: Callable[[], Iterable[SlotFill]] | None = None,
        read_outbox: Callable[[], OutboxRow] | None = None,
        *,
        within: float = COLLECT_WITHIN,
    ) -> None:
        self.registry = CollectorRegistry()
        self.watched = Watched(within=within)
        self.registry.register(self.watched)
        self._limiter: anyio.CapacityLimiter | None = None
        if read_slots is not None:
            self.watch("slots_today", TodaysSlots(read_slots))
        if read_outbox is not None:
            self.watch("outbox", OutboxDepth(read_outbox))
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
        self.synced_scans = Counter(
            "admit_synced_scans_total",
            "Scans decided offline and sent later, by outcome (applied, duplicate, conflict, refused)",
            ["outcome"],
            registry=self.registry,
        )
        self.conflicts = Counter(
            "admit_scan_conflicts_total",
            "Second entries on one ticket found when offline scans were synced",
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

    def watch(self, name: str, collector: Collector) -> None:
        """Add a collector that reads another system: bounded at each scrape, its failures counted."""
        self.watched.add(name, collector)

    async def render(self) -> Response:
        """The scrape, made off the request threads: it answers while they wait on a hung database."""
        self._limiter = self._limiter or anyio.CapacityLimiter(1)
        body = await to_thread.run_sync(generate_latest, self.registry, limiter=self._limiter)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


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
