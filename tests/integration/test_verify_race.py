"""Twenty operators verifying one ticket at the same moment: one VERIFIED transition, the rest warnings."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from admit.context import AppContext
from admit.domain.roles import Role
from admit.services.door import Action, scan
from admit.services.operators import StaffMember, get_operator
from admit.services.organizations import load_venue
from tests.builders import Builders


def test_concurrent_verifications_make_one_transition(make: Builders, standalone_context: AppContext) -> None:
    """Each verifier has its own connection; they start together behind a barrier."""
    orq = make.org()
    code, _ = make.reservation(orq, make.slot(orq, day="2025-11-20", start="10:00", end="11:00"))
    operator_ids = [make.staff(orq, Role.OPERATOR).id for _ in range(4)]
    context = standalone_context
    clients = 20
    barrier = threading.Barrier(clients)

    def verify(i: int) -> tuple[str, bool]:
        with context.sessions() as session:
            with session.begin():
                row = get_operator(session, operator_ids[i % len(operator_ids)])
                assert row is not None
                operator = StaffMember.of(row)
            barrier.wait()
            outcome = scan(
                session,
                code=code,
                operator=operator,
                action=Action.VERIFY,
                nonce=None,
                device_id=f"lane-{i}",
                venue=load_venue(session, operator.orq),
                keys=context.keys,
                now=context.clock.now(),
                started=time.perf_counter(),
            )
            return outcome.code, outcome.verified_now

    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(verify, range(clients)))

    assert sum(verified for _, verified in outcomes) == 1
    assert sorted(code for code, _ in outcomes) == ["ALREADY_VERIFIED"] * (clients - 1) + ["VALID"]
    assert [row[0] for row in make.audit(code)].count("verify") == 1
    assert make.status_of(code) == "VERIFIED"
