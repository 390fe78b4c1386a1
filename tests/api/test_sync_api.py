"""Offline scans synced later: stored once, applied in door-time order, second entries surfaced.

The pinned clock reads 20 Nov 2025, 09:00 in Amsterdam; the devices' door times are earlier that day.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.domain.roles import Role
from admit.settings import Settings
from tests.api.test_observability import metric, scrape
from tests.builders import Builders, Staff

SYNC = "/api/operator/scans/sync"
HISTORY = "/api/operators/scan-history"


def at(clock_time: str) -> str:
    """A door time on the reference day, as a device sends it."""
    return f"2025-11-20T{clock_time}:00+01:00"


def offline(
    scan_id: str, code: str, when: str, action: str = "admit", shown: tuple[str, str] = ("GREEN", "VALID")
) -> dict[str, Any]:
    return {
        "scan_id": scan_id,
        "code": code,
        "scanned_at": at(when),
        "action": action,
        "offline_result": shown[0],
        "offline_code": shown[1],
    }


def sync(client: TestClient, staff: Staff, device: str, *scans: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(SYNC, json={"device_id": device, "scans": list(scans)}, headers=staff.headers)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def outcomes(results: list[dict[str, Any]]) -> dict[str, str]:
    return {r["scan_id"]: r["outcome"] for r in results}


def stats(make: Builders, manager: Staff) -> dict[str, Any]:
    response = make.client.get("/api/operator/stats", params={"date": "2025-11-20"}, headers=manager.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def history(make: Builders, manager: Staff, **filters: str) -> list[dict[str, Any]]:
    response = make.client.get(HISTORY, params=filters, headers=manager.headers)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


@pytest.fixture
def venue(make: Builders) -> tuple[int, int, Staff]:
    """(organization, today's 10:00 slot, a manager)."""
    orq = make.org()
    return orq, make.slot(orq, day="2025-11-20", start="10:00", end="11:00"), make.staff(orq, Role.MANAGER)


def test_a_queue_sent_twice_is_stored_once_and_changes_no_count(
    make: Builders, venue: tuple[int, int, Staff]
) -> None:
    orq, slot, manager = venue
    operator = make.staff(orq, Role.OPERATOR)
    admitted, _ = make.reservation(orq, slot)
    looked_at = make.ticket(orq, "INACTIVE")
    typed = admitted.lower()[:4] + " - " + admitted.lower()[4:]  # as a person types it
    queue = (
        offline("s-1", typed, "08:10"),
        offline("s-2", looked_at, "08:12", action="validate", shown=("RED", "NOT_ACTIVATED")),
    )

    first = sync(make.client, operator, "lane-1", *queue)
    assert outcomes(first) == {"s-1": "applied", "s-2": "applied"}
    assert (first[0]["result"], first[0]["code"], first[0]["verified"]) == ("GREEN", "VALID", True)
    assert (first[1]["result"], first[1]["code"]) == ("RED", "NOT_ACTIVATED")
    before, counts = make.snapshot(), stats(make, manager)

    again = sync(make.client, operator, "lane-1", *queue)

    assert outcomes(again) == {"s-1": "duplicate", "s-2": "duplicate"}
    assert again[0]["verified"] is True
    assert make.snapshot() == before
    assert stats(make, manager) == counts
    assert (counts["validated"], counts["verified"], counts["conflicts"]) == (2, 1, 0)
    assert [(e["scanned_at"], e["offline"], e["device_id"]) for e in history(make, manager)] == [
        (at("08:12"), True, "lane-1"),
        (at("08:10"), True, "lane-1"),
    ]
    assert make.status_of(admitted) == "VERIFIED"


def test_a_scan_id_reused_for_another_scan_is_refused_and_the_first_stands(
    make: Builders, venue: tuple[int, int, Staff]
) -> None:
    orq, slot, _ = venue
    operator = make.staff(orq, Role.OPERATOR)
    first_code, _ = make.reservation(orq, slot)
    other_code, _ = make.reservation(orq, slot)
    sync(make.client, operator, "lane-1", offline("s-1", first_code, "08:10"))
    before = make.snapshot()

    refused = sync(make.client, operator, "lane-1", offline("s-1", other_code, "08:10"))

    assert refused == [
        {
            "scan_id": "s-1",
            "outcome": "refused",
            "error": {"code": "NONCE_REUSED", "message": refused[0]["error"]["message"]},
        }
    ]
    assert make.snapshot() == before
    assert make.status_of(other_code) == "RESERVED"
    # The same scan id from another device is another scan.
    assert outcomes(sync(make.client, operator, "lane-2", offline("s-1", other_code, "08:11"))) == {
        "s-1": "applied"
    }


def _two_devices_admit_one_ticket(
    make: Builders, orq: int, slot: int, *, later_device_syncs_first: bool
) -> tuple[str, Staff, Staff]:
    anna = make.staff(orq, Role.OPERATOR, name="Anna")
    ben = make.staff(orq, Role.OPERATOR, name="Ben")
    code, _ = make.reservation(orq, slot)
    syncs = [(anna, "lane-1", offline("a-1", code, "08:10")), (ben, "lane-2", offline("b-1", code, "08:20"))]
    if later_device_syncs_first:
        syncs.reverse()
    for staff, device, scan in syncs:
        sync(make.client, staff, device, scan)
    return code, anna, ben


@pytest.mark.parametrize("later_device_syncs_first", [False, True])
def test_two_devices_admitting_one_ticket_offline_make_one_entry_and_one_conflict(
    make: Builders, venue: tuple[int, int, Staff], later_device_syncs_first: bool
) -> None:
    """Whichever device syncs first, the first in door time keeps the entry; the other is the conflict."""
    orq, slot, manager = venue
    code, anna, ben = _two_devices_admit_one_ticket(
        make, orq, slot, later_device_syncs_first=later_device_syncs_first
    )

    assert [row[0] for row in make.audit(code)].count("verify") == 1
    assert make.audit(code)[-1][3] == f"operator:{anna.id}"
    conflicts = history(make, manager, result="CONFLICT")
    assert len(conflicts) == 1
    second = conflicts[0]
    assert (second["scanned_at"], second["operator"]["name"], second["device_id"]) == (
        at("08:20"),
        "Ben",
        "lane-2",
    )
    assert (second["result"], second["code"], second["verified"]) == ("YELLOW", "ALREADY_VERIFIED", False)
    first = second["conflict"]["first"]
    assert (first["scanned_at"], first["operator"]["name"], first["device_id"], first["offline"]) == (
        at("08:10"),
        "Anna",
        "lane-1",
        True,
    )
    counts = stats(make, manager)
    assert (counts["validated"], counts["verified"], counts["conflicts"]) == (2, 1, 1)
    assert counts["by_result"] == {"GREEN": 1, "YELLOW": 1, "RED": 0}
    assert [s["verified_count"] for s in counts["slots"]] == [1]
    # The door now tells whoever scans the ticket of its first entry.
    again = make.client.post("/api/operator/validate-ticket", json={"code": code}, headers=ben.headers).json()
    assert again["message"] == "Verified at 08:10 by Anna"
    text = scrape(make).text
    assert metric(text, "admit_scan_conflicts_total") == 1
    assert metric(text, "admit_synced_scans_total", outcome="conflict") == 1
    assert metric(text, "admit_synced_scans_total", outcome="applied") == 1


def test_a_conflict_is_logged_with_both_devices_operators_and_times(
    make: Builders, venue: tuple[int, int, Staff]
) -> None:
    orq, slot, _ = venue
    with capture_logs() as logs:
        code, anna, ben = _two_devices_admit_one_ticket(make, orq, slot, later_device_syncs_first=False)
    [event] = [entry for entry in logs if entry["event"] == "scan.conflict"]
    assert (event["first_device"], event["first_operator"], event["first_at"]) == (
        "lane-1",
        anna.id,
        at("08:10"),
    )
    assert (event["second_device"], event["second_operator"], event["second_at"]) == (
        "lane-2",
        ben.id,
        at("08:20"),
    )
    assert all(code not in repr(entry) for entry in logs)


def test_an_offline_admit_before_an_online_one_takes_the_entry_and_the_online_one_is_the_conflict(
    make: Builders, venue: tuple[int, int, Staff]
) -> None:
    orq, slot, manager = venue
    door = make.staff(orq, Role.OPERATOR, name="Online")
    lane = make.staff(orq, Role.OPERATOR, name="Offline")
    code, _ = make.reservation(orq, slot)
    online = make.client.post(
        "/api/operator/verify-ticket", json={"code": code, "device_id": "gate"}, headers=door.headers
    )
    assert online.json()["verified_now"] is True  # 09:00, the server's now

    [answer] = sync(make.client, lane, "lane-1", offline("s-1", code, "08:50"))

    assert (answer["outcome"], answer["result"], answer["verified"]) == ("conflict", "GREEN", True)
    assert answer["conflict"]["first"]["device_id"] == "lane-1"
    assert (answer["conflict"]["second"]["device_id"], answer["conflict"]["second"]["offline"]) == (
        "gate",
        False,
    )
    events = history(make, manager)
    assert [(e["scanned_at"], e["code"], e["verified"], e["conflict"] is not None) for e in events] == [
        (at("09:00"), "ALREADY_VERIFIED", False, True),
        (at("08:50"), "VALID", True, False),
    ]
    assert make.audit(code)[-1][3] == f"operator:{lane.id}"
    assert [row[0] for row in make.audit(code)].count("verify") == 1
    counts = stats(make, manager)
    assert (counts["verified"], counts["conflicts"], counts["by_result"]["GREEN"]) == (1, 1, 1)
    scan = make.client.post("/api/operator/validate-ticket", json={"code": code}, headers=door.headers).json()
    assert scan["message"] == "Verified at 08:50 by Offline"


def test_an_offline_admit_after_an_online_one_is_the_conflict(
    make: Builders, venue: tuple[int, int, Staff], clock: FrozenClock
) -> None:
    orq, slot, manager = venue
    door = make.staff(orq, Role.OPERATOR, name="Online")
    lane = make.staff(orq, Role.OPERATOR, name="Offline")
    code, _ = make.reservation(orq, slot)
    clock.set(clock.now() - timedelta(minutes=30))  # 08:30
    make.client.post(
        "/api/operator/verify-ticket", json={"code": code}, headers=door.headers
    ).raise_for_status()
    clock.advance(timedelta(minutes=30))

    [answer] = sync(make.client, lane, "lane-1", offline("s-1", code, "08:45"))

    assert (answer["outcome"], answer["code"], answer["verified"]) == ("conflict", "ALREADY_VERIFIED", False)
    assert answer["conflict"]["first"]["operator"]["name"] == "Online"
    assert answer["conflict"]["first"]["scanned_at"] == at("08:30")
    [second] = history(make, manager, result="CONFLICT")
    assert (second["device_id"], second["offline_result"], second["offline_code"]) == (
        "lane-1",
        "GREEN",
        "VALID",
    )
    assert make.audit(code)[-1][3] == f"operator:{door.id}"


def test_a_device_that_showed_red_let_no_one_in_and_the_ticket_stays_usable(
    make: Builders, venue: tuple[int, int, Staff]
) -> None:
    orq, slot, manager = venue
    operator = make.staff(orq, Role.OPERATOR)
    code, _ = make.reservation(orq, slot)  # booked after the device's data: it showed NO_RESERVATION

    [answer] = sync(
        make.client, operator, "lane-1", offline("s-1", code, "08:10", shown=("RED", "NO_RESERVATION"))
    )

    assert (answer["outcome"], answer["result"], answer["verified"]) == ("applied", "GREEN", False)
    assert make.status_of(code) == "RESERVED"
    [event] = history(make, manager)
    assert (event["offline_result"], event["offline_code"], event["verified"]) == (
        "RED",
        "NO_RESERVATION",
        False,
    )


def test_another_organizations_ticket_synced_is_an_invalid_ticket(
    make: Builders, venue: tuple[int, int, Staff]
) -> None:
    museum, slot, museum_manager = venue
    zoo = make.org("Zoo")
    zoo_operator, zoo_manager = make.staff(zoo, Role.OPERATOR), make.staff(zoo, Role.MANAGER)
    code, _ = make.reservation(museum, slot)

    [answer] = sync(make.client, zoo_operator, "zoo-1", offline("s-1", code, "08:10"))

    assert (answer["outcome"], answer["result"], answer["code"], answer["verified"]) == (
        "applied",
        "RED",
        "INVALID_TICKET",
        False,
    )
    assert make.status_of(code) == "RESERVED"
    assert history(make, museum_manager) == []
    assert [e["code"] for e in history(make, zoo_manager)] == ["INVALID_TICKET"]


def _body(**change: Any) -> dict[str, Any]:
    scan = offline("s-1", "ABCDEFGHJKMNPQRSTVWX", "08:10")
    body: dict[str, Any] = {"device_id": "lane-1", "scans": [scan]}
    for key, value in change.items():
        if key in scan:
            scan[key] = value
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_body(scanned_at="2025-11-20T10:30:00+01:00"), "scans.0.scanned_at"),  # 90 minutes ahead
        (_body(scanned_at="2025-11-12T08:00:00+01:00"), "scans.0.scanned_at"),  # 8 days old
        (_body(scanned_at="2025-11-20T08:10:00"), "scans.0.scanned_at"),  # no offset
        (_body(scanned_at=1763625000), "scans.0.scanned_at"),
        (_body(action="enter"), "scans.0.action"),
        (_body(offline_result="BLUE"), "scans.0.offline_result"),
        (_body(offline_code="valid; drop"), "scans.0.offline_code"),
        (_body(scan_id=""), "scans.0.scan_id"),
        (_body(code=""), "scans.0.code"),
        (_body(device_id=None), "device_id"),
        (_body(scans=[offline(f"s-{i}", "ABCDEFGHJKMNPQRSTVWX", "08:10") for i in range(501)]), "scans"),
        (_body(extra="x"), "extra"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field_and_nothing_is_written(
    make: Builders, venue: tuple[int, int, Staff], body: dict[str, Any], field: str
) -> None:
    orq, slot, _ = venue
    operator = make.staff(orq, Role.OPERATOR)
    code, _ = make.reservation(orq, slot)
    good = offline("ok-1", code, "08:05")
    body = {**body, "scans": [good, *body["scans"]]} if isinstance(body.get("scans"), list) else body
    field = field.replace("scans.0", "scans.1")
    before = make.snapshot()

    response = make.client.post(SYNC, json=body, headers=operator.headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert field in response.json()["error"]["details"]["fields"]
    assert make.snapshot() == before  # not even the good scan in the same request


def test_sync_needs_a_staff_token(make: Builders) -> None:
    response = make.client.post(SYNC, json=_body())
    assert (response.status_code, response.json()["error"]["code"]) == (401, "NOT_AUTHENTICATED")


def test_a_queue_sent_before_and_after_a_server_restart_loses_nothing_and_counts_nothing_twice(
    make: Builders, venue: tuple[int, int, Staff], settings: Settings, clock: FrozenClock
) -> None:
    """The device sent part of its queue, the server restarted, the device sends all of it again."""
    orq, slot, manager = venue
    operator = make.staff(orq, Role.OPERATOR)
    codes = [make.reservation(orq, slot)[0] for _ in range(4)]
    queue = [offline(f"s-{i}", code, f"08:1{i}") for i, code in enumerate(codes)]
    assert set(outcomes(sync(make.client, operator, "lane-1", *queue[:2])).values()) == {"applied"}

    restarted = create_app(settings, clock=clock)
    with TestClient(restarted) as client:
        results = sync(client, operator, "lane-1", *reversed(queue))
    context_of(restarted).engine.dispose()

    assert outcomes(results) == {"s-3": "applied", "s-2": "applied", "s-1": "duplicate", "s-0": "duplicate"}
    counts = stats(make, manager)
    assert (counts["validated"], counts["verified"], counts["conflicts"]) == (4, 4, 0)
    assert all(make.status_of(code) == "VERIFIED" for code in codes)


def test_a_full_queue_of_500_scans_is_taken_in_one_request(
    make: Builders, venue: tuple[int, int, Staff]
) -> None:
    orq, _, manager = venue
    operator = make.staff(orq, Role.OPERATOR)
    queue = [
        offline(
            f"s-{i:03}",
            "ABCDEFGHJKMNPQRSTVWX",
            "08:10",
            action="validate",
            shown=("YELLOW", "NOT_IN_OFFLINE_DATA"),
        )
        for i in range(500)
    ]
    assert set(outcomes(sync(make.client, operator, "lane-1", *queue)).values()) == {"applied"}
    assert stats(make, manager)["by_result"]["RED"] == 500


@pytest.mark.parametrize(("online", "offline_at"), [("08:30", "08:31"), ("08:31", "08:30")])
def test_a_device_admitting_again_what_it_verified_online_moments_apart_is_one_entry(
    make: Builders, venue: tuple[int, int, Staff], clock: FrozenClock, online: str, offline_at: str
) -> None:
    """Its online verify answered after the page had gone offline, and the operator admitted again."""
    orq, slot, manager = venue
    door = make.staff(orq, Role.OPERATOR, name="Lane one")
    code, _ = make.reservation(orq, slot)
    clock.set(datetime.fromisoformat(at(online)))
    make.client.post(
        "/api/operator/verify-ticket", json={"code": code, "device_id": "lane-1"}, headers=door.headers
    ).raise_for_status()
    clock.set(datetime.fromisoformat(at("09:00")))

    [again] = sync(make.client, door, "lane-1", offline("s-1", code, offline_at))
    [other_lane] = sync(make.client, door, "lane-2", offline("s-2", code, "08:45"))

    assert (again["outcome"], again["verified"]) == ("applied", False)
    assert other_lane["outcome"] == "conflict"  # another lane's admit is a second visitor
    counts = stats(make, manager)
    assert (counts["verified"], counts["conflicts"]) == (1, 1)
    assert [event["device_id"] for event in history(make, manager, result="CONFLICT")] == ["lane-2"]


def test_each_synced_scan_is_logged_once_like_an_online_one_naming_its_ticket_device_and_not_its_code(
    make: Builders, venue: tuple[int, int, Staff]
) -> None:
    orq, slot, _ = venue
    operator = make.staff(orq, Role.OPERATOR)
    admitted, _ = make.reservation(orq, slot)
    queue = (
        offline("s-1", admitted, "08:10"),
        offline("s-2", "NOT-A-TICKET-0000", "08:11", action="validate"),
    )
    with capture_logs() as logs:
        sync(make.client, operator, "lane-1", *queue)
        sync(make.client, operator, "lane-1", *queue)  # sent again: stored once, logged once
    results = [entry for entry in logs if entry["event"] == "validation.result"]
    assert [(e["result"], e["reason"], e["device_id"], e["offline"]) for e in results] == [
        ("GREEN", "VALID", "lane-1", True),
        ("RED", "INVALID_TICKET", "lane-1", True),
    ]
    assert results[0]["ticket_id"] is not None and results[0]["code_suffix"] == admitted[-4:]
    assert (results[1]["ticket_id"], results[1]["code_suffix"]) == (None, "0000")
    [verified] = [entry for entry in logs if entry["event"] == "ticket.verified"]
    assert (verified["ticket_id"], verified["device_id"]) == (results[0]["ticket_id"], "lane-1")
    assert all(admitted not in repr(entry) for entry in logs)
