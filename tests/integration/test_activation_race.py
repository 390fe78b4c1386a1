"""Two holders pressing "Activate" at once: one activation, one audit row, one clear refusal."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from admit import errors
from admit.context import AppContext
from admit.services.tickets import activate_ticket
from tests.builders import Builders


def test_concurrent_activations_of_one_ticket_activate_it_once(
    make: Builders, standalone_context: AppContext
) -> None:
    code = make.ticket(make.org(), "INACTIVE")
    context = standalone_context

    def attempt(_: int) -> str:
        # Each attempt has its own session, so its own connection and transaction.
        with context.sessions() as session:
            try:
                activate_ticket(session, code=code, keys=context.keys, now=context.clock.now())
            except errors.DomainError as refused:
                return refused.code
            return "ACTIVATED"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(20)))

    assert outcomes.count("ACTIVATED") == 1
    assert set(outcomes) == {"ACTIVATED", "ALREADY_ACTIVATED"}
    assert [row[0] for row in make.audit(code)].count("activate") == 1
