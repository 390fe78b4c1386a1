"""One reservation answer: what a booking answers is what reading the reservation back answers."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from admit.context import AppContext
from admit.services.capacity import slot_json
from admit.services.reservations import Contact, ReservationView, get_reservation, reserve
from tests.builders import Builders


def answer(view: ReservationView) -> dict[str, Any]:
    return {**{field.name: getattr(view, field.name) for field in fields(view)}, "slot": slot_json(view.slot)}


def test_the_booking_answer_is_the_answer_read_back(make: Builders, context: AppContext) -> None:
    orq = make.org()
    slot_id = make.slot(orq, capacity=3)
    codes = [make.ticket(orq, "ACTIVATED"), make.ticket(orq, "ACTIVATED")]
    contact = Contact("visitor@example.com", "+31201234567")
    now = context.clock.now()
    with context.sessions() as session:
        booked = reserve(
            session, ticket_codes=codes, slot_id=slot_id, contact=contact, keys=context.keys, now=now
        )
    for made in booked:
        with context.sessions() as session:
            read = get_reservation(session, reservation_id=made.reservation_id, keys=context.keys, now=now)
            assert answer(made) == answer(read)
