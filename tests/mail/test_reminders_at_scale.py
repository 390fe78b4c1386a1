"""Reminders are queued with a few statements however many organizations and rows there are, by each
venue's own "tomorrow", once each even with two senders at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select

from admit.clock import FrozenClock
from admit.context import AppContext
from admit.db.models import OutboxMessage
from admit.domain.mail import MailKind
from admit.mail.reminders import queue_reminders
from tests.builders import Builders

# At 2025-11-28 11:30 UTC these venues' tomorrows are three different dates.
TOMORROW = {"Pacific/Kiritimati": "2025-11-30", "Europe/Amsterdam": "2025-11-29", "Etc/GMT+12": "2025-11-28"}


@contextmanager
def statements_on(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def venues_with_visits(make: Builders, per_zone: int, due_per_venue: int) -> set[str]:
    """Organizations in every zone with visits tomorrow (their tomorrow) and the day after, booked
    together; the ids of the parties a reminder (one each) is due for."""
    due: set[str] = set()
    for zone, tomorrow in TOMORROW.items():
        after = (date.fromisoformat(tomorrow) + timedelta(days=1)).isoformat()
        for n in range(per_zone):
            orq = make.org(f"Venue {n} in {zone}", zone)
            tickets = make.order(orq, quantity=due_per_venue + 1, mode="immediate")["tickets"]
            codes = [t["code"] for t in tickets]
            booked = make.reserve(codes[:-1], make.slot(orq, day=tomorrow))
            assert booked.status_code == 201, booked.text
            due.add(booked.json()["party_id"])
            assert make.reserve(codes[-1:], make.slot(orq, day=after)).status_code == 201
    return due


def queued(make: Builders, kind: MailKind) -> list[OutboxMessage]:
    with make.context.sessions() as session, session.begin():
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def at_the_same_moment(contexts: list[AppContext], now: datetime) -> list[int]:
    """What each of several senders queued, all starting together."""
    barrier = threading.Barrier(len(contexts))
    counts: list[int] = []
    failures: list[BaseException] = []

    def sender(ctx: AppContext) -> None:
        barrier.wait()
        try:
            counts.append(queue_reminders(ctx.sessions, now=now))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=sender, args=(ctx,)) for ctx in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    return counts


def test_reminders_take_the_same_few_statements_for_many_venues_and_are_queued_once_by_racing_senders(
    make: Builders, context: AppContext, standalone_context: AppContext, clock: FrozenClock
) -> None:
    unreserved = []
    for zone in TOMORROW:  # activated more than a week before "now", never booked
        orq = make.org(f"Early venue in {zone}", zone)
        order = make.order(orq, quantity=2, mode="immediate", customer_email="holder@example.com")
        unreserved += [t["code"] for t in order["tickets"]]
    now = datetime.fromisoformat("2025-11-28T11:30:00+00:00")
    clock.set(now - timedelta(days=2))  # booked days before: a visit booked the day before is not reminded
    due = venues_with_visits(make, per_zone=1, due_per_venue=2)
    clock.set(now)

    with statements_on(context.engine) as few:
        assert queue_reminders(context.sessions, now=clock.now()) == len(due) + len(unreserved)
    clock.set(now - timedelta(days=2))
    more = venues_with_visits(make, per_zone=3, due_per_venue=4)  # four times the venues, more rows each
    clock.set(now)
    with statements_on(context.engine) as many:  # two senders (two nodes' engines) at once
        assert sum(at_the_same_moment([context, standalone_context], clock.now())) == len(more)
    assert len(many) == len(few) <= 8
    assert queue_reminders(context.sessions, now=clock.now()) == 0  # each once

    visits = queued(make, MailKind.VISIT_REMINDER)
    assert sorted(row.party_id or "" for row in visits) == sorted(due | more)  # each venue's tomorrow
    assert len(queued(make, MailKind.RESERVE_REMINDER)) == len(unreserved)
