"""Staff login, token expiry and role checks (login abuse: test_login_abuse.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from admit.clock import FrozenClock
from admit.domain.roles import Role
from tests.builders import PASSWORD, Builders


def login(make: Builders, username: str, **secret: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = make.client.post("/api/operator/login", json={"username": username, **secret})
    return response.status_code, response.json()


def test_login_with_password_returns_an_eight_hour_bearer_token_and_who_you_are(
    make: Builders, clock: FrozenClock
) -> None:
    orq = make.org()
    staff = make.staff(orq, Role.MANAGER)
    status, body = login(make, staff.username, password=PASSWORD)
    assert status == 200
    assert body["token_type"] == "bearer"
    assert body["expires_at"] == (clock.now() + timedelta(hours=8)).isoformat().replace("+00:00", "Z")
    assert body["operator"] == {
        "id": staff.id,
        "name": f"Staff {staff.username}",
        "role": "manager",
        "orq": orq,
    }


def test_login_with_pin(make: Builders) -> None:
    staff = make.staff(make.org(), Role.OPERATOR, pin="482193")
    status, body = login(make, staff.username, pin="482193")
    assert status == 200
    assert body["operator"]["role"] == "operator"


def test_username_is_not_case_sensitive(make: Builders) -> None:
    staff = make.staff(make.org(), Role.OPERATOR)
    assert login(make, staff.username.upper(), password=PASSWORD)[0] == 200


@pytest.mark.parametrize(
    "secret",
    [{"password": "wrong password"}, {"pin": "0000"}, {"pin": "4821934"}],
)
def test_wrong_secret_is_invalid_credentials(make: Builders, secret: dict[str, str]) -> None:
    staff = make.staff(make.org(), Role.OPERATOR, pin="482193")
    status, body = login(make, staff.username, **secret)
    assert status == 401
    assert body["error"]["code"] == "INVALID_CREDENTIALS"
    # The message names what was typed: a door operator who typed a PIN is not told of a password.
    kind = "PIN" if "pin" in secret else "password"
    assert body["error"]["message"] == f"Username or {kind} is wrong."


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(make: Builders) -> None:
    staff = make.staff(make.org(), Role.OPERATOR, pin="482193")
    for secret in ({"password": "wrong password"}, {"pin": "000000"}):
        assert login(make, "nobody", **secret) == login(make, staff.username, **secret)


def test_a_pin_login_needs_a_pin_on_the_account(make: Builders) -> None:
    staff = make.staff(make.org(), Role.OPERATOR)  # password only
    assert login(make, staff.username, pin="1234")[1]["error"]["code"] == "INVALID_CREDENTIALS"


def test_a_success_resets_the_failure_count(make: Builders) -> None:
    staff = make.staff(make.org(), Role.OPERATOR)
    for _ in range(4):
        login(make, staff.username, password="nope-nope")
    assert login(make, staff.username, password=PASSWORD)[0] == 200
    for _ in range(4):
        login(make, staff.username, password="nope-nope")
    assert login(make, staff.username, password=PASSWORD)[0] == 200


def test_a_token_expires_after_eight_hours_by_the_service_clock(make: Builders, clock: FrozenClock) -> None:
    orq = make.org()
    admin = make.admin(orq)
    url = f"/api/organizations/{orq}"
    clock.advance(timedelta(hours=7, minutes=59))
    assert make.client.get(url, headers=admin.headers).status_code == 200
    clock.advance(timedelta(minutes=1))
    response = make.client.get(url, headers=admin.headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "NOT_AUTHENTICATED"),
        ({"Authorization": "Bearer not-a-jwt"}, "INVALID_TOKEN"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "NOT_AUTHENTICATED"),
    ],
)
def test_staff_endpoints_need_a_valid_token(make: Builders, headers: dict[str, str], code: str) -> None:
    orq = make.org()
    response = make.client.post(
        "/api/orders",
        json={"orq": orq, "quantity": 1, "activation_mode": "immediate", "paid": True},
        headers=headers,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MANAGER])
def test_only_admins_issue_void_confirm_and_set_policy(make: Builders, role: Role) -> None:
    orq = make.org()
    code = make.ticket(orq, "ACTIVATED")
    pending = make.order(orq, paid=False)
    staff = make.staff(orq, role)
    before = make.snapshot()
    attempts = [
        ("POST", "/api/orders", {"orq": orq, "quantity": 1, "activation_mode": "immediate", "paid": True}),
        ("POST", f"/api/tickets/{code}/void", None),
        ("POST", f"/api/orders/{pending['order_id']}/confirm-payment", None),
        ("GET", f"/api/organizations/{orq}", None),
        ("PATCH", f"/api/organizations/{orq}/policy", {"unreserved_entry": "allow"}),
    ]
    for method, url, body in attempts:
        response = make.client.request(method, url, json=body, headers=staff.headers)
        assert response.status_code == 403, url
        assert response.json()["error"]["code"] == "FORBIDDEN"
    assert make.snapshot() == before
