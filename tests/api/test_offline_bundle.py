"""The offline bundle over HTTP: signed, keyed by salted code hashes, and refreshed by deltas.

The pinned clock stands at 20 Nov 2025, 09:00 in Amsterdam. A delta re-sends what changed in the
minute before its cursor was made (transactions still open then), so the tests move the clock on past
that minute between making changes and asking for a bundle that must not show them again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from admit.clock import FrozenClock
from admit.db.models import Ticket
from admit.domain.offline import b64url, from_b64url, unsigned
from admit.domain.roles import Role
from admit.security.offline import verify
from tests.builders import Builders, Staff

BUNDLE = "/api/operator/offline-bundle"
KEY = "/api/operator/offline-key"
TODAY = "2025-11-20"
LATER = "2025-11-25"  # far enough ahead for moves and cancels (24 h cutoff)


@pytest.fixture
def door(make: Builders) -> tuple[int, Staff]:
    orq = make.org()
    return orq, make.staff(orq, Role.OPERATOR)


def bundle(make: Builders, staff: Staff, **params: str) -> dict[str, Any]:
    response = make.client.get(BUNDLE, params={"date": TODAY, **params}, headers=staff.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def h(body: dict[str, Any], code: str) -> str:
    """The entry hash of `code` by the rule: SHA-256 of the salt's bytes then the code, 32 hex chars."""
    return hashlib.sha256(from_b64url(body["salt"]) + code.encode()).hexdigest()[:32]


def entries(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["h"]: entry for entry in body["tickets"]}


def move_on(clock: FrozenClock) -> None:
    """Past the minute a delta looks back over from its cursor."""
    clock.advance(timedelta(minutes=2))


