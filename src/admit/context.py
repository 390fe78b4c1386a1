"""What the application holds for its lifetime: settings, clock, database, keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from admit.cache import Recent
from admit.clock import Clock, clock_for
from admit.db.engine import make_engine, make_session_factory
from admit.mail.compose import Sender
from admit.mail.sender import MailContext
from admit.mail.transport import transport_for
from admit.metrics import Metrics
from admit.ratelimit import RateLimits
from admit.security.codes import CodeKeys
from admit.security.offline import OfflineSecrets
from admit.security.tokens import TokenIssuer
from admit.services.operators import StaffMember
from admit.services.organizations import Venue, load_venue
from admit.services.slots import todays_slots
from admit.settings import Settings


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
    # Who is behind a token, for a while: a scan need not read its operator's row every time.
    staff: Recent[int, StaffMember] = field(default_factory=lambda: Recent(30.0))
    # An organization's time zone and policy; a change made here is seen at once, elsewhere within seconds.
    venues: Recent[int, Venue] = field(default_factory=lambda: Recent(5.0))

    def mail(self) -> MailContext:
        """What the e-mail sender needs, on this application's database and clock."""
        sender = Sender(mail_from=self.settings.mail_from, public_url=self.settings.public_url)
        return MailContext(self.sessions, self.clock, self.keys, transport_for(self.settings), sender)

    def venue(self, session: Session, orq: int) -> Venue:
        """The organization's time zone and policy, from a few seconds ago at most."""
        return self.venues.get(orq) or self.venues.put(orq, load_venue(session, orq))

    @property
    def lockout(self) -> timedelta:
        return timedelta(minutes=self.settings.lockout_minutes)


def build_context(settings: Settings, clock: Clock | None = None) -> AppContext:
    engine = make_engine(settings.database_url)
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
            reservations=settings.rate_limit_reservations,
            validation=settings.rate_limit_validation,
        ),
        metrics=Metrics(partial(todays_slots, sessions, clock)),
        offline=OfflineSecrets(settings.secret_key),
    )
