"""Demo data for `admit serve --demo`: an organization, its staff, and tickets in every state so far."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import func, select

from admit.context import AppContext
from admit.db.models import Organization
from admit.domain.lifecycle import ActivationMode
from admit.domain.roles import Role
from admit.services import issuance
from admit.services.operators import create_operator
from admit.services.organizations import create_organization


@dataclass
class DemoLogin:
    username: str
    role: Role
    password: str
    pin: str | None = None


@dataclass
class Demo:
    orq: int
    logins: list[DemoLogin] = field(default_factory=list)
    tickets: dict[str, list[str]] = field(default_factory=dict)


def seed_demo(context: AppContext) -> Demo | None:
    """Fill an empty database; leave one with data alone (returns None)."""
    now = context.clock.now()
    with context.sessions() as session:
        with session.begin():
            if session.scalar(select(func.count()).select_from(Organization)):
                return None
        org = create_organization(session, name="Demo Museum", timezone="Europe/Amsterdam", now=now)
        demo = Demo(orq=org.id)
        staff = [("admin", Role.ADMIN, "Alex Admin"), ("manager", Role.MANAGER, "Morgan Manager")]
        staff.append(("door", Role.OPERATOR, "Jane Smith"))
        for username, role, name in staff:
            login = DemoLogin(username, role, secrets.token_urlsafe(9))
            if role is Role.OPERATOR:
                login.pin = f"{secrets.randbelow(10**6):06d}"
            admin = create_operator(
                session,
                orq=org.id,
                username=username,
                name=name,
                role=role,
                password=login.password,
                pin=login.pin,
                now=now,
            )
            demo.logins.append(login)
        issue = partial(
            issuance.create_order,
            session,
            orq=org.id,
            customer_email="visitor@example.com",
            valid_until=None,
            keys=context.keys,
            actor_id=admin.id,
            now=now,
        )
        for label, quantity, mode, paid in [
            ("INACTIVE (pre-made: activate it)", 3, ActivationMode.PRE_MADE, True),
            ("ACTIVATED", 3, ActivationMode.IMMEDIATE, True),
            ("PENDING_PAYMENT", 1, ActivationMode.IMMEDIATE, False),
            ("VOID", 1, ActivationMode.IMMEDIATE, True),
        ]:
            order = issue(quantity=quantity, activation_mode=mode, paid=paid)
            demo.tickets[label] = [t.code for t in order.tickets]
        for code in demo.tickets["VOID"]:
            issuance.void_ticket(
                session, code=code, orq=org.id, keys=context.keys, actor_id=admin.id, now=now
            )
    return demo


def describe(demo: Demo, base_url: str) -> str:
    lines = [f"Demo organization: orq={demo.orq} (Demo Museum, Europe/Amsterdam)", "", "Staff logins:"]
    for login in demo.logins:
        pin = f"  PIN {login.pin}" if login.pin else ""
        lines.append(f"  {login.role.value:<9} {login.username:<8} password {login.password}{pin}")
    lines += ["", "Tickets:"]
    for label, codes in demo.tickets.items():
        lines.append(f"  {label}: {' '.join(codes)}")
    first = demo.tickets["INACTIVE (pre-made: activate it)"][0]
    lines += ["", "Try:", f"  curl -X POST {base_url}/api/tickets/{first}/activate", ""]
    return "\n".join(lines)
