"""The database check behind /readyz, bounded however the database or the request threads behave."""

from __future__ import annotations

import anyio
from anyio import to_thread
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from admit.db.engine import Timeouts, make_engine
from admit.db.migrate import current_revision

# A readiness probe that waits longer than this has its answer: not ready.
READY_WITHIN = 3.0


class DatabaseProbe:
    """Checks the database on connections and a thread of its own, never the requests' ones.

    When every request thread is stuck on a hung database, a check sharing their pool and threads
    would queue behind them; this one answers "unreachable" within READY_WITHIN seconds instead.
    """

    def __init__(self, shared: Engine, *, within: float = READY_WITHIN) -> None:
        self.within = within
        self._owns_engine = shared.dialect.name != "sqlite"  # a local file has no network to lose
        self.engine: Engine = shared
        if self._owns_engine:
            self.engine = make_engine(
                shared.url.render_as_string(hide_password=False),
                timeouts=Timeouts(connect=2, statement=within, pool=within),
                pool_size=1,
                max_overflow=1,
            )
        self._limiter: anyio.CapacityLimiter | None = None

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    def revision(self) -> str | None:
        """The schema revision of a database that answers; raises SQLAlchemyError otherwise."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return current_revision(self.engine)

    async def reachable_revision(self) -> tuple[bool, str | None]:
        """(True, revision) when the database answered in time, (False, None) otherwise."""
        # Created here, inside the event loop; one check at a time, so stuck checks cannot pile up.
        self._limiter = self._limiter or anyio.CapacityLimiter(1)
        with anyio.move_on_after(self.within):
            try:
                revision = await to_thread.run_sync(
                    self.revision, limiter=self._limiter, abandon_on_cancel=True
                )
            except SQLAlchemyError:
                return False, None
            return True, revision
        return False, None
