"""Every answer carries the security headers: pages, static files, API answers and errors alike."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from admit.app import context_of, create_app
from admit.clock import FrozenClock
from admit.settings import Settings
from tests.builders import Builders


def assert_secured(response: Any) -> None:
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy, response.headers
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert response.headers.get("x-frame-options") == "DENY"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/operator", 200),  # a page
        ("GET", "/static/js/common.js", 200),  # an asset
        ("GET", "/reserve/not-a-reservation", 404),  # a page's not found
        ("GET", "/api/reservation-slots/available?orq=1", 200),  # an API answer
        ("GET", "/api/tickets/ABCDEFGHJKMNPQRSTVWX/status", 404),  # a domain error
        ("POST", "/api/operator/validate-ticket", 401),  # no token
        ("GET", "/no/such/path", 404),
        ("GET", "/healthz", 200),
    ],
)
def test_every_kind_of_answer_carries_the_security_headers(
    client: TestClient, make: Builders, method: str, path: str, status: int
) -> None:
    make.org()

    response = client.request(method, path, json={"code": "X"} if method == "POST" else None)

    assert response.status_code == status, response.text
    assert_secured(response)
    assert "strict-transport-security" not in response.headers  # plain HTTP: browsers ignore it


def test_a_refused_oversized_body_and_invalid_json_carry_the_headers_too(client: TestClient) -> None:
    oversized = client.post("/api/operator/login", content=b"x" * (65 * 1024))
    malformed = client.post("/api/operator/login", content=b"{", headers={"content-type": "application/json"})

    assert (oversized.status_code, malformed.status_code) == (413, 400)
    assert_secured(oversized)
    assert_secured(malformed)


def test_strict_transport_security_is_sent_only_over_https(settings: Settings, clock: FrozenClock) -> None:
    app = create_app(settings, clock=clock)
    try:
        with TestClient(app, base_url="https://testserver") as https:
            page = https.get("/reserve")
            error = https.get("/api/tickets/ABCDEFGHJKMNPQRSTVWX/status")
        with TestClient(app) as http:
            plain = http.get("/reserve")
    finally:
        context_of(app).engine.dispose()

    for response in (page, error):
        assert response.headers.get("strict-transport-security", "").startswith("max-age=")
        assert_secured(response)
    assert "strict-transport-security" not in plain.headers
