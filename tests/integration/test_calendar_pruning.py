"""The sweep deletes the calendar's day counters that no calendar reads any more, and only those.

A calendar reads from its venue's today on; no time zone's today is before UTC's yesterday, so the
counters of the days before that go, and every calendar read after the prune is still right and fresh.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from admit.clock import FrozenClock
from admit.context import AppContext
from admit.db.models import CacheVersion
from admit.services.cache_version import calendar_day_name
from admit.services.sweeper import run_sweeper
from tests.api.test_calendar_freshness import calendar
from tests.builders import Builders


def one_round(context: AppContext, clock: FrozenClock) -> None:
    stop = threading.Event()
    run_sweeper(
        sessions=context.sessions,
        clock=clock,
        stop=stop,
        interval=60,
        counted=lambda _outcome, _count: stop.set(),  # one round
    )


def counters(context: AppContext) -> set[str]:
    with context.sessions() as session:
        return set(session.scalars(select(CacheVersion.name)))


def test_the_sweep_deletes_the_day_counters_before_utcs_yesterday_and_calendars_stay_fresh(
    make: Builders, context: AppContext, clock: FrozenClock
) -> None:
    museum = make.org("Museum", "Europe/Amsterdam")
    island = make.org("Island", "Pacific/Pago_Pago")  # UTC-11: its today is UTC's yesterday at 08:00 UTC
    for day in ("2025-11-20", "2025-11-21", "2025-11-23"):
        make.slot(museum, day=day)
    soon = make.slot(museum, day="2025-11-23", start="12:00", end="13:00")
    for day in ("2025-11-21", "2025-11-22"):
        make.slot(island, day=day, start="22:00", end="23:00")
    make.reservation(museum, soon)
    latecomer = make.ticket(museum, "ACTIVATED")  # staff logins last hours, not days
    kept = {"staff", f"live:{museum}", f"live:{island}"} & counters(context)

    clock.advance(timedelta(days=3))  # 2025-11-23 08:00 UTC: Amsterdam's 23rd, the island's 22nd
    before = calendar(make.client, museum)
    one_round(context, clock)

    assert counters(context) == kept | {
        calendar_day_name(museum, date(2025, 11, 23)),
        calendar_day_name(island, date(2025, 11, 22)),
    }
    assert calendar(make.client, museum) == before
    assert set(calendar(make.client, island)) == {"2025-11-22 22:00"}
    make.reserve([latecomer], soon).raise_for_status()
    assert calendar(make.client, museum)["2025-11-23 12:00"]["booked_count"] == 2
    one_round(context, clock)  # nothing more to go: the counters of the days still read stay
    assert calendar_day_name(museum, date(2025, 11, 23)) in counters(context)


def test_a_prune_that_fails_is_logged_and_the_next_round_prunes(
    make: Builders, context: AppContext, clock: FrozenClock
) -> None:
    if context.engine.dialect.name != "postgresql":
        pytest.skip("a row lock another transaction holds: PostgreSQL's lock timeout ends the wait")
    museum = make.org()
    make.slot(museum, day="2025-11-20")
    old = calendar_day_name(museum, date(2025, 11, 20))
    clock.advance(timedelta(days=3))
    holder = context.engine.connect()
    holder.begin()
    holder.execute(select(CacheVersion).where(CacheVersion.name == old).with_for_update())
    rounds: list[str] = []

    def counted(outcome: str, _count: int) -> None:
        rounds.append(outcome)
        if len(rounds) == 2:  # the first round's prune has failed on the lock: let it go
            holder.rollback()
            holder.close()
            stop.set()

    stop = threading.Event()
    run_sweeper(sessions=context.sessions, clock=clock, stop=stop, interval=0, counted=counted)

    assert rounds == ["swept", "swept"]  # the sweep went on after the failed prune
    assert old not in counters(context)
