"""Schema-driven fuzzing of the app's own OpenAPI document: no 5xx, every 4xx in the error shape.

Schemathesis reads /openapi.json and sends each operation valid requests, boundary values (its coverage
phase) and schema-violating ones, in-process, to the application of the `client` fixture, with an
admin's token so that staff operations are reached past authentication. A fixed seed and a few examples
per operation keep the run deterministic and short on both databases.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection

from admit.app import create_app
from admit.security import passwords
from admit.settings import Settings
from tests.builders import Builders

# The operations whose bad input tests/api/test_bad_input.py pins down, row by row.
OPERATIONS = [
    "POST /api/operator/login",
    "GET /api/organizations/{orq}",
    "PATCH /api/organizations/{orq}/policy",
    "POST /api/orders",
    "POST /api/orders/{order_id}/confirm-payment",
    "POST /api/tickets/{code}/void",
    "GET /api/tickets/{code}/status",
    "POST /api/tickets/{code}/activate",
    "POST /api/tickets/validate",
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20251120,
        "generation": {"max-examples": 15},
        "phases": {"stateful": {"enabled": False}},
    }
)


def _document() -> dict[str, Any]:
    """The served document. Read at collection, before any fixture: its application never gets a request,
    so it opens no database and no Redis connection."""
    settings = Settings(
        database_url="sqlite://",
        redis_url="",
        secret_key="openapi-only-" + "x" * 32,
        rate_limit_reservations="off",
        rate_limit_validation="off",
    )
    return create_app(settings).openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG).include(name=OPERATIONS)


def test_every_fuzzed_operation_is_in_the_document() -> None:
    served = {f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item}
    assert set(OPERATIONS) <= served


@pytest.fixture
def admin_headers(make: Builders, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    # Argon2 at its lowest cost, for the admin and for the unknown usernames the fuzzer logs in with:
    # at production cost, password hashing would be most of the run's time.
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))
    return make.admin(make.org()).headers


def error_shape(
    ctx: CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """Every 4xx is JSON and exactly {"error": {"code", "message", "details"}}."""
    if not 400 <= response.status_code < 500:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"{response.status_code} sent as {content_type!r}"
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert isinstance(error["code"], str), body
    assert isinstance(error["message"], str), body
    assert isinstance(error["details"], dict), body
    return True


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_operation_answers_5xx_and_every_4xx_has_the_error_shape(
    case: schemathesis.Case[Any], client: TestClient, admin_headers: dict[str, str]
) -> None:
    # The database fills up as examples run (orders, tickets); each request must hold on its own.
    case.call_and_validate(
        app=client.app,
        headers=admin_headers,
        checks=[not_a_server_error, error_shape, negative_data_rejection],
    )
