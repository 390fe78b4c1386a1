"""Nothing crosses an organization: its staff can neither see nor change another's tickets."""

from __future__ import annotations

from tests.builders import Builders


def test_an_admin_of_one_organization_cannot_touch_anothers_tickets_orders_or_policy(make: Builders) -> None:
    museum, zoo = make.org("Museum"), make.org("Zoo")
    ticket = make.ticket(museum, "ACTIVATED")
    pending = make.order(museum, paid=False)
    zoo_admin = make.admin(zoo)
    before = make.snapshot()

    void = make.client.post(f"/api/tickets/{ticket}/void", headers=zoo_admin.headers)
    assert (void.status_code, void.json()["error"]["code"]) == (404, "TICKET_NOT_FOUND")

    confirm = make.client.post(
        f"/api/orders/{pending['order_id']}/confirm-payment", headers=zoo_admin.headers
    )
    assert (confirm.status_code, confirm.json()["error"]["code"]) == (404, "ORDER_NOT_FOUND")

    issue = make.client.post(
        "/api/orders",
        json={"orq": museum, "quantity": 5, "activation_mode": "immediate", "paid": True},
        headers=zoo_admin.headers,
    )
    assert (issue.status_code, issue.json()["error"]["code"]) == (404, "ORGANIZATION_NOT_FOUND")

    for method, url, body in [
        ("GET", f"/api/organizations/{museum}", None),
        ("PATCH", f"/api/organizations/{museum}/policy", {"unreserved_entry": "allow"}),
    ]:
        response = make.client.request(method, url, json=body, headers=zoo_admin.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "ORGANIZATION_NOT_FOUND")

    assert make.snapshot() == before
    assert make.status_of(ticket) == "ACTIVATED"


def test_another_organizations_id_reads_exactly_like_an_unknown_one(make: Builders) -> None:
    museum, zoo = make.org("Museum"), make.org("Zoo")
    zoo_admin = make.admin(zoo)
    real = make.client.get(f"/api/organizations/{museum}", headers=zoo_admin.headers).json()
    unknown = make.client.get("/api/organizations/999999", headers=zoo_admin.headers).json()
    assert real == unknown
