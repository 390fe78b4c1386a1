"""A ticket's whole story, for a manager settling a dispute: found by its code or its last characters."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from admit.clock import FrozenClock
from admit.db.models import Ticket
from admit.domain.roles import Role
from tests.api.test_audit_trail import ticket_id
from tests.builders import Builders


def test_a_managers_one_query_tells_a_tickets_whole_story_by_its_code_or_last_characters(
    make: Builders, clock: FrozenClock
) -> None:
    orq = make.org()
    today = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    first, second = make.slot(orq, day="2025-11-22"), make.slot(orq, day="2025-11-23")
    operator = make.staff(orq, Role.OPERATOR)
    manager = make.staff(orq, Role.MANAGER)
    code = make.ticket(orq, "INACTIVE")
    make.client.post(f"/api/tickets/{code}/activate")
    clock.advance(timedelta(minutes=1))
    booked = make.reserve([code], first).json()["reservations"][0]["reservation_id"]
    clock.advance(timedelta(minutes=1))
    make.client.put(f"/api/reservations/{booked}", json={"slot_id": second})
    clock.advance(timedelta(minutes=1))
    make.client.delete(f"/api/reservations/{booked}")
    clock.advance(timedelta(minutes=1))
    door = operator.headers
    make.client.post(
        "/api/operator/validate-ticket", json={"code": code, "device_id": "gate-1"}, headers=door
    )
    clock.advance(timedelta(minutes=1))
    rebooked = make.reserve([code], today).json()["reservations"][0]["reservation_id"]
    clock.advance(timedelta(minutes=1))
    make.client.post("/api/operator/verify-ticket", json={"code": code, "device_id": "gate-2"}, headers=door)
    clock.advance(timedelta(minutes=1))

    answers = [
        make.client.get(f"/api/tickets/{ref}/story", headers=manager.headers)
        for ref in (code, code.lower(), code[-4:], code[-6:].lower())
    ]
    assert [answer.status_code for answer in answers] == [200] * 4
    story = answers[0].json()
    assert all(answer.json() == story for answer in answers)
    assert story["ticket"]["id"] == ticket_id(make, code)
    assert story["ticket"]["code_suffix"] == code[-4:]
    assert story["ticket"]["status"] == "VERIFIED"
    assert code not in answers[0].text and booked not in answers[0].text and rebooked not in answers[0].text

    changes = [event["kind"] for event in story["events"] if event["kind"] not in ("scan", "mail")]
    assert changes == ["issue", "pay_pre_made", "activate", "reserve", "move", "cancel", "reserve", "verify"]
    scans = [
        (e["device_id"], e["operator_id"], e["action"], e["result"], e["reason"])
        for e in story["events"]
        if e["kind"] == "scan"
    ]
    assert scans == [
        ("gate-1", operator.id, "validate", "RED", "NO_RESERVATION"),
        ("gate-2", operator.id, "verify", "GREEN", "VALID"),
    ]
    mails = [(e["mail_kind"], e["recipient"]) for e in story["events"] if e["kind"] == "mail"]
    assert [kind for kind, _ in mails] == ["confirmation", "update", "cancellation", "confirmation"]
    times = [event["at"] for event in story["events"]]
    assert times == sorted(times)
    assert [(r["reservation_suffix"], r["status"], r["date"]) for r in story["reservations"]] == [
        (booked[-4:], "CANCELLED", "2025-11-23"),
        (rebooked[-4:], "VERIFIED", "2025-11-20"),
    ]


def test_a_story_is_for_managers_of_the_tickets_organization_and_names_one_ticket_or_says_why_not(
    make: Builders,
) -> None:
    orq, other = make.org(), make.org("Zoo")
    code, twin = make.ticket(orq, "INACTIVE"), make.ticket(orq, "INACTIVE")
    manager = make.staff(orq, Role.MANAGER)
    path = f"/api/tickets/{code}/story"
    assert make.client.get(path, headers=make.staff(orq, Role.OPERATOR).headers).status_code == 403
    assert make.client.get(path).status_code == 401
    foreign = make.client.get(path, headers=make.staff(other, Role.MANAGER).headers)
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "TICKET_NOT_FOUND")

    # Two tickets of the organization ending alike: the last four name neither.
    with make.context.sessions() as session, session.begin():
        session.execute(
            update(Ticket).where(Ticket.id == ticket_id(make, twin)).values(code_suffix=code[-4:])
        )
    ambiguous = make.client.get(f"/api/tickets/{code[-4:]}/story", headers=manager.headers)
    assert ambiguous.status_code == 409
    assert ambiguous.json()["error"]["code"] == "AMBIGUOUS_TICKET"
    assert ambiguous.json()["error"]["details"] == {"matches": 2}
    assert make.client.get(f"/api/tickets/{code}/story", headers=manager.headers).status_code == 200
    short = make.client.get(f"/api/tickets/{code[-3:]}/story", headers=manager.headers)
    assert (short.status_code, short.json()["error"]["code"]) == (422, "VALIDATION_ERROR")
    unknown = make.client.get("/api/tickets/ZZZZ/story", headers=manager.headers)
    assert unknown.status_code == 404
