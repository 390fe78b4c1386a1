"""The live stats stream's refusals: a manager's token, and a bounded number of streams per organization."""

from __future__ import annotations

from admit.domain.roles import Role
from tests.builders import Builders

STREAM = "/api/operator/stats/stream"


def test_the_stream_needs_a_managers_token(make: Builders) -> None:
    orq = make.org()
    assert make.client.get(STREAM).json()["error"]["code"] == "NOT_AUTHENTICATED"
    refused = make.client.get(STREAM, headers=make.staff(orq, Role.OPERATOR).headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    invalid = make.client.get(STREAM, params={"date": "soon"}, headers=make.staff(orq, Role.MANAGER).headers)
    assert invalid.status_code == 422 and set(invalid.json()["error"]["details"]["fields"]) == {"date"}


def test_past_the_organizations_streams_the_dashboard_is_told_to_poll(make: Builders) -> None:
    orq = make.org()
    make.context.live.streams_per_org = 0
    refused = make.client.get(STREAM, headers=make.staff(orq, Role.MANAGER).headers)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
