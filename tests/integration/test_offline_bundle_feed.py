"""Offline bundles under concurrency: one signing key per organization whatever the number of nodes, and
no change lost to a transaction that commits after a bundle was read."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, insert, select, update

from admit.clock import FrozenClock
from admit.context import AppContext
from admit.db.models import OfflineKey, Ticket, TicketTransition
from admit.domain.lifecycle import TicketEvent, TicketStatus
from admit.domain.offline import from_b64url
from admit.domain.roles import Role
from admit.services.offline_bundle import get_offline_key
from tests.builders import Builders

BUNDLE = "/api/operator/offline-bundle"


def test_nodes_making_an_organizations_key_at_once_agree_on_one(
    make: Builders, standalone_context: AppContext
) -> None:
    """Two application contexts (two nodes) on one database; callers start together behind a barrier."""
    nodes = [make.context, standalone_context]
    callers = 8
    for _ in range(3):
        orq = make.org()
        barrier = threading.Barrier(callers)

        def fetch(i: int, orq: int = orq, barrier: threading.Barrier = barrier) -> tuple[str, str]:
            node = nodes[i % len(nodes)]
            with node.sessions() as session:
                barrier.wait()
                key = get_offline_key(session, orq=orq, offline_secrets=node.offline, now=node.clock.now())
                return key.key_id, key.public_key

        with ThreadPoolExecutor(max_workers=callers) as pool:
            keys = set(pool.map(fetch, range(callers)))
        assert len(keys) == 1
        with make.context.sessions() as session, session.begin():
            stored = session.scalar(select(func.count()).select_from(OfflineKey).where(OfflineKey.orq == orq))
        assert stored == 1
        served = make.client.get("/api/operator/offline-key", headers=make.admin(orq).headers).json()
        assert (served["key_id"], served["public_key"]) in keys


def test_a_change_committed_after_a_bundle_was_read_is_in_the_next_delta(
    make: Builders, clock: FrozenClock
) -> None:
    """A transaction takes its transition id early and commits late: the bundle sees a higher id first."""
    engine = make.context.engine
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: transitions commit in id order")
    orq = make.org()
    operator = make.staff(orq, Role.OPERATOR)
    late = make.ticket(orq, "ACTIVATED")
    late_hash = make.context.keys.lookup_hash(late)
    clock.advance(timedelta(minutes=5))

    slow_writer = create_engine(make.context.settings.database_url)
    try:
        with slow_writer.connect() as slow:
            transaction = slow.begin()
            ticket_id = slow.execute(
                update(Ticket)
                .where(Ticket.code_hash == late_hash)
                .values(status=TicketStatus.VOID, updated_at=clock.now())
                .returning(Ticket.id)
            ).scalar_one()
            slow.execute(
                insert(TicketTransition).values(
                    ticket_id=ticket_id,
                    orq=orq,
                    event=TicketEvent.VOID,
                    from_status=TicketStatus.ACTIVATED,
                    to_status=TicketStatus.VOID,
                    actor="operator:1",
                    at=clock.now(),
                )
            )
            clock.advance(timedelta(seconds=10))  # the slow transaction took its time
            make.ticket(orq, "ACTIVATED")  # committed meanwhile, with higher transition ids
            first = make.client.get(BUNDLE, headers=operator.headers).json()
            salt = from_b64url(first["salt"])
            late_h = hashlib.sha256(salt + late.encode()).hexdigest()[:32]
            assert late_h in {entry["h"] for entry in first["tickets"]}, "not committed yet: still ACTIVATED"
            transaction.commit()
    finally:
        slow_writer.dispose()

    clock.advance(timedelta(seconds=20))
    delta = make.client.get(BUNDLE, params={"since": first["cursor"]}, headers=operator.headers).json()
    assert delta["removed"] == [late_h]
