"""Schema-driven fuzzing of the app's own OpenAPI document: no 5xx, every 4xx in the error shape.

Schemathesis reads /openapi.json and sends each operation valid requests, boundary values (its coverage
phase) and schema-violating ones, in-process, to the application of the `client` fixture, with an
admin's token so that staff operations are reached past authentication. A fixed seed and a few examples
per operation keep the run deterministic and short on both databases.

Beyond the schema, the generated values lean towards what has broken servers before: dates at the ends
of the calendar (years 1 and 9999), control characters in path parameters, scan-history cursors that
carry extreme instants and numbers, and bodies aimed at the admin's own organization so that they get
past the organization check to the date arithmetic behind it.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from admit.api.schemas import MAX_ID
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
    # Dates, cursors and schedules: the staff side's arithmetic on what a client sends.
    "GET /api/operators/scan-history",
    "GET /api/operators/scan-history.csv",
    "GET /api/reservations.csv",
    "POST /api/operators",
    "PATCH /api/operators/{operator_id}",
    "POST /api/operators/{operator_id}/pin",
    "GET /api/operator/stats",
    "GET /api/operator/search",
    "POST /api/reservation-slots/create",
    "PATCH /api/reservation-slots/{slot_id}",
    "GET /api/reservation-slots/available",
    "GET /api/tickets/{code}/availability",
    "GET /api/reservations/{reservation_id}",
    # A ticket named by a code or its last characters.
    "GET /api/tickets/{ticket}/story",
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

# Every `format: date` value: often one at an end of the calendar or just outside the supported years.
EDGE_DATES = [date.min, date.max, date(1999, 12, 31), date(2000, 1, 1), date(2999, 12, 31), date(3000, 1, 1)]
schemathesis.openapi.format("date", st.one_of(st.sampled_from(EDGE_DATES), st.dates()).map(date.isoformat))

ODD_CHARACTERS = ["\x00", "ab\x00cd", "\x01", "\x1b", "\x7f"]
EDGE_INSTANTS = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2025-11-20T09:00:00"]
EDGE_NUMBERS = [0, -1, 2**31, 2**63, 10**40]
# The organization whose admin sends the requests: set by the `admin_headers` fixture for each test.
ADMIN: dict[str, int] = {}


@schema.hook
def flatmap_path_parameters(_context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """As generated, or with one parameter replaced by a value holding a control character."""
    if not path_parameters:
        return st.just(path_parameters)
    spoilt = st.builds(
        lambda name, odd: {**path_parameters, name: odd},
        st.sampled_from(sorted(path_parameters)),
        st.sampled_from(ODD_CHARACTERS),
    )
    return st.one_of(st.just(path_parameters), spoilt)


def _cursor(instant: str, number: int) -> str:
    return base64.urlsafe_b64encode(f"{instant}|{number}".encode()).decode()


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any] | None) -> Any:
    """The scan history's cursor, often one made of an extreme instant or number."""
    if context.operation is None or context.operation.path != "/api/operators/scan-history":
        return st.just(query)
    instants = st.one_of(st.sampled_from(EDGE_INSTANTS), st.datetimes().map(lambda at: at.isoformat()))
    numbers = st.one_of(st.sampled_from(EDGE_NUMBERS), st.integers())
    cursors = st.builds(_cursor, instants, numbers)
    return st.one_of(st.just(query), cursors.map(lambda cursor: {**(query or {}), "cursor": cursor}))


@schema.hook
def map_body(_context: Any, body: Any) -> Any:
    """A body naming an organization names the admin's own, so that it reaches the work behind the check."""
    # Only a valid id is swapped for another valid id: a body that is wrong on purpose stays wrong.
    orq = body.get("orq") if isinstance(body, dict) else None
    if type(orq) is int and 1 <= orq <= MAX_ID and ADMIN:
        return {**body, "orq": ADMIN["orq"]}
    return body


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
    ADMIN["orq"] = make.org()
    return make.admin(ADMIN["orq"]).headers


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
        headers=None if spoils_headers(case) else admin_headers,
        checks=[not_a_server_error, error_shape, negative_data_rejection],
    )


def spoils_headers(case: schemathesis.Case[Any]) -> bool:
    """Whether the case is wrong on purpose in its headers, the token among them: the admin's token
    must not then be put back, or the request the fuzzer spoilt would be whole again."""
    components = case.meta.components if case.meta is not None else {}
    header = components.get(ParameterLocation.HEADER)
    return header is not None and header.mode is GenerationMode.NEGATIVE
