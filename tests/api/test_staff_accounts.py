"""Admins create staff accounts, change their role or name and reset their PIN, through the API, under the
command line's rules and within their own organization."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from admit import errors
from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.domain.roles import Role
from admit.services.staff_access import change_operator
from admit.settings import Settings
from tests.api.test_staff_access import eventually
from tests.builders import Builders, Staff


@pytest.fixture
def other_node(settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings, clock=clock)
    with TestClient(app) as node:
        yield node
    context_of(app).engine.dispose()


def create(make: Builders, admin: Staff, **body: Any) -> Any:
    return make.client.post("/api/operators", json=body, headers=admin.headers)


def history(node: TestClient, headers: dict[str, str]) -> int:
    return node.get("/api/operators/scan-history", headers=headers).status_code


def test_an_admin_creates_an_account_with_a_pin_that_then_logs_in(make: Builders) -> None:
    orq = make.org()
    admin = make.admin(orq)

    created = create(make, admin, username=" Door.Jane ", name="Jane", role="operator", pin="482913")

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["username"], body["name"], body["role"], body["orq"]) == (
        "door.jane",
        "Jane",
        "operator",
        orq,
    )
    assert "pin" not in body and "pin_hash" not in body
    login = make.client.post("/api/operator/login", json={"username": "door.jane", "pin": "482913"})
    assert login.status_code == 200 and login.json()["operator"]["orq"] == orq
    listed = make.client.get("/api/operators", headers=admin.headers).json()["operators"]
    assert "door.jane" in {o["username"] for o in listed}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "jane", "role": "operator", "pin": "1234"}, "pin"),
        ({"username": "jane", "role": "operator", "password": "short"}, "password"),
        ({"username": "jane", "role": "operator"}, "password"),
        ({"username": "j", "role": "operator", "pin": "123456"}, "username"),
        ({"username": "jane", "role": "operator", "pin": "123456", "name": "   "}, "name"),
    ],
)
def test_weak_or_missing_secrets_and_bad_names_are_refused_naming_the_field(
    make: Builders, body: dict[str, str], field: str
) -> None:
    orq = make.org()
    admin = make.admin(orq)
    before = make.snapshot()

    refused = create(make, admin, **body)

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
    assert field in refused.json()["error"]["details"]["fields"]
    assert make.snapshot() == before


def test_bad_bodies_are_refused_and_a_taken_username_is_a_conflict(make: Builders) -> None:
    orq = make.org()
    admin = make.admin(orq)

    unknown_role = create(make, admin, username="jane", role="owner", pin="123456")
    extra_field = create(make, admin, username="jane", role="operator", pin="123456", orq=orq + 1)
    pin_as_number = make.client.post(
        "/api/operators", json={"username": "jane", "role": "operator", "pin": 123456}, headers=admin.headers
    )
    taken = create(make, admin, username=admin.username, role="operator", pin="123456")

    assert unknown_role.status_code == extra_field.status_code == pin_as_number.status_code == 422
    assert "orq" in extra_field.text
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "DUPLICATE_USERNAME")


def test_only_admins_manage_accounts_and_only_their_own_organizations(make: Builders) -> None:
    museum, zoo = make.org("Museum"), make.org("Zoo")
    admin, manager = make.admin(museum), make.staff(museum, Role.MANAGER)
    keeper = make.staff(zoo, Role.OPERATOR)
    before = make.snapshot()

    by_manager = create(make, manager, username="jane", role="operator", pin="123456")
    promote_self = make.client.patch(
        f"/api/operators/{manager.id}", json={"role": "admin"}, headers=manager.headers
    )
    foreign_role = make.client.patch(
        f"/api/operators/{keeper.id}", json={"role": "admin"}, headers=admin.headers
    )
    foreign_pin = make.client.post(f"/api/operators/{keeper.id}/pin", json={}, headers=admin.headers)
    unknown = make.client.patch("/api/operators/999999", json={"name": "X"}, headers=admin.headers)

    assert (by_manager.status_code, by_manager.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert promote_self.status_code == 403
    for answer in (foreign_role, foreign_pin, unknown):
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "OPERATOR_NOT_FOUND")
    assert make.snapshot() == before


def test_a_role_change_reaches_the_members_tokens_on_every_node_within_a_second(
    make: Builders, other_node: TestClient
) -> None:
    orq = make.org()
    admin = make.admin(orq)
    manager = make.staff(orq, Role.MANAGER)
    assert history(other_node, manager.headers) == 200  # the other node now knows this member as a manager

    changed = make.client.patch(
        f"/api/operators/{manager.id}", json={"role": "operator", "name": "Sam"}, headers=admin.headers
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["role"], changed.json()["name"]) == ("operator", "Sam")
    assert history(make.client, manager.headers) == 403  # at once where it was done
    eventually(lambda: history(other_node, manager.headers) == 403)
    door = make.client.post("/api/operator/validate-ticket", json={"code": "X"}, headers=manager.headers)
    assert door.status_code == 200  # still logged in, as an operator

    promoted = make.client.patch(
        f"/api/operators/{manager.id}", json={"role": "admin"}, headers=admin.headers
    )
    assert promoted.status_code == 200
    assert make.client.get("/api/operators", headers=manager.headers).status_code == 200


def test_an_admin_cannot_change_their_own_role_so_an_organization_keeps_an_admin(make: Builders) -> None:
    orq = make.org()
    admin = make.admin(orq)

    demoted = make.client.patch(f"/api/operators/{admin.id}", json={"role": "manager"}, headers=admin.headers)
    renamed = make.client.patch(f"/api/operators/{admin.id}", json={"name": "Boss"}, headers=admin.headers)
    same_role = make.client.patch(f"/api/operators/{admin.id}", json={"role": "admin"}, headers=admin.headers)

    assert (demoted.status_code, demoted.json()["error"]["code"]) == (403, "CANNOT_CHANGE_OWN_ROLE")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Boss"
    assert same_role.status_code == 200 and same_role.json()["role"] == "admin"


def test_two_admins_demoting_each_other_leave_one_admin_even_on_a_node_that_has_not_heard_yet(
    make: Builders, other_node: TestClient
) -> None:
    orq = make.org()
    first, second = make.admin(orq), make.staff(orq, Role.ADMIN)
    assert other_node.get("/api/operators", headers=second.headers).status_code == 200  # cached as admin

    make.client.patch(
        f"/api/operators/{second.id}", json={"role": "manager"}, headers=first.headers
    ).raise_for_status()
    back = other_node.patch(f"/api/operators/{first.id}", json={"role": "manager"}, headers=second.headers)
    disable = other_node.post(f"/api/operators/{first.id}/disable", headers=second.headers)

    assert back.status_code == disable.status_code == 403
    # However stale a node's copy of who is an admin, the change itself checks again under lock.
    with make.context.sessions() as session, pytest.raises(errors.Forbidden):
        change_operator(
            session, operator_id=first.id, orq=orq, acting_operator_id=second.id, role=Role.MANAGER
        )
    roles = {
        o["id"]: o["role"]
        for o in make.client.get("/api/operators", headers=first.headers).json()["operators"]
    }
    assert roles == {first.id: "admin", second.id: "manager"}


def test_a_pin_reset_sets_the_given_pin_or_answers_a_generated_one_once_and_ends_old_tokens(
    make: Builders,
) -> None:
    orq = make.org()
    admin = make.admin(orq)
    door = make.staff(orq, Role.OPERATOR, pin="111111")

    given = make.client.post(f"/api/operators/{door.id}/pin", json={"pin": "246810"}, headers=admin.headers)

    assert given.status_code == 200, given.text
    assert given.json()["generated_pin"] is None
    assert make.client.get("/api/operator/offline-key", headers=door.headers).status_code == 401
    old = make.client.post("/api/operator/login", json={"username": door.username, "pin": "111111"})
    assert old.status_code == 401
    make.login(door.username, pin="246810")

    generated = make.client.post(f"/api/operators/{door.id}/pin", json={}, headers=admin.headers)

    pin = generated.json()["generated_pin"]
    assert generated.status_code == 200 and len(pin) == 6 and pin.isdigit()
    make.login(door.username, pin=pin)
    listed = make.client.get("/api/operators", headers=admin.headers).text
    assert pin not in listed


def test_a_weak_pin_reset_is_refused_and_changes_nothing(make: Builders) -> None:
    orq = make.org()
    admin = make.admin(orq)
    door = make.staff(orq, Role.OPERATOR, pin="111111")
    before = make.snapshot()

    for body in ({"pin": "1234"}, {"pin": "abcdef"}, {"pin": 123456}, {"secret": "123456"}):
        refused = make.client.post(f"/api/operators/{door.id}/pin", json=body, headers=admin.headers)
        assert refused.status_code == 422, body
    assert make.snapshot() == before
    make.login(door.username, pin="111111")
