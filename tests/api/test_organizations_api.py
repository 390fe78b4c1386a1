"""An organization's policy: safe defaults, changed by its admin, unknown fields refused."""

from __future__ import annotations

import pytest

from tests.builders import Builders

DEFAULT_POLICY = {
    "unreserved_entry": "deny",
    "reservation_changes": "until_cutoff",
    "change_cutoff_hours": 24,
    "cancellation_allowed": True,
    "entry_window": "day",
    "reminder_after_days": 7,
}


def test_a_new_organization_has_the_safe_default_policy(make: Builders) -> None:
    orq = make.org("Museum", "America/New_York")
    body = make.client.get(f"/api/organizations/{orq}", headers=make.admin(orq).headers).json()
    assert {k: v for k, v in body.items() if k != "identity"} == {
        "orq": orq,
        "name": "Museum",
        "timezone": "America/New_York",
        "policy": DEFAULT_POLICY,
    }


def test_an_admin_changes_part_of_the_policy_and_the_rest_stays(make: Builders) -> None:
    orq = make.org()
    headers = make.admin(orq).headers
    window = {"minutes_before_start": 30, "minutes_after_end": 15}
    response = make.client.patch(
        f"/api/organizations/{orq}/policy",
        json={"unreserved_entry": "allow", "entry_window": window},
        headers=headers,
    )
    assert response.status_code == 200
    expected = {**DEFAULT_POLICY, "unreserved_entry": "allow", "entry_window": window}
    assert response.json() == expected
    assert make.client.get(f"/api/organizations/{orq}", headers=headers).json()["policy"] == expected
    back = make.client.patch(
        f"/api/organizations/{orq}/policy", json={"entry_window": "day"}, headers=headers
    )
    assert back.json()["entry_window"] == "day"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"unreserved_entry": "sometimes"}, "unreserved_entry"),
        ({"colour": "red"}, "colour"),
        ({"change_cutoff_hours": -1}, "change_cutoff_hours"),
        ({"change_cutoff_hours": "24"}, "change_cutoff_hours"),
        ({"cancellation_allowed": "yes"}, "cancellation_allowed"),
        ({"cancellation_allowed": None}, "cancellation_allowed"),
        ({"entry_window": "week"}, "entry_window"),
        ({"entry_window": {"minutes_before_start": 10}}, "entry_window"),
    ],
)
def test_unknown_fields_or_values_are_refused_and_change_nothing(
    make: Builders, patch: dict[str, object], field: str
) -> None:
    orq = make.org()
    headers = make.admin(orq).headers
    before = make.snapshot()
    response = make.client.patch(f"/api/organizations/{orq}/policy", json=patch, headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert any(name.startswith(field) for name in error["details"]["fields"]), error
    assert make.snapshot() == before
