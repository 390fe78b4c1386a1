"""The audit trail: each of the stories' log events names the ticket (its id, its code's last four
characters) and never the code, refusals included."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from sqlalchemy import select
from structlog.testing import capture_logs

from admit.db.models import Ticket
from admit.domain.roles import Role
from admit.services.ticket_lookup import lookup_hash
from tests.builders import Builders

# The events that say something happened to a ticket: each must name it.
TICKET_EVENTS = {
    "ticket.activation.success",
    "ticket.activation.failure",
    "ticket.validated",
    "reservation.created",
    "reservation.modified",
    "reservation.cancelled",
    "reservation.failed",
    "validation.result",
    "scan.validation.success",
    "scan.validation.failure",
    "ticket.verified",
}


def ticket_id(make: Builders, code: str) -> int:
    with make.context.sessions() as session, session.begin():
        found = session.scalar(
            select(Ticket.id).where(Ticket.code_hash == lookup_hash(code, make.context.keys))
        )
    assert found is not None
    return found


def logged(step: Callable[[], Any]) -> tuple[Any, list[MutableMapping[str, Any]]]:
    with capture_logs() as logs:
        answer = step()
    return answer, logs


def test_a_full_journey_logs_each_story_event_once_with_the_ticket_and_never_its_code(make: Builders) -> None:
    orq = make.org()
    today = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    first = make.slot(orq, day="2025-11-22")
    second = make.slot(orq, day="2025-11-23")
    operator = make.staff(orq, Role.OPERATOR)
    code = make.ticket(orq, "INACTIVE")
    own = {"ticket_id": ticket_id(make, code), "code_suffix": code[-4:]}
    door = operator.headers
    client = make.client
    booked: dict[str, str] = {}

    def reserve(slot: int) -> Any:
        response = make.reserve([code], slot)
        if response.status_code == 201:
            booked["id"] = response.json()["reservations"][0]["reservation_id"]
        return response

    steps: list[tuple[str, Callable[[], Any], int]] = [
        ("refused check", lambda: client.post("/api/tickets/validate", json={"code": code}), 409),
        ("activation", lambda: client.post(f"/api/tickets/{code}/activate"), 200),
        ("refused activation", lambda: client.post(f"/api/tickets/{code}/activate"), 409),
        ("check", lambda: client.post("/api/tickets/validate", json={"code": code}), 200),
        ("reservation", lambda: reserve(first), 201),
        ("refused reservation", lambda: reserve(second), 409),
        ("move", lambda: client.put(f"/api/reservations/{booked['id']}", json={"slot_id": second}), 200),
        ("cancel", lambda: client.delete(f"/api/reservations/{booked['id']}"), 200),
        (
            "refused scan",
            lambda: client.post("/api/operator/validate-ticket", json={"code": code}, headers=door),
            200,
        ),
        ("rebooking", lambda: reserve(today), 201),
        (
            "allowed scan",
            lambda: client.post("/api/operator/validate-ticket", json={"code": code}, headers=door),
            200,
        ),
        (
            "verify",
            lambda: client.post("/api/operator/verify-ticket", json={"code": code}, headers=door),
            200,
        ),
    ]
    expected: dict[str, dict[str, dict[str, Any]]] = {
        "refused check": {"ticket.validated": {"valid": False, "reason": "NOT_ACTIVATED"}},
        "activation": {"ticket.activation.success": {}},
        "refused activation": {"ticket.activation.failure": {"reason": "ALREADY_ACTIVATED"}},
        "check": {"ticket.validated": {"valid": True}},
        "reservation": {"reservation.created": {"slot_id": first}},
        "refused reservation": {"reservation.failed": {"reason": "ALREADY_RESERVED", "slot_id": second}},
        "move": {"reservation.modified": {"slot_id": second}},
        "cancel": {"reservation.cancelled": {"slot_id": second}},
        "refused scan": {
            "validation.result": {"result": "RED", "reason": "NO_RESERVATION"},
            "scan.validation.failure": {"result": "RED"},
        },
        "rebooking": {"reservation.created": {"slot_id": today}},
        "allowed scan": {
            "validation.result": {"result": "GREEN", "reason": "VALID"},
            "scan.validation.success": {"result": "GREEN"},
        },
        "verify": {
            "validation.result": {"result": "GREEN", "reason": "VALID"},
            "scan.validation.success": {},
            "ticket.verified": {"operator_id": operator.id},
        },
    }
    for name, step, status in steps:
        response, logs = logged(step)
        assert response.status_code == status, (name, response.text)
        events = [entry["event"] for entry in logs]
        for event, fields in expected[name].items():
            assert events.count(event) == 1, (name, event, events)
            (entry,) = [entry for entry in logs if entry["event"] == event]
            assert entry.items() >= {**own, **fields}.items(), (name, entry)
        for entry in logs:
            if entry["event"] in TICKET_EVENTS:
                assert entry.items() >= own.items(), (name, entry)
            assert code not in repr(entry), (name, entry)
            assert code.lower() not in repr(entry).lower(), (name, entry)


def test_a_refusal_for_a_code_that_is_no_ticket_is_logged_with_its_last_characters_only(
    make: Builders,
) -> None:
    orq = make.org()
    slot = make.slot(orq)
    stranger = "ZZZZ-ZZZZ-ZZZZ-Q7RT"
    with capture_logs() as logs:
        assert make.client.post("/api/tickets/validate", json={"code": stranger}).status_code == 404
        assert make.client.post(f"/api/tickets/{stranger}/activate").status_code == 404
        assert make.reserve([stranger], slot).status_code == 404
    by_event = {entry["event"]: entry for entry in logs}
    for event in ("ticket.validated", "ticket.activation.failure", "reservation.failed"):
        assert by_event[event]["ticket_id"] is None
        assert by_event[event]["code_suffix"] == "Q7RT"
        assert by_event[event]["reason"] == "TICKET_NOT_FOUND"
    assert stranger not in repr(logs)
