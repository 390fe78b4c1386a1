"""The door's SQL as the servers send it, for pgbench: captured from real scans, never written by hand.

A scan runs through the service layer in this process with a listener on the engine. Each statement it
sent becomes a line of a pgbench script, in which the scanned ticket's own values (its code hash, its
id, its reservation's id) and the scan's nonce are pgbench variables read from a pool table, and every
other value is the literal that was sent. When the door's queries change, the ceiling changes with them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, Engine, event, text

from admit.db.models import Reservation, Ticket

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Sent:
    statement: str
    parameters: dict[str, Any]


@contextmanager
def capturing(engine: Engine) -> Iterator[list[Sent]]:
    """Every statement sent through `engine` while the body runs, in order."""
    sent: list[Sent] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if many:
            raise RuntimeError("a door scan sends one row per statement")
        sent.append(Sent(statement, dict(parameters or {})))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", listen)


@dataclass(frozen=True)
class Scanned:
    """The values of the one scan that was captured, which become the pool's per-transaction ones."""

    code_hash: str
    ticket_id: int
    reservation_id: str
    nonce: str


def pgbench_script(sent: list[Sent], scanned: Scanned, *, pick: str, literal: Callable[[Any], str]) -> str:
    """One pgbench transaction: `pick` sets the pool's variables, then the captured statements.

    A value is a variable when it equals the scanned ticket's (by type and value: True is not the
    ticket with id 1); anything else is sent as captured.
    """
    variables = {(type(value), value): f":{name}" for name, value in vars(scanned).items()}
    if len(variables) != len(vars(scanned)):
        raise ValueError(f"two of the scan's values are equal, so cannot be told apart: {scanned}")

    def value(parameters: dict[str, Any]) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            found = parameters[match.group(1)]
            return variables.get((type(found), found)) or literal(found)

        return replace

    lines = [pick, "BEGIN;"]
    for one in sent:
        statement = _PLACEHOLDER.sub(value(one.parameters), one.statement).replace("%%", "%")
        lines.append(" ".join(statement.split()) + ";")
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def literal_writer(connection: Connection) -> Callable[[Any], str]:
    """SQL literals as psycopg writes them for this connection."""
    raw = connection.connection.driver_connection
    return lambda value: sql.Literal(value).as_string(raw)


def pool_pick(table: str, *, random_from: int | None) -> str:
    """pgbench lines choosing a pool row, at random (validate) or each row once in turn (admit), and
    a nonce no transaction has used."""
    choose = (
        rf"\set n random(1, {random_from})" if random_from else rf"SELECT nextval('{table}_next') AS n \gset"
    )
    nonce = "'pgbench-' || nextval('bench_nonces') AS nonce"
    return f"{choose}\nSELECT code_hash, ticket_id, reservation_id, {nonce} FROM {table} WHERE n = :n \\gset"


def make_pool(connection: Connection, table: str, rows: list[tuple[str, int, str]]) -> None:
    """A pool table of (code_hash, ticket_id, reservation_id), numbered from 1."""
    connection.execute(
        text(
            f"CREATE TABLE {table} (n integer PRIMARY KEY, code_hash text NOT NULL,"
            " ticket_id integer NOT NULL, reservation_id text NOT NULL)"
        )
    )
    connection.execute(text(f"CREATE SEQUENCE {table}_next"))
    connection.execute(text("CREATE SEQUENCE IF NOT EXISTS bench_nonces"))
    connection.execute(
        text(f"INSERT INTO {table} VALUES (:n, :code_hash, :ticket_id, :reservation_id)"),
        [
            {"n": n, "code_hash": code_hash, "ticket_id": ticket, "reservation_id": reservation}
            for n, (code_hash, ticket, reservation) in enumerate(rows, 1)
        ],
    )
    connection.execute(text(f"ANALYZE {table}"))


def clone_reserved(connection: Connection, template_ticket_id: int, count: int) -> list[tuple[str, int, str]]:
    """`count` copies of a reserved ticket and its live reservation, made in the database by SQL that
    follows the models' columns; (code_hash, ticket_id, reservation_id) of each. Admitting each once
    needs as many tickets as pgbench runs transactions, more than the service layer seeds in time.
    Each copy is booked alone (its party is its own id): copies of one party would make a party of
    thousands, whose members every scan would count."""
    tickets = [c.name for c in Ticket.__table__.columns if c.name not in ("id", "code_hash")]
    reservations = [
        c.name for c in Reservation.__table__.columns if c.name not in ("id", "ticket_id", "party_id")
    ]
    rows = connection.execute(
        text(
            f"""
            WITH new_tickets AS (
                INSERT INTO tickets (code_hash, {", ".join(tickets)})
                SELECT md5('pgbench-clone-' || g || '-' || t.id), {", ".join("t." + c for c in tickets)}
                FROM tickets t, generate_series(1, :count) g WHERE t.id = :template
                RETURNING id, code_hash
            ), new_reservations AS (
                INSERT INTO ticket_reservations (id, party_id, ticket_id, {", ".join(reservations)})
                SELECT left(md5('pgbench-clone-' || n.id), 32), left(md5('pgbench-clone-' || n.id), 32), n.id,
                       {", ".join("r." + c for c in reservations)}
                FROM new_tickets n, ticket_reservations r
                WHERE r.ticket_id = :template AND r.status <> 'CANCELLED'
                RETURNING id, ticket_id
            )
            SELECT n.code_hash, n.id, r.id FROM new_tickets n JOIN new_reservations r ON r.ticket_id = n.id
            ORDER BY n.id
            """
        ),
        {"template": template_ticket_id, "count": count},
    ).all()
    return [(code_hash, ticket_id, reservation_id) for code_hash, ticket_id, reservation_id in rows]
