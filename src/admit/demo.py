"""Demo data for `admit serve --demo`: an organization, staff, two months of slots, tickets in many states."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial

from sqlalchemy import func, select

from admit.context import AppContext
from admit.db.models import Organization
from admit.domain.lifecycle import ActivationMode
from admit.domain.roles import Role
from admit.domain.venue_time import local_now, zone
from admit.services import door, issuance, reservations, slots
from admit.services.identity import update_identity
from admit.services.operators import StaffMember, create_operator
from admit.services.organizations import create_organization, load_venue
from admit.services.reservations import Contact

DEMO_TIMEZONE = "Europe/Amsterdam"
STAFF = [
    ("admin", Role.ADMIN, "Alex Admin"),
    ("manager", Role.MANAGER, "Morgan Manager"),
    ("door", Role.OPERATOR, "Jane Smith"),
]
INACTIVE = "INACTIVE (pre-made: activate it)"
RESERVED = "RESERVED (for today: GREEN at the door)"
VERIFIED = "VERIFIED (admitted by Jane Smith: scan it for ALREADY IN)"


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


# What visitors see of the demo venue: change it on /admin.
DEMO_IDENTITY = {
    "address": "Museumplein 1, 1071 AA Amsterdam",
    "opening_hours": "Every day 09:00-17:00",
    "brand_colour": "#12355b",
}


def seed_demo(context: AppContext) -> Demo | None:
    """Fill an empty database; leave one with data alone (returns None)."""
    now = context.clock.now()
    with context.sessions() as session:
        with session.begin():
            if session.scalar(select(func.count()).select_from(Organization)):
                return None
        org = create_organization(session, name="Demo Museum", timezone=DEMO_TIMEZONE, now=now)
        update_identity(session, orq=org.id, changes=DEMO_IDENTITY)
        demo = Demo(orq=org.id)
        operators = {}
        for username, role, name in STAFF:
            login = DemoLogin(username, role, secrets.token_urlsafe(9))
            if role is Role.OPERATOR:
                login.pin = f"{secrets.randbelow(10**6):06d}"
            operators[role] = create_operator(
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
        admin_id = operators[Role.ADMIN].id
        today = local_now(now, DEMO_TIMEZONE).date()
        slots.create_schedule(
            session,
            orq=org.id,
            first=today,
            last=today + timedelta(days=60),
            weekdays=set(range(7)),
            first_start=time(9),
            last_start=time(16),
            every=timedelta(hours=1),
            duration=timedelta(hours=1),
            capacity=30,
            now=now,
        )
        issue = partial(
            issuance.create_order,
            session,
            orq=org.id,
            customer_email="visitor@example.com",
            keys=context.keys,
            actor_id=admin_id,
            now=now,
        )
        for label, quantity, mode, paid in [
            (INACTIVE, 3, ActivationMode.PRE_MADE, True),
            ("ACTIVATED", 3, ActivationMode.IMMEDIATE, True),
            (RESERVED, 2, ActivationMode.IMMEDIATE, True),
            (VERIFIED, 1, ActivationMode.IMMEDIATE, True),
            ("PENDING_PAYMENT", 1, ActivationMode.IMMEDIATE, False),
            ("VOID", 1, ActivationMode.IMMEDIATE, True),
        ]:
            order = issue(quantity=quantity, activation_mode=mode, paid=paid, valid_until=None)
            demo.tickets[label] = [t.code for t in order.tickets]
        # A day ticket bought two days ago for yesterday: expired now.
        expired = issuance.create_order(
            session,
            orq=org.id,
            quantity=1,
            activation_mode=ActivationMode.IMMEDIATE,
            paid=True,
            customer_email="visitor@example.com",
            valid_until=today - timedelta(days=1),
            keys=context.keys,
            actor_id=admin_id,
            now=now - timedelta(days=2),
        )
        demo.tickets["EXPIRED (validity ended yesterday)"] = [t.code for t in expired.tickets]
        # Booked at midnight into today's first slot, so that the door shows them GREEN all day.
        midnight = datetime.combine(today, time.min, zone(DEMO_TIMEZONE))
        first_slot = (
            slots.availability(session, orq=org.id, first=None, last=None, now=midnight).days[0].slots[0]
        )
        reservations.reserve(
            session,
            ticket_codes=demo.tickets[RESERVED] + demo.tickets[VERIFIED],
            slot_id=first_slot.id,
            contact=Contact("visitor@example.com", "+31201234567"),
            keys=context.keys,
            now=midnight,
        )
        for code in demo.tickets[VERIFIED]:
            door.scan(
                session,
                code=code,
                operator=StaffMember.of(operators[Role.OPERATOR]),
                action=door.Action.ADMIT,
                nonce=None,
                device_id="demo",
                venue=load_venue(session, org.id),
                keys=context.keys,
                now=now,
                started=0.0,
            )
        for code in demo.tickets["VOID"]:
            issuance.void_ticket(
                session, code=code, orq=org.id, keys=context.keys, actor_id=admin_id, now=now
            )
    return demo


# The pages a first look goes to: the visitor's booking, the door, the office and the administration.
PAGES = {"visitors": "/reserve", "door": "/operator", "manager": "/manager", "admin": "/admin"}
# Where the printout is kept (0600) for a restart, which prints no logins: they are made once.
PRINTOUT = "demo-logins.txt"


def describe(demo: Demo, base_url: str) -> str:
    lines = [f"Demo organization: orq={demo.orq} (Demo Museum, {DEMO_TIMEZONE})", "", "Staff logins:"]
    for login in demo.logins:
        pin = f"  PIN {login.pin}" if login.pin else ""
        lines.append(f"  {login.role.value:<9} {login.username:<8} password {login.password}{pin}")
    lines += ["", "Tickets:"]
    for label, codes in demo.tickets.items():
        lines.append(f"  {label}: {' '.join(codes)}")
    first = demo.tickets[INACTIVE][0]
    lines += ["", "Pages:"]
    lines += [f"  {page:<9} {base_url}{path}" for page, path in PAGES.items()]
    lines += ["", "Try:", f"  curl -X POST {base_url}/api/tickets/{first}/activate", ""]
    return "\n".join(lines)
