"""Disabling staff, logging out, and policy changes are seen by every server process within a second.

Two application instances on one database stand for two nodes behind a load balancer: each keeps its
own caches, and what one of them changes must reach the other through the database alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.domain.roles import Role
from admit.settings import Settings
from tests.builders import PASSWORD, Builders, Staff

# A ceiling for "within a second" on a busy test machine; the caches themselves hold for 30 s and 5 s
# without the shared change counter, so a stale node fails this.
DEADLINE = 2.5


@pytest.fixture
def other_node(settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings, clock=clock)
    with TestClient(app) as node:
        yield node
    context_of(app).engine.dispose()


def eventually(check: Callable[[], bool]) -> float:
    """Seconds until `check()` held; fails after the deadline."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < DEADLINE, "the other node still serves the old answer"
        time.sleep(0.05)
    return time.monotonic() - started


def validate(node: TestClient, staff: Staff | dict[str, str], code: str = "ABCDEFGHJKMNPQRSTVWX") -> Any:
    headers = staff.headers if isinstance(staff, Staff) else staff
    return node.post("/api/operator/validate-ticket", json={"code": code}, headers=headers)


def test_a_member_disabled_on_one_node_is_refused_on_another_within_a_second(
    make: Builders, other_node: TestClient
) -> None:
    orq = make.org()
    door = make.staff(orq, Role.OPERATOR)
    assert validate(other_node, door).status_code == 200  # the other node now knows this member

    disabled = make.client.post(f"/api/operators/{door.id}/disable", headers=make.admin(orq).headers)

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled"] is True
    assert validate(make.client, door).status_code == 401  # at once where it was done
    eventually(lambda: validate(other_node, door).status_code == 401)
    assert validate(other_node, door).json()["error"]["code"] == "INVALID_TOKEN"


def test_a_disabled_member_cannot_log_in_and_is_told_only_that_the_credentials_are_wrong(
    make: Builders, other_node: TestClient
) -> None:
    orq = make.org()
    door = make.staff(orq, Role.OPERATOR)
    make.client.post(f"/api/operators/{door.id}/disable", headers=make.admin(orq).headers).raise_for_status()

    disabled = other_node.post("/api/operator/login", json={"username": door.username, "password": PASSWORD})
    unknown = other_node.post("/api/operator/login", json={"username": "nobody", "password": PASSWORD})

    assert disabled.status_code == unknown.status_code == 401
    assert disabled.json() == unknown.json()


def test_enabling_again_allows_new_logins_but_not_the_tokens_from_before(
    make: Builders, other_node: TestClient
) -> None:
    orq = make.org()
    admin = make.admin(orq)
    door = make.staff(orq, Role.OPERATOR)
    make.client.post(f"/api/operators/{door.id}/disable", headers=admin.headers).raise_for_status()

    enabled = make.client.post(f"/api/operators/{door.id}/enable", headers=admin.headers)

    assert enabled.status_code == 200 and enabled.json()["disabled"] is False
    fresh = make.login(door.username)
    assert validate(other_node, fresh).status_code == 200
    assert validate(other_node, door).status_code == 401


def test_a_logout_ends_that_token_on_every_node_and_no_other(make: Builders, other_node: TestClient) -> None:
    orq = make.org()
    door = make.staff(orq, Role.OPERATOR)
    second_device = make.login(door.username)
    assert validate(other_node, door).status_code == 200

    logged_out = make.client.post("/api/operator/logout", headers=door.headers)

    assert logged_out.status_code == 204
    assert validate(make.client, door).status_code == 401
    eventually(lambda: validate(other_node, door).status_code == 401)
    assert validate(other_node, second_device).status_code == 200  # the member's other login goes on
    assert make.client.post("/api/operator/logout", headers=door.headers).status_code == 401


def test_a_policy_change_on_one_node_decides_the_other_nodes_door_within_a_second(
    make: Builders, other_node: TestClient
) -> None:
    orq = make.org()
    door = make.staff(orq, Role.OPERATOR)
    code = make.ticket(orq, "ACTIVATED")
    assert validate(other_node, door, code).json()["code"] == "NO_RESERVATION"

    make.client.patch(
        f"/api/organizations/{orq}/policy",
        json={"unreserved_entry": "allow"},
        headers=make.admin(orq).headers,
    ).raise_for_status()

    eventually(lambda: validate(other_node, door, code).json()["code"] == "NO_RESERVATION_ALLOWED")


def test_admins_list_and_disable_only_their_own_organizations_staff_and_never_themselves(
    make: Builders,
) -> None:
    museum, zoo = make.org("Museum"), make.org("Zoo")
    admin = make.admin(museum)
    door = make.staff(museum, Role.OPERATOR)
    manager = make.staff(museum, Role.MANAGER)
    keeper = make.staff(zoo, Role.OPERATOR)

    listed = make.client.get("/api/operators", headers=admin.headers)
    assert listed.status_code == 200
    assert {o["username"] for o in listed.json()["operators"]} == {
        admin.username,
        door.username,
        manager.username,
    }
    assert all(o["disabled"] is False for o in listed.json()["operators"])
    before = make.snapshot()

    itself = make.client.post(f"/api/operators/{admin.id}/disable", headers=admin.headers)
    foreign = make.client.post(f"/api/operators/{keeper.id}/disable", headers=admin.headers)
    unknown = make.client.post("/api/operators/999999/disable", headers=admin.headers)
    by_manager = make.client.post(f"/api/operators/{door.id}/disable", headers=manager.headers)
    not_an_id = make.client.post("/api/operators/abc/disable", headers=admin.headers)

    assert (itself.status_code, itself.json()["error"]["code"]) == (403, "CANNOT_DISABLE_YOURSELF")
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "OPERATOR_NOT_FOUND")
    assert unknown.json() == foreign.json()
    assert (by_manager.status_code, by_manager.json()["error"]["code"]) == (403, "FORBIDDEN")
    assert not_an_id.status_code == 422
    assert make.client.get("/api/operators", headers=manager.headers).status_code == 403
    assert make.snapshot() == before
    assert validate(make.client, keeper).status_code == 200
