"""Small builders for organizations, staff and tickets, so that tests read like the rules."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from admit.context import AppContext
from admit.db.models import Base, CacheVersion, Reservation, ReservationSlot, Ticket, TicketTransition
from admit.domain.lifecycle import ReservationStatus
from admit.domain.roles import Role
from admit.services.cache_version import live_name
from admit.services.operators import create_operator
from admit.services.organizations import create_organization
from admit.services.ticket_lookup import lookup_hash

LIVE_PREFIX = live_name(0).removesuffix("0")

PASSWORD = "correct horse battery"
CONTACT = {"customer_email": "visitor@example.com", "customer_phone": "+31 20 123 4567"}


@dataclass
class Staff:
    id: int
    orq: int
    username: str
    headers: dict[str, str]


@dataclass
class Builders:
    client: TestClient
    context: AppContext
    _admins: dict[int, Staff] = field(default_factory=dict)

    def org(self, name: str = "Museum", timezone: str = "Europe/Amsterdam") -> int:
        with self.context.sessions() as session:
            return create_organization(session, name=name, timezone=timezone, now=self.context.clock.now()).id

    def staff(
        self, orq: int, role: Role = Role.ADMIN, *, pin: str | None = None, name: str | None = None
    ) -> Staff:
        username = f"{role.value}-{secrets.token_hex(4)}"
        with self.context.sessions() as session:
            operator = create_operator(
                session,
                orq=orq,
                username=username,
                name=name or f"Staff {username}",
                role=role,
                password=PASSWORD,
                pin=pin,
                now=self.context.clock.now(),
            )
        return Staff(operator.id, orq, username, self.login(username))

    def login(self, username: str, **secret: str) -> dict[str, str]:
        response = self.client.post(
            "/api/operator/login", json={"username": username, **(secret or {"password": PASSWORD})}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def admin(self, orq: int) -> Staff:
        if orq not in self._admins:
            self._admins[orq] = self.staff(orq, Role.ADMIN)
        return self._admins[orq]

    def order(
        self, orq: int, *, quantity: int = 1, mode: str = "pre_made", paid: bool = True, **extra: Any
    ) -> dict[str, Any]:
        body = {"orq": orq, "quantity": quantity, "activation_mode": mode, "paid": paid, **extra}
        response = self.client.post("/api/orders", json=body, headers=self.admin(orq).headers)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def ticket(self, orq: int, status: str = "INACTIVE") -> str:
        """A ticket code in the given state, reached through the public API."""
        if status == "PENDING_PAYMENT":
            return str(self.order(orq, paid=False)["tickets"][0]["code"])
        if status == "ACTIVATED":
            return str(self.order(orq, mode="immediate")["tickets"][0]["code"])
        code = str(self.order(orq)["tickets"][0]["code"])
        if status == "VOID":
            self.client.post(f"/api/tickets/{code}/void", headers=self.admin(orq).headers).raise_for_status()
        elif status != "INACTIVE":
            raise ValueError(f"no builder for {status} yet")
        return code

    def slot(
        self, orq: int, day: str = "2025-11-21", start: str = "10:00", end: str = "11:00", capacity: int = 10
    ) -> int:
        """A slot's id; the default is tomorrow morning by the pinned clock."""
        body = {"orq": orq, "date": day, "start_time": start, "end_time": end, "total_capacity": capacity}
        response = self.client.post(
            "/api/reservation-slots/create", json=body, headers=self.admin(orq).headers
        )
        assert response.status_code == 201, response.text
        return int(response.json()["slots"][0]["slot_id"])

    def reserve(self, codes: list[str], slot_id: int, **contact: str) -> Any:
        body = {"ticket_codes": codes, "slot_id": slot_id, **CONTACT, **contact}
        return self.client.post("/api/reservations", json=body)

    def reservation(self, orq: int, slot_id: int) -> tuple[str, str]:
        """(ticket code, reservation id) of a fresh ticket booked into the slot."""
        code = self.ticket(orq, "ACTIVATED")
        response = self.reserve([code], slot_id)
        assert response.status_code == 201, response.text
        return code, str(response.json()["reservations"][0]["reservation_id"])

    def slot_counts(self, slot_id: int) -> tuple[int, int, str]:
        """(booked_count, live reservations, status) of a slot, read from the database."""
        with self.context.sessions() as session, session.begin():
            slot = session.get_one(ReservationSlot, slot_id)
            live = session.scalar(
                select(func.count())
                .select_from(Reservation)
                .where(Reservation.slot_id == slot_id, Reservation.status != ReservationStatus.CANCELLED)
            )
            return slot.booked_count, live or 0, slot.status.value

    def status_of(self, code: str) -> str:
        response = self.client.get(f"/api/tickets/{code}/status")
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table: equal snapshots prove that a refused request changed nothing.

        The live dashboards' wake-up counters are left out: an earlier scan's bump lands after its
        answer, in the background, so it may fall on either side of a snapshot; it holds no data."""
        with self.context.sessions() as session, session.begin():
            return {
                table.name: sorted(
                    tuple(row)
                    for row in session.execute(select(table))
                    if not (table is CacheVersion.__table__ and row.name.startswith(LIVE_PREFIX))
                )
                for table in Base.metadata.sorted_tables
            }

    def audit(self, code: str) -> list[tuple[str, str | None, str, str]]:
        """The audit trail of one ticket, oldest first: (event, from, to, actor)."""
        digest = lookup_hash(code, self.context.keys)
        with self.context.sessions() as session, session.begin():
            rows = session.scalars(
                select(TicketTransition)
                .join(Ticket, Ticket.id == TicketTransition.ticket_id)
                .where(Ticket.code_hash == digest)
                .order_by(TicketTransition.id)
            )
            return [
                (r.event.value, r.from_status.value if r.from_status else None, r.to_status.value, r.actor)
                for r in rows
            ]


def empty_tables(engine: Engine) -> None:
    """Empty every table, so that no test sees another's rows."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
