"""Offline queues synced at the same moment: one device's queue sent twice at once, and a second device
that admitted the same tickets. Each ticket ends with one VERIFIED transition, held by the first in
door time, one conflict, and one scan event per scan made at the door."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import func, select

from admit.context import AppContext
from admit.db.models import ScanEvent, TicketTransition
from admit.domain.door import Result
from admit.domain.lifecycle import TicketEvent
from admit.domain.roles import Role
from admit.services.door import Action, OfflineVerdict
from admit.services.door_sync import OfflineScan, Outcome, sync_scans
from admit.services.operators import StaffMember, get_operator
from admit.services.organizations import load_venue
from tests.builders import Builders

GREEN = OfflineVerdict(Result.GREEN, "VALID")


def test_overlapping_queues_synced_at_once_make_one_entry_per_ticket_and_no_duplicate_event(
    make: Builders, standalone_context: AppContext
) -> None:
    orq = make.org()
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00", capacity=20)
    codes = [make.reservation(orq, slot)[0] for _ in range(6)]
    operators = {"lane-1": make.staff(orq, Role.OPERATOR).id, "lane-2": make.staff(orq, Role.OPERATOR).id}
    start = datetime.fromisoformat("2025-11-20T08:00:00+01:00")
    # lane-1 admitted each ticket a minute before lane-2 did; both queues list them in another order.
    queues = {
        "lane-1": [
            OfflineScan(f"a-{i}", code, start + timedelta(minutes=2 * i), Action.ADMIT, GREEN)
            for i, code in enumerate(codes)
        ],
        "lane-2": [
            OfflineScan(f"b-{i}", code, start + timedelta(minutes=2 * i + 1), Action.ADMIT, GREEN)
            for i, code in reversed(list(enumerate(codes)))
        ],
    }
    senders = ["lane-1", "lane-1", "lane-2", "lane-2", "lane-1", "lane-2"]  # each queue sent three times
    context = standalone_context
    barrier = threading.Barrier(len(senders))

    def send(device: str) -> list[Outcome]:
        with context.sessions() as session:
            with session.begin():
                row = get_operator(session, operators[device])
                assert row is not None
                operator = StaffMember.of(row)
            venue = load_venue(session, orq)
            barrier.wait()
            answers = sync_scans(
                session,
                device_id=device,
                scans=queues[device],
                operator=operator,
                venue=venue,
                keys=context.keys,
                now=context.clock.now(),
            )
            return [answer.outcome for answer in answers]

    with ThreadPoolExecutor(max_workers=len(senders)) as pool:
        outcomes = Counter(outcome for answers in pool.map(send, senders) for outcome in answers)

    # Each scan is stored by exactly one of the three sends of its queue.
    assert outcomes[Outcome.DUPLICATE] == 2 * 2 * len(codes)
    assert outcomes[Outcome.APPLIED] + outcomes[Outcome.CONFLICT] == 2 * len(codes)
    assert outcomes[Outcome.REFUSED] == 0
    with context.sessions() as session, session.begin():
        events = session.execute(
            select(ScanEvent.device_id, ScanEvent.scan_id, ScanEvent.verified, ScanEvent.conflict).where(
                ScanEvent.orq == orq
            )
        ).all()
        transitions = session.scalar(
            select(func.count())
            .select_from(TicketTransition)
            .where(TicketTransition.orq == orq, TicketTransition.event == TicketEvent.VERIFY)
        )
    assert len(events) == len({(device, scan_id) for device, scan_id, _, _ in events}) == 2 * len(codes)
    assert transitions == len(codes)
    assert {scan_id for _, scan_id, verified, _ in events if verified} == {
        f"a-{i}" for i in range(len(codes))
    }
    assert {scan_id for _, scan_id, _, conflict in events if conflict} == {
        f"b-{i}" for i in range(len(codes))
    }
    assert all(make.status_of(code) == "VERIFIED" for code in codes)