def test_the_bundle_verifies_with_the_served_key_and_not_after_any_byte_changes(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    code, _ = make.reservation(orq, make.slot(orq, day=TODAY))
    make.ticket(orq, "ACTIVATED")
    key = make.client.get(KEY, headers=operator.headers).json()
    body = bundle(make, operator)
    assert (key["orq"], body["orq"], body["key_id"]) == (orq, orq, key["key_id"])
    assert len(from_b64url(key["public_key"])) == 32

    signed, signature = unsigned(body)
    assert (
        signed
        == json.dumps(
            {k: v for k, v in body.items() if k != "signature"},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
    )
    assert verify(key["public_key"], signed, signature)
    for i in range(len(signed)):
        tampered = bytearray(signed)
        tampered[i] ^= 0x01
        assert not verify(key["public_key"], bytes(tampered), signature), f"byte {i} changed unnoticed"

    # A believable forgery: the reserved ticket said to be unreserved, signed with a key of the forger's.
    forged = dict(body, tickets=[dict(e, reservation=None) for e in body["tickets"]])
    assert entries(forged)[h(body, code)]["reservation"] is None
    forged_signed, _ = unsigned(forged)
    forgery = b64url(Ed25519PrivateKey.generate().sign(forged_signed))
    assert not verify(key["public_key"], forged_signed, forgery)
    assert not verify(key["public_key"], forged_signed, signature)


def test_an_entry_is_the_salted_hash_of_the_code_with_the_ticket_facts_and_never_the_code(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    code, _ = make.reservation(orq, make.slot(orq, day=TODAY, start="10:00", end="11:00"))
    pending = make.ticket(orq, "PENDING_PAYMENT")
    response = make.client.get(BUNDLE, params={"date": TODAY}, headers=operator.headers)
    body = response.json()

    assert entries(body)[h(body, code)] == {
        "h": h(body, code),
        "status": "RESERVED",
        "valid_until": None,
        "reservation": {"date": TODAY, "start_time": "10:00", "end_time": "11:00", "version": 0},
        "verified_at": None,
        "verified_by": None,
    }
    assert entries(body)[h(body, pending)]["status"] == "PENDING_PAYMENT"
    assert (body["date"], body["timezone"], body["full"], body["removed"]) == (
        TODAY,
        "Europe/Amsterdam",
        True,
        [],
    )
    assert body["policy"] == {"unreserved_entry": "deny", "entry_window": "day"}
    assert body["generated_at"] == "2025-11-20T09:00:00+01:00"
    assert code not in response.text and make.context.keys.lookup_hash(code) not in response.text
    assert response.headers["cache-control"] == "no-store"

    again = bundle(make, operator)
    assert again["salt"] != body["salt"], "every full bundle has a fresh salt"
    assert h(again, code) in entries(again) and h(body, code) not in entries(again)


def test_a_verified_ticket_shows_when_and_by_whom_in_venue_time(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    orq, operator = door
    code, _ = make.reservation(orq, make.slot(orq, day=TODAY))
    clock.advance(timedelta(minutes=30))
    verified = make.client.post("/api/operator/verify-ticket", json={"code": code}, headers=operator.headers)
    assert verified.json()["verified_now"] is True
    entry = entries(body := bundle(make, operator))[h(body, code)]
    assert entry["status"] == "VERIFIED"
    assert entry["verified_at"] == "2025-11-20T09:30:00+01:00"
    assert entry["verified_by"] == f"Staff {operator.username}"


def test_a_void_ticket_is_left_out_and_a_delta_after_a_void_lists_it_as_removed(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    orq, operator = door
    kept, voided = make.ticket(orq, "ACTIVATED"), make.ticket(orq, "ACTIVATED")
    gone_before = make.ticket(orq, "VOID")
    move_on(clock)
    first = bundle(make, operator)
    assert h(first, gone_before) not in entries(first) and len(first["tickets"]) == 2

    move_on(clock)
    void = make.client.post(f"/api/tickets/{voided}/void", headers=make.admin(orq).headers)
    assert void.status_code == 200, void.text
    move_on(clock)
    delta = bundle(make, operator, since=first["cursor"])
    assert (delta["full"], delta["salt"], delta["tickets"]) == (False, first["salt"], [])
    assert delta["removed"] == [h(first, voided)]
    assert h(first, kept) not in delta["removed"]

    fresh = bundle(make, operator)
    assert h(fresh, voided) not in entries(fresh) and h(fresh, kept) in entries(fresh)


def test_reservations_made_moved_and_cancelled_and_verifications_after_the_cursor_are_in_the_delta(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    orq, operator = door
    morning, afternoon = (
        make.slot(orq, day=LATER, start="10:00"),
        make.slot(orq, day=LATER, start="14:00", end="15:00"),
    )
    today = make.slot(orq, day=TODAY, start="10:00", end="11:00")
    to_book = make.ticket(orq, "ACTIVATED")
    to_move, move_id = make.reservation(orq, morning)
    to_cancel, cancel_id = make.reservation(orq, morning)
    to_verify, _ = make.reservation(orq, today)
    untouched, _ = make.reservation(orq, morning)
    move_on(clock)
    first = bundle(make, operator)
    assert len(first["tickets"]) == 5

    move_on(clock)
    assert make.reserve([to_book], afternoon).status_code == 201
    assert make.client.put(f"/api/reservations/{move_id}", json={"slot_id": afternoon}).status_code == 200
    assert make.client.delete(f"/api/reservations/{cancel_id}").status_code == 200
    verify_at_door = make.client.post(
        "/venue/scan", json={"code": to_verify, "action": "admit"}, headers=operator.headers
    )
    assert verify_at_door.json()["verified_now"] is True

    move_on(clock)
    delta = bundle(make, operator, since=first["cursor"])
    changed = entries(delta)
    assert set(changed) == {h(first, c) for c in (to_book, to_move, to_cancel, to_verify)}
    assert h(first, untouched) not in changed
    afternoon_json = {"date": LATER, "start_time": "14:00", "end_time": "15:00"}
    assert changed[h(first, to_book)]["reservation"] == {**afternoon_json, "version": 0}
    assert changed[h(first, to_book)]["status"] == "RESERVED"
    assert changed[h(first, to_move)]["reservation"] == {**afternoon_json, "version": 1}
    assert (changed[h(first, to_cancel)]["status"], changed[h(first, to_cancel)]["reservation"]) == (
        "ACTIVATED",
        None,
    )
    assert changed[h(first, to_verify)]["status"] == "VERIFIED"
    assert changed[h(first, to_verify)]["verified_by"] == f"Staff {operator.username}"

    # The delta's cursor continues from there: with nothing new, the next delta is empty.
    move_on(clock)
    quiet = bundle(make, operator, since=delta["cursor"])
    assert (quiet["tickets"], quiet["removed"], quiet["salt"]) == ([], [], first["salt"])


def test_each_member_of_a_party_carries_its_size_in_the_slot_and_one_ref_unlike_the_party_id(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    slot = make.slot(orq, day=TODAY)
    family = [make.ticket(orq, "ACTIVATED") for _ in range(3)]
    booked = make.reserve(family, slot).json()
    alone, _ = make.reservation(orq, slot)
    body = bundle(make, operator)

    parties = [entries(body)[h(body, code)]["reservation"]["party"] for code in family]
    assert [party["size"] for party in parties] == [3, 3, 3]
    assert len({party["ref"] for party in parties}) == 1
    assert "party" not in entries(body)[h(body, alone)]["reservation"]  # no one else to expect
    assert booked["party_id"] not in json.dumps(body)
    again = bundle(make, operator)
    assert entries(again)[h(again, family[0])]["reservation"]["party"]["ref"] != parties[0]["ref"]  # new salt


def test_a_delta_after_a_member_left_resends_the_rest_of_the_party_with_its_new_size(
    make: Builders, door: tuple[int, Staff], clock: FrozenClock
) -> None:
    orq, operator = door
    morning, afternoon = make.slot(orq, day=LATER), make.slot(orq, day=LATER, start="14:00", end="15:00")
    family = [make.ticket(orq, "ACTIVATED") for _ in range(4)]
    booked = make.reserve(family, morning).json()["reservations"]
    reservation_of = {r["ticket_code"]: r["reservation_id"] for r in booked}
    move_on(clock)
    first = bundle(make, operator)
    assert entries(first)[h(first, family[0])]["reservation"]["party"]["size"] == 4

    move_on(clock)
    cancelled = make.client.delete(f"/api/reservations/{reservation_of[family[3]]}")
    assert cancelled.status_code == 200, cancelled.text
    moved = make.client.put(f"/api/reservations/{reservation_of[family[2]]}", json={"slot_id": afternoon})
    assert moved.status_code == 200, moved.text
    move_on(clock)
    delta = entries(bundle(make, operator, since=first["cursor"]))

    assert set(delta) == {h(first, code) for code in family}  # the two untouched members come again
    assert [delta[h(first, code)]["reservation"]["party"]["size"] for code in family[:2]] == [2, 2]
    assert "party" not in delta[h(first, family[2])]["reservation"]  # alone in the afternoon
    assert delta[h(first, family[3])]["reservation"] is None


def test_each_organizations_operators_get_their_own_bundle_key_and_cursors(
    make: Builders, door: tuple[int, Staff]
) -> None:
    museum, museum_operator = door
    zoo = make.org("Zoo")
    zoo_operator = make.staff(zoo, Role.OPERATOR)
    museum_code = make.ticket(museum, "ACTIVATED")
    zoo_code = make.ticket(zoo, "ACTIVATED")

    museum_bundle, zoo_bundle = bundle(make, museum_operator), bundle(make, zoo_operator)
    assert zoo_bundle["orq"] == zoo and set(entries(zoo_bundle)) == {h(zoo_bundle, zoo_code)}
    assert set(entries(museum_bundle)) == {h(museum_bundle, museum_code)}
    museum_key = make.client.get(KEY, headers=museum_operator.headers).json()
    zoo_key = make.client.get(KEY, headers=zoo_operator.headers).json()
    assert zoo_key["orq"] == zoo and zoo_key["public_key"] != museum_key["public_key"]
    assert zoo_bundle["key_id"] == zoo_key["key_id"]

    borrowed = make.client.get(
        BUNDLE, params={"date": TODAY, "since": museum_bundle["cursor"]}, headers=zoo_operator.headers
    )
    assert (borrowed.status_code, borrowed.json()["error"]["code"]) == (422, "VALIDATION_ERROR")


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MANAGER, Role.ADMIN])
def test_any_staff_role_may_download_the_key_and_bundle_and_nobody_else(make: Builders, role: Role) -> None:
    orq = make.org()
    staff = make.staff(orq, role)
    assert make.client.get(KEY, headers=staff.headers).status_code == 200
    assert bundle(make, staff)["orq"] == orq
    for url in (KEY, BUNDLE):
        anonymous = make.client.get(url, params={"date": TODAY})
        assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "NOT_AUTHENTICATED")


def test_the_day_defaults_to_the_venues_today_and_the_bundle_is_sent_gzipped(
    make: Builders, door: tuple[int, Staff]
) -> None:
    _, operator = door
    response = make.client.get(BUNDLE, headers={**operator.headers, "Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["date"] == TODAY
    plain = make.client.get(BUNDLE, headers={**operator.headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json()["date"] == TODAY


@pytest.mark.parametrize("day", ["2025-13-01", "20251120", "tomorrow", "2025-11-20T00:00"])
def test_a_bad_date_is_a_clear_422(make: Builders, door: tuple[int, Staff], day: str) -> None:
    _, operator = door
    response = make.client.get(BUNDLE, params={"date": day}, headers=operator.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_cursor_that_is_malformed_altered_or_for_another_day_is_a_clear_422_and_writes_nothing(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    make.ticket(orq, "ACTIVATED")
    cursor = bundle(make, operator)["cursor"]
    payload, mac = cursor.split(".")
    other_day = bundle(make, operator, date="2025-11-21")["cursor"]
    before = make.snapshot()
    for since in [
        "garbage",
        "a.b.c",
        f"{payload}.",
        f"{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}",  # altered signature
        f"{payload[:-2]}{'AA' if payload[-2:] != 'AA' else 'BB'}.{mac}",  # altered content
        "x" * 600,
        other_day,
    ]:
        response = make.client.get(BUNDLE, params={"date": TODAY, "since": since}, headers=operator.headers)
        assert response.status_code == 422, (since, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR" and "since" in json.dumps(error["details"]), error
    assert make.snapshot() == before


def test_tickets_issued_before_bulk_seals_existed_are_in_the_bundle_too(
    make: Builders, door: tuple[int, Staff]
) -> None:
    orq, operator = door
    code = make.ticket(orq, "ACTIVATED")
    with make.context.sessions() as session, session.begin():
        session.execute(update(Ticket).values(code_sealed_bulk=None))
    body = bundle(make, operator)
    assert entries(body)[h(body, code)]["status"] == "ACTIVATED"
