"""Closing a slot with visitors booked: said either way, and with `notify` each is asked to move."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from admit.db.models import OutboxMessage
from admit.domain.mail import MailKind
from admit.domain.roles import Role
from tests.builders import Builders


def patch(make: Builders, orq: int, slot: int, **body: Any) -> Any:
    return make.client.patch(f"/api/reservation-slots/{slot}", json=body, headers=make.admin(orq).headers)


def slot_closed_mail(make: Builders) -> list[tuple[str | None, str]]:
    """(reservation id, recipient) of each queued "choose another time" e-mail."""
    with make.context.sessions() as session, session.begin():
        rows = session.execute(
            select(OutboxMessage.reservation_id, OutboxMessage.recipient)
            .where(OutboxMessage.kind == MailKind.SLOT_CLOSED)
            .order_by(OutboxMessage.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_closing_a_slot_with_visitors_booked_must_say_whether_to_tell_them(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq)
    make.reservation(orq, slot)
    make.reservation(orq, slot)
    before = make.snapshot()

    refused = patch(make, orq, slot, status="CLOSED")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert (error["code"], error["details"]) == ("SLOT_HAS_BOOKINGS", {"booked": 2})
    assert '"notify"' in error["message"]
    assert make.snapshot() == before  # nothing closed, nothing queued


def test_closing_and_telling_the_visitors_queues_one_email_each_with_the_answer_saying_how_many(
    make: Builders,
) -> None:
    orq = make.org()
    slot = make.slot(orq, capacity=5)
    _, first = make.reservation(orq, slot)
    _, second = make.reservation(orq, slot)
    _, cancelled = make.reservation(orq, slot)
    make.client.delete(f"/api/reservations/{cancelled}").raise_for_status()

    closed = patch(make, orq, slot, status="CLOSED", notify=True)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["booked_count"], body["notified"]) == ("CLOSED", 2, 2)
    assert sorted(slot_closed_mail(make)) == sorted(
        [(first, "visitor@example.com"), (second, "visitor@example.com")]
    )
    # The bookings stand: the visitors choose another time themselves.
    assert make.slot_counts(slot) == (2, 2, "CLOSED")


def test_closing_without_telling_anyone_queues_nothing(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq)
    make.reservation(orq, slot)
    closed = patch(make, orq, slot, status="CLOSED", notify=False)
    assert (closed.status_code, closed.json()["notified"]) == (200, 0)
    assert slot_closed_mail(make) == []


def test_a_visitor_already_let_in_is_not_stranded_by_a_closing(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq, day="2025-11-20")  # today, by the pinned clock
    code, _ = make.reservation(orq, slot)
    operator = make.staff(orq, Role.OPERATOR)
    make.client.post(
        "/api/operator/verify-ticket", json={"code": code}, headers=operator.headers
    ).raise_for_status()
    closed = patch(make, orq, slot, status="CLOSED")
    assert (closed.status_code, closed.json()["notified"]) == (200, 0)


def test_a_slot_without_bookings_closes_reopens_and_closes_again_without_notify(make: Builders) -> None:
    orq = make.org()
    slot = make.slot(orq)
    assert patch(make, orq, slot, status="CLOSED").json()["notified"] == 0
    make.reservation(orq, make.slot(orq, start="12:00", end="13:00"))  # another slot's booking
    assert patch(make, orq, slot, status="ACTIVE").json()["status"] == "ACTIVE"
    booked = make.slot(orq, start="14:00", end="15:00")
    make.reservation(orq, booked)
    assert patch(make, orq, booked, status="CLOSED", notify=False).status_code == 200
    # Closed already: saying so again strands no one more.
    assert patch(make, orq, booked, status="CLOSED").status_code == 200
    assert patch(make, orq, booked, status="ACTIVE").json()["notified"] == 0


def test_shrinking_below_the_booked_places_is_still_refused_and_notify_must_be_a_boolean(
    make: Builders,
) -> None:
    orq = make.org()
    slot = make.slot(orq)
    make.reservation(orq, slot)
    make.reservation(orq, slot)
    shrunk = patch(make, orq, slot, total_capacity=1, notify=True)
    assert (shrunk.status_code, shrunk.json()["error"]["code"]) == (409, "CAPACITY_BELOW_BOOKED")
    assert patch(make, orq, slot, total_capacity=2).json()["status"] == "FULL"
    wrong = patch(make, orq, slot, status="CLOSED", notify="yes")
    assert (wrong.status_code, list(wrong.json()["error"]["details"]["fields"])) == (422, ["notify"])
    assert slot_closed_mail(make) == []


def test_a_visitor_of_a_closed_slot_may_move_even_past_the_cutoff_and_where_changes_are_off(
    make: Builders,
) -> None:
    orq = make.org()
    make.client.patch(
        f"/api/organizations/{orq}/policy",
        json={"reservation_changes": "none"},
        headers=make.admin(orq).headers,
    ).raise_for_status()
    today = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    later = make.slot(orq, day="2025-11-20", start="15:00", end="16:00")
    _, reservation_id = make.reservation(orq, today)
    refused = make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": later})
    assert refused.json()["error"]["code"] == "CHANGES_NOT_ALLOWED"
    assert 'data-move-allowed="false"' in make.client.get(f"/reserve/{reservation_id}").text

    patch(make, orq, today, status="CLOSED", notify=True).raise_for_status()
    assert 'data-move-allowed="true"' in make.client.get(f"/reserve/{reservation_id}").text
    moved = make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": later})
    assert moved.status_code == 200, moved.text
    assert moved.json()["slot"]["start_time"] == "15:00"
    assert make.slot_counts(today)[0] == 0
