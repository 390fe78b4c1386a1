"""What the application holds for its lifetime: settings, clock, database, keys."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from admit.cache import Answers, Cached, SharedFacts
from admit.clock import Clock, clock_for
from admit.db.engine import Pool, Timeouts, make_engine, make_session_factory
from admit.db.probe import DatabaseProbe
from admit.live import LiveSignal
from admit.mail.compose import Sender
from admit.mail.sender import MailContext
from admit.mail.transport import transport_for
from admit.metrics import DAYS_AHEAD, Metrics
from admit.outbox.depth import outbox_depth
from admit.ratelimit import RateLimits
from admit.security.codes import CodeKeys
from admit.security.hashing import HashingThreads
from admit.security.offline import OfflineSecrets
from admit.security.tokens import TokenIssuer
from admit.services import cache_version
from admit.services.operators import StaffMember
from admit.services.organizations import Venue, load_venue
from admit.services.slots import CalendarKey, upcoming_slots
from admit.settings import Settings
from admit.wallet_pass import PassSigner, load_pass_signer


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    keys: CodeKeys
    tokens: TokenIssuer
    limits: RateLimits
    metrics: Metrics
    offline: OfflineSecrets
    probe: DatabaseProbe
    # Password hashing runs on its own few threads, so a login flood cannot take the door's.
    hashing: HashingThreads
    # Signs Apple Wallet passes; None when the venue has not configured its pass certificate.
    wallet: PassSigner | None = None
    # Who is behind a token, and an organization's time zone and policy, until the database's change
    # counter moves: a scan need not read its operator's row every time.
    facts: SharedFacts = field(init=False)
    staff: Cached[int, StaffMember] = field(init=False)
    venues: Cached[int, Venue] = field(init=False)
    # What each organization's live dashboard shows has changed: one counter each, shared by the nodes.
    live: LiveSignal = field(init=False)
    # Calendars as written, by the version of their days' slots: read for every visitor, changed by few.
    calendars: Answers[CalendarKey] = field(default_factory=Answers)
    # A place for each CSV download this process writes at once (ADMIT_EXPORT_DOWNLOADS).
    downloads: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.downloads = threading.BoundedSemaphore(self.settings.export_downloads)
        self.facts = SharedFacts(read_version=self._read_version, read_revoked=self._read_revoked)
        self.staff, self.venues = self.facts.cache(), self.facts.cache()
        self.live = LiveSignal(
            bump=self._bump_live,
            read=self._read_live,
            streams_per_org=self.settings.live_streams_per_org,
        )

    def _bump_live(self, orq: int) -> None:
        with self.sessions() as session:
            cache_version.bump_live(session, orq=orq)

    def _read_live(self, orqs: list[int]) -> dict[int, int]:
        with self.engine.connect() as connection:
            return cache_version.read_live(connection, orqs)

    def _read_version(self) -> int:
        with self.engine.connect() as connection:
            return cache_version.read(connection)

    def _read_revoked(self) -> frozenset[str]:
        with self.engine.connect() as connection:
            return cache_version.revoked_token_ids(connection, now=self.clock.now())

    def mail(self) -> MailContext:
        """What the e-mail sender needs, on this application's database and clock."""
        sender = Sender(mail_from=self.settings.mail_from, public_url=self.settings.public_url)
        return MailContext(
            self.sessions, self.clock, self.keys, transport_for(self.settings), sender, self.offline
        )

    def venue(self, session: Session, orq: int) -> Venue:
        """The organization's time zone and policy, as of half a second ago at most."""
        if self.facts.due:
            self.facts.refresh()
        return self.venues.get(orq) or self.venues.put(orq, load_venue(session, orq))


def timeouts_of(settings: Settings) -> Timeouts:
    """How long a request, or a command, may wait on PostgreSQL, as the settings say."""
    return Timeouts(
        connect=settings.db_connect_timeout,
        statement=settings.db_statement_timeout,
        pool=settings.db_pool_timeout,
    )


def build_context(settings: Settings, clock: Clock | None = None) -> AppContext:
    timeouts = timeouts_of(settings)
    pool = Pool(size=settings.db_pool_size, overflow=settings.db_max_overflow)
    engine = make_engine(settings.database_url, timeouts=timeouts, pool=pool)
    sessions = make_session_factory(engine)
    clock = clock or clock_for(settings.frozen_now)
    return AppContext(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=sessions,
        keys=CodeKeys(settings.secret_key),
        tokens=TokenIssuer(settings.secret_key, timedelta(hours=settings.token_hours)),
        limits=RateLimits(
            redis_url=settings.redis_url,
            redis_timeout=settings.redis_timeout_ms / 1000,
            breaker_seconds=settings.redis_retry_seconds,
            limits={
                "reservations": settings.rate_limit_reservations,
                "validation": settings.rate_limit_validation,
                "door": settings.rate_limit_door_login,
                "login": settings.rate_limit_login,
                "login_failures": f"{settings.max_login_failures} per {settings.lockout_minutes} minutes",
                # Per second on average, with room for a few logins at once (three seconds' worth).
                "hashes": f"{settings.login_hashes_per_second * 3} per 3 seconds",
            },
        ),
        hashing=HashingThreads(settings.login_hashes),
        metrics=Metrics(
            partial(upcoming_slots, sessions, clock, days=DAYS_AHEAD), partial(outbox_depth, sessions, clock)
        ),
        probe=DatabaseProbe(engine),
        offline=OfflineSecrets(settings.secret_key),
        wallet=load_pass_signer(settings),
    )
