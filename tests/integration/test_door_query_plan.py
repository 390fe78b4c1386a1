"""A scan's cost is its party's size, never its slot's, even where PostgreSQL has no statistics yet.

A door scan counts the members of the visitor's party in their slot. With no statistics on the table (a
new database, a bulk import before ANALYZE, a server with autovacuum off) the planner guesses its way
to an index; with the party's column alone it guessed the slot's index, reading every reservation of
the slot at each scan. EXPLAIN ANALYZE of the very statement a scan sends shows how many rows it read.
The guess depends on the table's size on disk, so the slot holds a busy day's 6,000 reservations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import event, text

from admit.clock import FrozenClock
from admit.context import AppContext
from tests.builders import Builders
from tests.integration.test_expiry_schedule import postgresql_only

PARTIES, MEMBERS = 120, 50


def read_rows(plan: dict[str, Any], *, in_subplan: bool = False) -> Iterator[int]:
    """The rows each node of a party count's subplan produced."""
    in_subplan = in_subplan or plan.get("Parent Relationship") == "SubPlan"
    if in_subplan:
        yield int(plan["Actual Rows"])
    for child in plan.get("Plans", []):
        yield from read_rows(child, in_subplan=in_subplan)


def test_a_scan_counts_its_partys_members_without_reading_the_rest_of_its_slot(
    make: Builders, context: AppContext, clock: FrozenClock, database_url: str
) -> None:
    postgresql_only(database_url)
    orq = make.org()
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="17:00", capacity=PARTIES * MEMBERS)
    codes = [
        ticket["code"]
        for _ in range(PARTIES * MEMBERS // 500)
        for ticket in make.order(orq, quantity=500, mode="immediate")["tickets"]
    ]
    for k in range(0, len(codes), MEMBERS):
        assert make.reserve(codes[k : k + MEMBERS], slot).status_code == 201
    with context.engine.begin() as connection:  # as a table is before its first ANALYZE
        for table in ("tickets", "ticket_reservations", "reservation_slots"):
            connection.execute(text(f"DELETE FROM pg_statistic WHERE starelid = '{table}'::regclass"))
            connection.execute(
                text(f"UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = '{table}'::regclass")
            )
    clock.advance(timedelta(hours=1, minutes=5))  # into the slot

    sent: list[tuple[str, dict[str, Any]]] = []

    def capture(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        sent.append((statement, dict(parameters or {})))

    event.listen(context.engine, "before_cursor_execute", capture)
    try:
        answer = make.client.post(
            "/api/operator/validate-ticket", json={"code": codes[5]}, headers=make.staff(orq).headers
        )
    finally:
        event.remove(context.engine, "before_cursor_execute", capture)
    assert answer.status_code == 200 and answer.json()["result"] == "GREEN", answer.text
    assert answer.json()["reservation"]["party"] == {"size": MEMBERS, "admitted": 0}

    ((statement, parameters),) = [s for s in sent if "ticket_reservations_1.party_id" in s[0]]
    with context.engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
        ((plan,),) = cursor.fetchall()[0]
    rows = list(read_rows(plan["Plan"]))
    assert rows, json.dumps(plan, indent=1)
    assert max(rows) <= MEMBERS, json.dumps(plan, indent=1)
