"""The reservation's signed QR at the door over HTTP: it admits like the plain code, a forged one never.

The pinned clock is 20 Nov 2025, 09:00 in Amsterdam.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from admit.domain.offline import b64url, parse_qr, qr_text
from admit.domain.roles import Role
from tests.api.test_sync_api import offline, outcomes, sync
from tests.builders import Builders, Staff
from tests.qr import read_qr

FORGER = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"not the museum's key").digest())


def scan(make: Builders, staff: Staff, code: str, url: str = "/api/operator/validate-ticket") -> Any:
    body = {"code": code, "action": "admit"} if url == "/venue/scan" else {"code": code}
    return make.client.post(url, json=body, headers=staff.headers)


def booked_today(make: Builders, orq: int, slot: int | None = None) -> tuple[str, str, str]:
    """(code, reservation id, QR text) of a reservation for today, 10:00-11:00."""
    slot = slot or make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    code, reservation_id = make.reservation(orq, slot)
    payload = make.client.get(f"/api/reservations/{reservation_id}").json()["qr_payload"]
    return code, reservation_id, payload


def forged(payload: str) -> str:
    """The same code and claim, signed by a key that is not the organization's."""
    signed = parse_qr(payload)
    return qr_text(signed.message, b64url(FORGER.sign(signed.message)))


@pytest.fixture
def museum(make: Builders) -> tuple[int, Staff, Staff]:
    orq = make.org()
    return orq, make.staff(orq, Role.OPERATOR), make.staff(orq, Role.MANAGER)


def test_the_qr_image_decodes_to_the_qr_payload_which_carries_the_code_and_slot(
    make: Builders, museum: tuple[int, Staff, Staff]
) -> None:
    orq, _, _ = museum
    code, reservation_id, payload = booked_today(make, orq)
    signed = parse_qr(payload)
    assert signed.code == code and signed.claim.orq == orq
    assert (signed.claim.day.isoformat(), f"{signed.claim.start:%H%M}", f"{signed.claim.end:%H%M}") == (
        "2025-11-20",
        "1000",
        "1100",
    )
    assert reservation_id not in payload  # the id would let a passer-by cancel the visit
    png = make.client.get(f"/api/reservations/{reservation_id}/qr.png").content
    assert read_qr(png) == payload


def test_the_qr_payload_and_the_plain_code_are_both_admitted(
    make: Builders, museum: tuple[int, Staff, Staff]
) -> None:
    orq, operator, _ = museum
    code, _, payload = booked_today(make, orq)
    for text in (payload, code):
        verdict = scan(make, operator, text).json()
        assert (verdict["result"], verdict["code"]) == ("GREEN", "VALID")
        assert verdict["customer"]["email"] == "visitor@example.com"
    admitted = scan(make, operator, payload, "/venue/scan").json()
    assert admitted["verified_now"] is True
    assert make.status_of(code) == "VERIFIED"
    again = scan(make, operator, code, "/api/operator/verify-ticket").json()
    assert again["code"] == "ALREADY_VERIFIED"


DOOR_URLS = ["/api/operator/validate-ticket", "/api/operator/verify-ticket", "/venue/scan"]


@pytest.mark.parametrize("url", DOOR_URLS)
def test_a_forged_qr_is_an_invalid_ticket_recorded_like_an_unknown_code(
    make: Builders, museum: tuple[int, Staff, Staff], url: str
) -> None:
    orq, operator, manager = museum
    code, _, payload = booked_today(make, orq)
    body = scan(make, operator, forged(payload), url).json()
    verdict = body["error"]["details"] if "error" in body else body
    assert (verdict["result"], verdict["code"]) == ("RED", "INVALID_TICKET")
    assert verdict["customer"] is None and verdict["ticket"] is None
    assert make.status_of(code) == "RESERVED"
    (event,) = make.client.get("/api/operators/scan-history", headers=manager.headers).json()["events"]
    assert event["code"] == "INVALID_TICKET"


def test_a_genuine_qr_of_another_organization_is_an_invalid_ticket(
    make: Builders, museum: tuple[int, Staff, Staff]
) -> None:
    _, operator, _ = museum
    other = make.org("Zoo")
    code, _, payload = booked_today(make, other)
    assert scan(make, operator, payload).json()["code"] == "INVALID_TICKET"
    assert scan(make, make.staff(other, Role.OPERATOR), payload).json()["code"] == "VALID"
    assert make.status_of(code) == "RESERVED"


def test_a_qr_whose_claim_was_edited_is_an_invalid_ticket(
    make: Builders, museum: tuple[int, Staff, Staff]
) -> None:
    orq, operator, _ = museum
    _, _, payload = booked_today(make, orq)
    edited = payload.replace(".1000.1100.", ".0900.1700.")
    assert edited != payload
    assert scan(make, operator, edited).json()["code"] == "INVALID_TICKET"


def test_a_move_grows_the_claims_version_and_a_cancel_leaves_the_plain_code(
    make: Builders, museum: tuple[int, Staff, Staff]
) -> None:
    orq, _, _ = museum
    code, reservation_id = make.reservation(orq, make.slot(orq, day="2025-11-25", start="10:00", end="11:00"))
    first = parse_qr(make.client.get(f"/api/reservations/{reservation_id}").json()["qr_payload"]).claim
    later = make.slot(orq, day="2025-11-25", start="14:00", end="15:00")
    moved = make.client.put(f"/api/reservations/{reservation_id}", json={"slot_id": later})
    claim = parse_qr(moved.json()["qr_payload"]).claim
    assert (claim.version, f"{claim.start:%H%M}") == (first.version + 1, "1400")
    assert claim.ref == first.ref
    cancelled = make.client.delete(f"/api/reservations/{reservation_id}").json()
    assert cancelled["qr_payload"] == code  # a cancelled visit is vouched for by nobody


def test_a_synced_offline_scan_of_a_qr_applies_and_a_forged_one_admits_nobody(
    make: Builders, museum: tuple[int, Staff, Staff]
) -> None:
    orq, operator, _ = museum
    slot = make.slot(orq, day="2025-11-20", start="10:00", end="11:00")
    code, _, payload = booked_today(make, orq, slot)
    other_code, _, other_payload = booked_today(make, orq, slot)
    results = sync(
        make.client,
        operator,
        "gate-1",
        offline("s-1", payload, "08:50"),
        offline("s-2", forged(other_payload), "08:51", shown=("RED", "INVALID_TICKET")),
    )
    assert outcomes(results) == {"s-1": "applied", "s-2": "applied"}
    assert [r.get("code") for r in results] == ["VALID", "INVALID_TICKET"]
    assert make.status_of(code) == "VERIFIED"
    assert make.status_of(other_code) == "RESERVED"
