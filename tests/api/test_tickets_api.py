"""Issuance, activation, status and reservability over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from admit.clock import FrozenClock
from tests.builders import Builders


def test_pre_made_paid_order_gives_inactive_tickets_with_distinct_codes(make: Builders) -> None:
    orq = make.org()
    order = make.order(orq, quantity=3, mode="pre_made", paid=True)
    assert order["status"] == "PAID"
    assert [t["status"] for t in order["tickets"]] == ["INACTIVE"] * 3
    assert len({t["code"] for t in order["tickets"]}) == 3
    status = make.client.get(f"/api/tickets/{order['tickets'][0]['code']}/status").json()
    assert status["activation_mode"] == "pre_made"
    assert status["activation_status"] == "inactive"
    assert status["activated_at"] is None
    assert status["reservation"] is None
    assert status["orq"] == orq


def test_immediate_paid_order_gives_activated_tickets(make: Builders, clock: FrozenClock) -> None:
    orq = make.org()
    code = make.order(orq, mode="immediate")["tickets"][0]["code"]
    status = make.client.get(f"/api/tickets/{code}/status").json()
    assert status["status"] == "ACTIVATED"
    assert status["activation_status"] == "active"
    assert status["activated_at"] == clock.now().isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(("mode", "after_payment"), [("immediate", "ACTIVATED"), ("pre_made", "INACTIVE")])
def test_unpaid_order_waits_for_payment_then_follows_its_mode(
    make: Builders, mode: str, after_payment: str
) -> None:
    orq = make.org()
    order = make.order(orq, quantity=2, mode=mode, paid=False)
    assert order["status"] == "PENDING_PAYMENT"
    code = order["tickets"][0]["code"]
    assert make.status_of(code) == "PENDING_PAYMENT"

    confirmed = make.client.post(
        f"/api/orders/{order['order_id']}/confirm-payment", headers=make.admin(orq).headers
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "PAID"
    assert {t["code"] for t in confirmed.json()["tickets"]} == {t["code"] for t in order["tickets"]}
    assert make.status_of(code) == after_payment


def test_confirming_payment_twice_changes_nothing_more(make: Builders) -> None:
    orq = make.org()
    order = make.order(orq, mode="immediate", paid=False)
    url = f"/api/orders/{order['order_id']}/confirm-payment"
    make.client.post(url, headers=make.admin(orq).headers).raise_for_status()
    before = make.snapshot()
    again = make.client.post(url, headers=make.admin(orq).headers)
    assert again.status_code == 200
    assert make.snapshot() == before


def test_activation_moves_inactive_to_activated_and_records_when(make: Builders, clock: FrozenClock) -> None:
    orq = make.org()
    code = make.ticket(orq, "INACTIVE")
    clock.advance(timedelta(days=3))
    response = make.client.post(f"/api/tickets/{code}/activate")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ACTIVATED"
    assert body["activated_at"] == clock.now().isoformat().replace("+00:00", "Z")
    assert make.status_of(code) == "ACTIVATED"


def test_activation_is_irreversible_a_second_activation_is_refused_and_changes_nothing(
    make: Builders,
) -> None:
    orq = make.org()
    code = make.ticket(orq, "INACTIVE")
    first = make.client.post(f"/api/tickets/{code}/activate").json()
    before = make.snapshot()
    again = make.client.post(f"/api/tickets/{code}/activate")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "ALREADY_ACTIVATED"
    assert make.snapshot() == before
    assert make.client.get(f"/api/tickets/{code}/status").json()["activated_at"] == first["activated_at"]


@pytest.mark.parametrize(
    ("state", "status", "error"),
    [
        ("PENDING_PAYMENT", 409, "PAYMENT_PENDING"),
        ("ACTIVATED", 409, "ALREADY_ACTIVATED"),
        ("VOID", 409, "VOID"),
    ],
)
def test_activation_refusals(make: Builders, state: str, status: int, error: str) -> None:
    code = make.ticket(make.org(), state)
    response = make.client.post(f"/api/tickets/{code}/activate")
    assert response.status_code == status
    assert response.json()["error"]["code"] == error
    assert make.status_of(code) == state


def test_unknown_code_is_ticket_not_found_everywhere(make: Builders) -> None:
    unknown = "ABCD-EFGH-JKMN-PQRS-TVWX"
    for method, url in [
        ("GET", f"/api/tickets/{unknown}/status"),
        ("POST", f"/api/tickets/{unknown}/activate"),
        ("GET", "/api/tickets/not-even-a-code/status"),
    ]:
        response = make.client.request(method, url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "TICKET_NOT_FOUND"
    response = make.client.post("/api/tickets/validate", json={"code": unknown})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "TICKET_NOT_FOUND"


def test_codes_are_found_whatever_the_case_spaces_or_dashes(make: Builders) -> None:
    code = make.ticket(make.org(), "INACTIVE")
    typed = " " + "-".join(code[i : i + 4] for i in range(0, 20, 4)).lower() + " "
    response = make.client.post("/api/tickets/validate", json={"code": typed})
    assert response.json()["error"]["code"] == "NOT_ACTIVATED"
    assert make.client.post(f"/api/tickets/{code.lower()}/activate").status_code == 200


def test_only_activated_tickets_validate_for_reservation(make: Builders) -> None:
    orq = make.org()
    code = make.ticket(orq, "ACTIVATED")
    response = make.client.post("/api/tickets/validate", json={"code": code})
    assert response.status_code == 200
    assert response.json()["valid"] is True
    assert response.json()["ticket"]["status"] == "ACTIVATED"
    assert response.json()["ticket"]["code"] == code


@pytest.mark.parametrize(
    ("state", "error"),
    [("INACTIVE", "NOT_ACTIVATED"), ("PENDING_PAYMENT", "PAYMENT_PENDING"), ("VOID", "VOID")],
)
def test_tickets_that_may_not_reserve_are_refused_with_their_reason(
    make: Builders, state: str, error: str
) -> None:
    code = make.ticket(make.org(), state)
    response = make.client.post("/api/tickets/validate", json={"code": code})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == error


def test_product_validity_expires_a_ticket_by_the_venues_date(make: Builders, clock: FrozenClock) -> None:
    orq = make.org(timezone="Pacific/Auckland")
    # 20 Nov 2025 09:00 in Amsterdam is 21:00 in Auckland: still the last valid day there.
    code = make.order(orq, mode="pre_made", valid_until="2025-11-20")["tickets"][0]["code"]
    assert make.status_of(code) == "INACTIVE"
    clock.advance(timedelta(hours=3))  # 00:00 on 21 Nov in Auckland
    assert make.status_of(code) == "EXPIRED"
    response = make.client.post(f"/api/tickets/{code}/activate")
    assert response.json()["error"]["code"] == "EXPIRED"
    assert make.client.post("/api/tickets/validate", json={"code": code}).json()["error"]["code"] == "EXPIRED"


def test_void_revokes_a_ticket_for_good(make: Builders) -> None:
    orq = make.org()
    code = make.ticket(orq, "ACTIVATED")
    headers = make.admin(orq).headers
    response = make.client.post(f"/api/tickets/{code}/void", headers=headers)
    assert response.status_code == 200
    assert response.json()["status"] == "VOID"
    again = make.client.post(f"/api/tickets/{code}/void", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "VOID"


def test_every_transition_is_audited_with_actor_and_states(make: Builders) -> None:
    orq = make.org()
    admin = make.admin(orq)
    order = make.order(orq, mode="pre_made", paid=False)
    code = order["tickets"][0]["code"]
    make.client.post(
        f"/api/orders/{order['order_id']}/confirm-payment", headers=admin.headers
    ).raise_for_status()
    make.client.post(f"/api/tickets/{code}/activate").raise_for_status()
    make.client.post(f"/api/tickets/{code}/activate")  # refused: leaves no trace
    make.client.post(f"/api/tickets/{code}/void", headers=admin.headers).raise_for_status()
    by_admin = f"operator:{admin.id}"
    assert make.audit(code) == [
        ("issue", None, "PENDING_PAYMENT", by_admin),
        ("pay_pre_made", "PENDING_PAYMENT", "INACTIVE", by_admin),
        ("activate", "INACTIVE", "ACTIVATED", "customer"),
        ("void", "ACTIVATED", "VOID", by_admin),
    ]
