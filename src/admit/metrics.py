"""Prometheus metrics: request latency per route; activations, checks, scans and reservations by
outcome; no-shows; slots of the next two weeks by day; the outbox.

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

# Slots are watched this many days ahead (each venue's today and the 13 after it): a day selling out
# shows before it comes. One label value per day ahead, so the series stay bounded.
DAYS_AHEAD = 14
# Figures read from the database are served again for this long (seconds): several scrapers, or a
# scraper retrying, do not each read the database.
FRESH_FOR = 5.0

SlotFill = tuple[int, int, int]  # days ahead (0 = the venue's today), booked, capacity of one slot
_FILLS = ("open", "nearly_full", "full")


def _fill(booked: int, capacity: int) -> str:
    if booked >= capacity:
        return "full"
    return "nearly_full" if booked >= NEARLY_FULL * capacity else "open"


class UpcomingSlots(Collector):
    """Slots of the next DAYS_AHEAD days (each venue's days) as totals per day across organizations."""

    def __init__(self, read_slots: Callable[[], Iterable[SlotFill]]) -> None:
        self.read_slots = read_slots

    def collect(self) -> Iterable[Metric]:
        slots = {(ahead, fill): 0 for ahead in range(DAYS_AHEAD) for fill in _FILLS}
        booked = dict.fromkeys(range(DAYS_AHEAD), 0)
        places = dict.fromkeys(range(DAYS_AHEAD), 0)
        for ahead, slot_booked, slot_capacity in self.read_slots():
            slots[ahead, _fill(slot_booked, slot_capacity)] += 1
            booked[ahead] += slot_booked
            places[ahead] += slot_capacity
        by_fill = GaugeMetricFamily("admit_slots_today", "Today's slots by how full", labels=["fill"])
        for fill in _FILLS:
            by_fill.add_metric([fill], slots[0, fill])
        yield by_fill
        yield GaugeMetricFamily("admit_slot_places_booked_today", "Places booked in today's slots", booked[0])
        yield GaugeMetricFamily("admit_slot_places_today", "Places (capacity) of today's slots", places[0])
        ahead_fill = GaugeMetricFamily(
            "admit_upcoming_slots",
            "Slots by days ahead (0 = today) and how full, for the next 14 days",
            labels=["days_ahead", "fill"],
        )
        ahead_booked = GaugeMetricFamily(
            "admit_upcoming_places_booked", "Places booked by days ahead (0 = today)", labels=["days_ahead"]
        )
        ahead_places = GaugeMetricFamily(
            "admit_upcoming_places", "Places (capacity) by days ahead (0 = today)", labels=["days_ahead"]
        )
        for ahead in range(DAYS_AHEAD):
            for fill in _FILLS:
                ahead_fill.add_metric([str(ahead), fill], slots[ahead, fill])
            ahead_booked.add_metric([str(ahead)], booked[ahead])
            ahead_places.add_metric([str(ahead)], places[ahead])
        yield from (ahead_fill, ahead_booked, ahead_places)


class Fresh(Collector):
    """A collector's last figures, served again for `seconds`; a failed read is not kept."""

    def __init__(self, collector: Collector, *, seconds: float) -> None:
        self.collector = collector
        self.seconds = seconds
        self._kept: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterable[Metric]:
        now = time.monotonic()
        if self._kept is not None and now - self._kept[0] < self.seconds:
            return self._kept[1]
        metrics = list(self.collector.collect())
        self._kept = (now, metrics)
        return metrics


class Watched(Collector):
    """Collectors that read another system (the database), bounded together; failures counted.

    Each runs on a thread of its own, all at once, and the scrape waits for them `within` seconds at
    most: one that fails or is still reading by then is left out of this scrape and counted.
    """

    def __init__(self, *, within: float, fresh_for: float = FRESH_FOR) -> None:
        self.within = within
        self.fresh_for = fresh_for
        self.collectors: dict[str, Collector] = {}
        self.errors = Counter(
            "admit_metrics_collector_errors_total",
            "Scrapes that went without a collector's figures because it failed or was too slow",
            ["collector"],
            registry=None,
        )
        self._threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="metrics")

    def add(self, name: str, collector: Collector) -> None:
        self.collectors[name] = Fresh(collector, seconds=self.fresh_for) if self.fresh_for else collector
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
        fresh_for: float = FRESH_FOR,
    ) -> None:
        self.registry = CollectorRegistry()
        self.watched = Watched(within=within, fresh_for=fresh_for)
        self.registry.register(self.watched)
        self._limiter: anyio.CapacityLimiter | None = None
        if read_slots is not None:
            self.watch("slots", UpcomingSlots(read_slots))
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
        self.refused_changes = Counter(
            "admit_reservation_changes_refused_total",
            "Moves and cancellations refused, by change (move, cancel) and the refusal's code",
            ["change", "reason"],
            registry=self.registry,
        )
        self.activations = Counter(
            "admit_activations_total",
            "Ticket activations by outcome (activated, refused, error) and reason (the refusal's code)",
            ["outcome", "reason"],
            registry=self.registry,
        )
        self.validations = Counter(
            "admit_ticket_validations_total",
            "Holders' checks of a code before booking, by outcome (valid, refused, error) and reason",
            ["outcome", "reason"],
            registry=self.registry,
        )
        self.no_shows = Counter(
            "admit_no_shows_total",
            "Reservations whose entry window closed without a scan (counted once, by the expiry sweep)",
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
        # A pass's count carries its no-shows (services.expiry.Expired); a plain number has none.
        self.no_shows.inc(getattr(expired, "no_shows", 0))

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
