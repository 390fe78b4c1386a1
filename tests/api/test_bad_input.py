"""Bad input on every endpoint: a 4xx in the one error shape, never a 500, and not a row changed.

Each table row is one request that must be refused. `Probe.send` takes a snapshot of every table
before the request and compares it after; `assert_error` holds the body to exactly
{"error": {"code", "message", "details"}}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import httpx2
import jwt
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from admit.security import passwords
from admit.services.issuance import MAX_QUANTITY
from tests.builders import PASSWORD, Builders

LIMIT = 64 * 1024
UNKNOWN_CODE = "ABCD-EFGH-JKMN-PQRS-TVWX"
UNKNOWN_ORDER = "0" * 32
UNKNOWN_ORQ = 2**31 - 1
MISSING: Any = object()  # a field left out of the body, or no body at all

# --- the world each request is aimed at -------------------------------------------------------------


@dataclass
class World:
    """Two organizations, each with an admin, an unpaid order and a ticket; each part made on first use."""

    make: Builders

    @cached_property
    def orq(self) -> int:
        return self.make.org("Museum")

    @cached_property
    def headers(self) -> dict[str, str]:
        return self.make.admin(self.orq).headers

    @cached_property
    def username(self) -> str:
        return self.make.admin(self.orq).username

    @cached_property
    def order_id(self) -> str:
        """Unpaid: confirming it would change its tickets."""
        return str(self.make.order(self.orq, paid=False)["order_id"])

    @cached_property
    def code(self) -> str:
        """INACTIVE: activating or voiding it would change it."""
        return self.make.ticket(self.orq, "INACTIVE")

    @cached_property
    def other_orq(self) -> int:
        return self.make.org("Other museum")

    @cached_property
    def other_order_id(self) -> str:
        return str(self.make.order(self.other_orq, paid=False)["order_id"])

    @cached_property
    def other_code(self) -> str:
        return self.make.ticket(self.other_orq, "INACTIVE")

    def url(self, template: str) -> str:
        names = ("orq", "order_id", "code", "other_orq", "other_order_id", "other_code")
        return template.format(**{name: getattr(self, name) for name in names if f"{{{name}}}" in template})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    admin: bool = False


ENDPOINTS = {
    "login": Endpoint("POST", "/api/operator/login"),
    "organization": Endpoint("GET", "/api/organizations/{orq}", admin=True),
    "policy": Endpoint("PATCH", "/api/organizations/{orq}/policy", admin=True),
    "order": Endpoint("POST", "/api/orders", admin=True),
    "confirm": Endpoint("POST", "/api/orders/{order_id}/confirm-payment", admin=True),
    "void": Endpoint("POST", "/api/tickets/{code}/void", admin=True),
    "status": Endpoint("GET", "/api/tickets/{code}/status"),
    "activate": Endpoint("POST", "/api/tickets/{code}/activate"),
    "validate": Endpoint("POST", "/api/tickets/validate"),
}
WITH_BODY = ("login", "policy", "order", "validate")
ADMIN_ONLY = tuple(name for name, endpoint in ENDPOINTS.items() if endpoint.admin)


def valid_body(endpoint: str, world: World) -> dict[str, Any]:
    """A body the endpoint would accept; the rows below spoil one part of it."""
    if endpoint == "login":
        return {"username": world.username, "password": PASSWORD}
    if endpoint == "policy":
        return {"cancellation_allowed": False}
    if endpoint == "order":
        return {"orq": world.orq, "quantity": 1, "activation_mode": "pre_made", "paid": True}
    if endpoint == "validate":
        return {"code": world.code}
    return {}


def spoilt(endpoint: str, world: World, **changes: Any) -> dict[str, Any]:
    body = valid_body(endpoint, world)
    for name, value in changes.items():
        if value is MISSING:
            body.pop(name, None)
        else:
            body[name] = value
    return body


# --- sending and judging ------------------------------------------------------------------------------


@dataclass
class Probe:
    """Aims one request at the world and proves that it changed no row anywhere."""

    make: Builders
    api: TestClient
    world: World

    def send(
        self,
        endpoint: str,
        *,
        method: str | None = None,
        path: str | None = None,
        headers: dict[str, Any] | None = None,
        body: Any = MISSING,
        content: bytes | Iterator[bytes] | None = None,
        content_type: str | None = "application/json",
    ) -> httpx2.Response:
        """`headers` replaces the admin's token that admin endpoints get by default."""
        target = ENDPOINTS[endpoint]
        url = self.world.url(path or target.path)
        if headers is None:
            headers = self.world.headers if target.admin else {}
        headers = dict(headers)
        if body is not MISSING:
            content = json.dumps(body).encode()
        if content is not None and content_type is not None:
            headers["Content-Type"] = content_type
        return self.call(method or target.method, url, headers=headers, content=content)

    def call(
        self, method: str, url: str, *, headers: dict[str, Any] | None = None, content: Any = None
    ) -> httpx2.Response:
        """Any request, by the admin unless `headers` say otherwise, proven to change no row."""
        headers = self.world.headers if headers is None else headers  # made before the snapshot
        before = self.make.snapshot()
        response = self.api.request(method, url, headers=headers, content=content)
        assert self.make.snapshot() == before, f"{url} changed the database and answered {response.text}"
        return response

    def post_json(self, url: str, body: dict[str, Any]) -> httpx2.Response:
        headers = {**self.world.headers, "Content-Type": "application/json"}
        return self.call("POST", url, headers=headers, content=json.dumps(body).encode())

    def field(self, endpoint: str, field: str, value: Any) -> httpx2.Response:
        """The endpoint's valid body with one field spoilt (or left out: MISSING)."""
        return self.send(endpoint, body=spoilt(endpoint, self.world, **{field: value}))


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff passwords at the lowest Argon2 cost, as Django's test runs swap in a fast hasher.

    At production cost, hashing and checking each test's admin password is most of the run's time;
    these tests are about input, not passwords.
    """
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))


@pytest.fixture
def probe(make: Builders, client: TestClient) -> Iterator[Probe]:
    # The same application, but a server error comes back as its 500 instead of being raised here.
    with TestClient(client.app, raise_server_exceptions=False) as api:
        yield Probe(make, api, World(make))


def assert_error_shape(response: httpx2.Response) -> dict[str, Any]:
    """A 4xx whose JSON body is exactly {"error": {"code", "message", "details"}}; never a 500."""
    assert response.status_code < 500, f"server error: {response.status_code} {response.text}"
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert isinstance(error["code"], str), body
    assert error["code"] and error["code"] == error["code"].upper(), body
    assert isinstance(error["message"], str), body
    assert error["message"].strip(), body
    assert isinstance(error["details"], dict), body
    return error


def assert_error(response: httpx2.Response, status: int, code: str, *, field: str | None = None) -> None:
    error = assert_error_shape(response)
    assert (response.status_code, error["code"]) == (status, code), response.text
    if field is not None:
        fields = error["details"].get("fields")
        assert isinstance(fields, dict), response.text
        # A nested or union field reads "entry_window.…": it still starts with the field's name.
        assert any(name == field or name.startswith(f"{field}.") for name in fields), fields
        assert all(isinstance(reason, str) and reason for reason in fields.values()), fields


def chunked(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    """The body as an iterator: sent without Content-Length (Transfer-Encoding: chunked)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def row(endpoint: str, field: str, value: Any, label: str | None = None) -> Any:
    return pytest.param(endpoint, field, value, id=f"{endpoint}.{field}={label or json.dumps(value)}")


# --- one field at a time -------------------------------------------------------------------------------

WRONG_TYPES = [
    row("login", "username", 123),
    row("login", "username", True),
    row("login", "username", None),
    row("login", "username", ["admin"]),
    row("login", "username", {"name": "admin"}),
    row("login", "password", 12345678),
    row("login", "password", ["secret"]),
    row("login", "pin", 1234),
    row("login", "pin", 1234.0),
    row("order", "orq", "1"),
    row("order", "orq", True),
    row("order", "orq", 1.5),
    row("order", "orq", None),
    row("order", "orq", [1]),
    row("order", "quantity", "2"),
    row("order", "quantity", 2.0),
    row("order", "quantity", True),
    row("order", "quantity", None),
    row("order", "quantity", {"n": 2}),
    row("order", "paid", "true"),
    row("order", "paid", "yes"),
    row("order", "paid", 1),
    row("order", "paid", None),
    row("order", "activation_mode", 1),
    row("order", "activation_mode", None),
    row("order", "activation_mode", ["immediate"]),
    row("order", "customer_email", 42),
    row("order", "customer_email", True),
    row("order", "customer_email", ["visitor@example.com"]),
    row("order", "customer_email", {}),
    row("order", "valid_until", "tomorrow"),
    row("order", "valid_until", "2025-02-30"),
    row("order", "valid_until", "20/11/2025"),
    row("order", "valid_until", ["2025-12-31"]),
    row("policy", "unreserved_entry", 1),
    row("policy", "unreserved_entry", True),
    row("policy", "unreserved_entry", ["deny"]),
    row("policy", "reservation_changes", 0),
    row("policy", "change_cutoff_hours", "24"),
    row("policy", "change_cutoff_hours", 24.5),
    row("policy", "change_cutoff_hours", True),
    row("policy", "cancellation_allowed", "true"),
    row("policy", "cancellation_allowed", "false"),
    row("policy", "cancellation_allowed", 1),
    row("policy", "entry_window", 15),
    row("policy", "entry_window", True),
    row("policy", "entry_window", ["day"]),
    row("policy", "entry_window", {"minutes_before_start": "15", "minutes_after_end": 15}),
    row("policy", "entry_window", {"minutes_before_start": 15, "minutes_after_end": False}),
    row("validate", "code", 123),
    row("validate", "code", True),
    row("validate", "code", None),
    row("validate", "code", ["ABCD"]),
    row("validate", "code", {"code": "ABCD"}),
]
# A null is how a client might try to clear a policy field: every one of them must keep a value.
NULL_POLICY_FIELDS = [
    row("policy", name, None)
    for name in (
        "unreserved_entry",
        "reservation_changes",
        "change_cutoff_hours",
        "cancellation_allowed",
        "entry_window",
    )
]
MISSING_FIELDS = [
    row("login", "username", MISSING, "missing"),
    row("order", "orq", MISSING, "missing"),
    row("order", "quantity", MISSING, "missing"),
    row("order", "activation_mode", MISSING, "missing"),
    row("order", "paid", MISSING, "missing"),
    row("validate", "code", MISSING, "missing"),
]
UNKNOWN_ENUM_VALUES = [
    row("order", "activation_mode", "later"),
    row("order", "activation_mode", "IMMEDIATE"),
    row("order", "activation_mode", "Pre_Made"),
    row("order", "activation_mode", "immediate "),
    row("order", "activation_mode", ""),
    row("policy", "unreserved_entry", "maybe"),
    row("policy", "unreserved_entry", "DENY"),
    row("policy", "reservation_changes", "always"),
    row("policy", "reservation_changes", ""),
    row("policy", "entry_window", "week"),
    row("policy", "entry_window", "DAY"),
]
OUT_OF_RANGE = [
    row("order", "quantity", 0),
    row("order", "quantity", -1),
    row("order", "quantity", MAX_QUANTITY + 1),
    row("order", "quantity", 10**20),
    row("order", "orq", 0),
    row("order", "orq", -1),
    row("order", "orq", 2**31),
    row("order", "orq", 2**63),
    row("order", "customer_email", "not-an-email"),
    row("order", "customer_email", "visitor@"),
    row("policy", "change_cutoff_hours", -1),
    row("policy", "change_cutoff_hours", 24 * 365 + 1),
    row("policy", "entry_window", {"minutes_before_start": -1, "minutes_after_end": 0}),
    row("policy", "entry_window", {"minutes_before_start": 0, "minutes_after_end": 24 * 60 + 1}),
    row("login", "username", ""),
    row("login", "password", ""),
    row("login", "pin", ""),
    row("login", "pin", "1" * 17),
    row("validate", "code", ""),
]
# 60 kB still fits in a body under the limit: each field has its own, much lower, maximum.
LONG_STRINGS = [
    row(endpoint, name, "x" * 60_000, "60kB")
    for endpoint, name in [
        ("login", "username"),
        ("login", "password"),
        ("login", "pin"),
        ("order", "activation_mode"),
        ("order", "customer_email"),
        ("order", "valid_until"),
        ("policy", "unreserved_entry"),
        ("policy", "reservation_changes"),
        ("policy", "entry_window"),
        ("validate", "code"),
    ]
]


@pytest.mark.parametrize(("endpoint", "field", "value"), WRONG_TYPES)
def test_a_field_of_the_wrong_type_is_422_naming_the_field(
    probe: Probe, endpoint: str, field: str, value: Any
) -> None:
    assert_error(probe.field(endpoint, field, value), 422, "VALIDATION_ERROR", field=field)


@pytest.mark.parametrize(("endpoint", "field", "value"), NULL_POLICY_FIELDS)
def test_a_policy_field_set_to_null_is_422_naming_the_field(
    probe: Probe, endpoint: str, field: str, value: Any
) -> None:
    assert_error(probe.send(endpoint, body={field: value}), 422, "VALIDATION_ERROR", field=field)


@pytest.mark.parametrize(("endpoint", "field", "value"), MISSING_FIELDS)
def test_a_missing_required_field_is_422_naming_the_field(
    probe: Probe, endpoint: str, field: str, value: Any
) -> None:
    assert_error(probe.field(endpoint, field, value), 422, "VALIDATION_ERROR", field=field)


@pytest.mark.parametrize(("endpoint", "field", "value"), UNKNOWN_ENUM_VALUES)
def test_an_unknown_enum_value_is_422_naming_the_field(
    probe: Probe, endpoint: str, field: str, value: Any
) -> None:
    assert_error(probe.field(endpoint, field, value), 422, "VALIDATION_ERROR", field=field)


@pytest.mark.parametrize(("endpoint", "field", "value"), OUT_OF_RANGE)
def test_a_value_out_of_its_range_is_422_naming_the_field(
    probe: Probe, endpoint: str, field: str, value: Any
) -> None:
    assert_error(probe.field(endpoint, field, value), 422, "VALIDATION_ERROR", field=field)


@pytest.mark.parametrize(("endpoint", "field", "value"), LONG_STRINGS)
def test_a_long_string_in_a_field_is_422_naming_the_field(
    probe: Probe, endpoint: str, field: str, value: Any
) -> None:
    assert_error(probe.field(endpoint, field, value), 422, "VALIDATION_ERROR", field=field)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
        pytest.param(
            {"cancellation_allowed": False, "Cancellation_Allowed": True}, "Cancellation_Allowed", id="case"
        ),
        pytest.param({"policy": {"cancellation_allowed": False}}, "policy", id="wrapped-in-policy"),
        pytest.param({"orq": 1}, "orq", id="orq"),
        pytest.param(
            {"entry_window": {"minutes_before_start": 5, "minutes_after_end": 5, "minutes": 5}},
            "entry_window",
            id="unknown-field-in-entry-window",
        ),
        pytest.param({"entry_window": {"minutes_before_start": 5}}, "entry_window", id="half-a-window"),
        pytest.param({"entry_window": {}}, "entry_window", id="empty-window"),
    ],
)
def test_a_policy_patch_with_unknown_or_incomplete_fields_is_422_naming_them(
    probe: Probe, patch: dict[str, Any], field: str
) -> None:
    assert_error(probe.send("policy", body=patch), 422, "VALIDATION_ERROR", field=field)


@pytest.mark.parametrize("value", [86400, "2025-11-20T00:00:00"], ids=["number", "datetime"])
def test_a_date_must_be_a_yyyy_mm_dd_string(probe: Probe, value: Any) -> None:
    assert_error(probe.field("order", "valid_until", value), 422, "VALIDATION_ERROR", field="valid_until")


SECRETS = [pytest.param({}, id="neither"), pytest.param({"password": PASSWORD, "pin": "1234"}, id="both")]


@pytest.mark.parametrize("secrets", SECRETS)
def test_a_login_without_exactly_one_secret_is_422(probe: Probe, secrets: dict[str, str]) -> None:
    body = {"username": probe.world.username, **secrets}
    assert_error(probe.send("login", body=body), 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("secrets", SECRETS)
def test_a_login_without_exactly_one_secret_names_password_and_pin(
    probe: Probe, secrets: dict[str, str]
) -> None:
    response = probe.send("login", body={"username": probe.world.username, **secrets})
    assert_error(response, 422, "VALIDATION_ERROR")
    assert {"password", "pin"} <= set(response.json()["error"]["details"]["fields"])


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        pytest.param("login", {"username": "admin\x00", "password": PASSWORD}, id="login.username"),
        pytest.param("login", {"username": "nobody", "pin": "12\x0034"}, id="login.pin"),
        pytest.param("validate", {"code": "ABCD\x00EFGH"}, id="validate.code"),
        pytest.param("order", {"customer_email": "visitor\x00@example.com"}, id="order.customer_email"),
        pytest.param("policy", {"unreserved_entry": "deny\x00"}, id="policy.unreserved_entry"),
    ],
)
def test_a_nul_character_in_a_string_is_refused_never_a_500(
    probe: Probe,
    endpoint: str,
    body: dict[str, Any],
) -> None:
    if endpoint != "login":
        body = spoilt(endpoint, probe.world, **body)
    assert_error_shape(probe.send(endpoint, body=body))


# --- whole bodies ---------------------------------------------------------------------------------------

NOT_AN_OBJECT = [b"[]", b"null", b'"text"', b"42", b"true"]
NOT_JSON = [
    pytest.param(None, None, id="no-body"),
    pytest.param(b"", "application/json", id="empty"),
    pytest.param(b'{"code": "ABCD"}', "text/plain", id="text-plain"),
    pytest.param(b"code=ABCD", "application/x-www-form-urlencoded", id="form"),
    pytest.param(b'{"code": "ABCD"}', None, id="no-content-type"),
]
MALFORMED_JSON = {
    "truncated": b'{"code": "ABCD',
    "single-quotes": b"{'code': 'ABCD'}",
    "trailing-brace": b'{"code": "ABCD"}}',
    "trailing-comma": b'{"code": "ABCD",}',
    "bare-word": b"code",
    "nul-byte": b"\x00",
    "nested-20000-deep": b"[" * 20_000 + b"]" * 20_000,
    "integer-of-5000-digits": b'{"orq": 1' + b"0" * 5000 + b"}",
}
NOT_UTF8 = {
    "latin-1": b'{"code": "caf\xe9", "username": "caf\xe9"}',
    "ff-byte": b'{"code": "\xff\xfe", "username": "\xff"}',
    "truncated-sequence": b'{"code": "\xe2\x82"}',
}


# Body parsing is the same machinery on every endpoint: one test per kind of body, each endpoint a subtest.


@pytest.mark.parametrize("raw", NOT_AN_OBJECT, ids=[raw.decode() for raw in NOT_AN_OBJECT])
def test_a_body_that_is_not_an_object_is_422(probe: Probe, subtests: pytest.Subtests, raw: bytes) -> None:
    for endpoint in WITH_BODY:
        with subtests.test(endpoint=endpoint):
            assert_error(probe.send(endpoint, content=raw), 422, "VALIDATION_ERROR", field="body")


@pytest.mark.parametrize(("raw", "content_type"), NOT_JSON)
def test_a_missing_body_or_one_not_sent_as_json_is_422(
    probe: Probe, subtests: pytest.Subtests, raw: bytes | None, content_type: str | None
) -> None:
    for endpoint in WITH_BODY:
        with subtests.test(endpoint=endpoint):
            response = probe.send(endpoint, content=raw, content_type=content_type)
            assert_error(response, 422, "VALIDATION_ERROR", field="body")


@pytest.mark.parametrize("raw", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_malformed_json_is_400(probe: Probe, subtests: pytest.Subtests, raw: bytes) -> None:
    for endpoint in WITH_BODY:
        with subtests.test(endpoint=endpoint):
            assert_error(probe.send(endpoint, content=raw), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("raw", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_a_body_that_is_not_utf8_is_400(probe: Probe, subtests: pytest.Subtests, raw: bytes) -> None:
    for endpoint in WITH_BODY:
        with subtests.test(endpoint=endpoint):
            assert_error(probe.send(endpoint, content=raw), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    ("endpoint", "raw", "field"),
    [
        pytest.param("validate", b'{"code": "\\ud800"}', "code", id="escaped"),
        pytest.param("validate", b'{"code": "\xed\xa0\x80"}', "code", id="encoded"),
        pytest.param("login", b'{"username": "\\udfff", "password": "x"}', "username", id="login"),
    ],
)
def test_a_lone_surrogate_in_a_string_is_422_naming_the_field(
    probe: Probe, endpoint: str, raw: bytes, field: str
) -> None:
    assert_error(probe.send(endpoint, content=raw), 422, "VALIDATION_ERROR", field=field)


# --- the body limit ---------------------------------------------------------------------------------------


def oversized_body(endpoint: str, world: World) -> bytes:
    """100 kB in a real field of the endpoint's body, or as the whole body of one that takes none."""
    huge = "x" * 100_000
    field = {"login": "username", "policy": "unreserved_entry", "order": "customer_email", "validate": "code"}
    if endpoint in field:
        return json.dumps(spoilt(endpoint, world, **{field[endpoint]: huge})).encode()
    return json.dumps({"padding": huge}).encode()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_over_64_kib_is_413(probe: Probe, endpoint: str) -> None:
    response = probe.send(endpoint, content=oversized_body(endpoint, probe.world))
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("endpoint", WITH_BODY)
def test_a_body_over_64_kib_sent_chunked_is_413(probe: Probe, endpoint: str) -> None:
    response = probe.send(endpoint, content=chunked(oversized_body(endpoint, probe.world)))
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("transfer", ["content-length", "chunked"])
def test_the_body_limit_is_64_kib_exactly(probe: Probe, transfer: str) -> None:
    def send(size: int) -> httpx2.Response:
        code = "x" * (size - len(json.dumps({"code": ""})))
        raw = json.dumps({"code": code}).encode()
        assert len(raw) == size
        return probe.send("validate", content=chunked(raw) if transfer == "chunked" else raw)

    assert_error(send(LIMIT), 422, "VALIDATION_ERROR", field="code")  # read whole, refused for its length
    assert_error(send(LIMIT + 1), 413, "PAYLOAD_TOO_LARGE")


def test_a_chunked_body_under_the_limit_is_read_like_any_other(probe: Probe) -> None:
    raw = json.dumps({"code": probe.world.code}).encode()
    response = probe.send("validate", content=chunked(raw, size=7))
    assert "content-length" not in response.request.headers
    assert_error(response, 409, "NOT_ACTIVATED")


# --- path parameters ---------------------------------------------------------------------------------------

SPOILT_PATHS = [
    # (endpoint, path with one parameter spoilt, status, code, field named)
    ("status", "/api/tickets/%FF/status", 404, "TICKET_NOT_FOUND", None),
    ("status", "/api/tickets/%C3%28%FE/status", 404, "TICKET_NOT_FOUND", None),
    ("status", "/api/tickets/ABCD%00EFGH/status", 404, "TICKET_NOT_FOUND", None),
    ("status", "/api/tickets/" + "A" * 60_000 + "/status", 422, "VALIDATION_ERROR", "code"),
    ("activate", "/api/tickets/%FF/activate", 404, "TICKET_NOT_FOUND", None),
    ("activate", "/api/tickets/%00/activate", 404, "TICKET_NOT_FOUND", None),
    ("activate", "/api/tickets/" + "A" * 81 + "/activate", 422, "VALIDATION_ERROR", "code"),
    ("void", "/api/tickets/%FF/void", 404, "TICKET_NOT_FOUND", None),
    ("void", "/api/tickets/%00/void", 404, "TICKET_NOT_FOUND", None),
    ("void", "/api/tickets/" + "A" * 60_000 + "/void", 422, "VALIDATION_ERROR", "code"),
    # An order id is 32 hexadecimal digits: anything else is refused before any look-up.
    ("confirm", "/api/orders/%FF/confirm-payment", 422, "VALIDATION_ERROR", "order_id"),
    ("confirm", "/api/orders/%C3%28/confirm-payment", 422, "VALIDATION_ERROR", "order_id"),
    ("confirm", "/api/orders/%00/confirm-payment", 422, "VALIDATION_ERROR", "order_id"),
    ("confirm", "/api/orders/" + "f" * 32 + "/confirm-payment", 404, "ORDER_NOT_FOUND", None),
    ("confirm", "/api/orders/" + "a" * 65 + "/confirm-payment", 422, "VALIDATION_ERROR", "order_id"),
    ("organization", "/api/organizations/%FF", 422, "VALIDATION_ERROR", "orq"),
    ("organization", "/api/organizations/abc", 422, "VALIDATION_ERROR", "orq"),
    ("organization", "/api/organizations/true", 422, "VALIDATION_ERROR", "orq"),
    ("organization", "/api/organizations/1.5", 422, "VALIDATION_ERROR", "orq"),
    ("organization", "/api/organizations/0", 422, "VALIDATION_ERROR", "orq"),
    ("organization", "/api/organizations/-1", 422, "VALIDATION_ERROR", "orq"),
    ("organization", "/api/organizations/2147483648", 422, "VALIDATION_ERROR", "orq"),
    ("organization", "/api/organizations/" + "9" * 60_000, 422, "VALIDATION_ERROR", "orq"),
    ("policy", "/api/organizations/%FF/policy", 422, "VALIDATION_ERROR", "orq"),
    ("policy", "/api/organizations/%00/policy", 422, "VALIDATION_ERROR", "orq"),
    ("policy", "/api/organizations/one/policy", 422, "VALIDATION_ERROR", "orq"),
]


@pytest.mark.parametrize(
    ("endpoint", "path", "status", "code", "field"),
    [pytest.param(*spec, id=f"{spec[0]}:{spec[1][:48]}") for spec in SPOILT_PATHS],
)
def test_a_spoilt_path_parameter_is_404_or_422_never_a_500(
    probe: Probe,
    endpoint: str,
    path: str,
    status: int,
    code: str,
    field: str | None,
) -> None:
    body = valid_body(endpoint, probe.world) if endpoint in WITH_BODY else MISSING
    assert_error(probe.send(endpoint, path=path, body=body), status, code, field=field)


# --- unknown and foreign things ---------------------------------------------------------------------------

UNKNOWN = [
    ("status", f"/api/tickets/{UNKNOWN_CODE}/status", {}, "TICKET_NOT_FOUND"),
    ("activate", f"/api/tickets/{UNKNOWN_CODE}/activate", {}, "TICKET_NOT_FOUND"),
    ("void", f"/api/tickets/{UNKNOWN_CODE}/void", {}, "TICKET_NOT_FOUND"),
    ("validate", None, {"code": UNKNOWN_CODE}, "TICKET_NOT_FOUND"),
    ("validate", None, {"code": "not even a code"}, "TICKET_NOT_FOUND"),
    ("confirm", f"/api/orders/{UNKNOWN_ORDER}/confirm-payment", {}, "ORDER_NOT_FOUND"),
    ("organization", f"/api/organizations/{UNKNOWN_ORQ}", {}, "ORGANIZATION_NOT_FOUND"),
    ("policy", f"/api/organizations/{UNKNOWN_ORQ}/policy", {}, "ORGANIZATION_NOT_FOUND"),
    ("order", None, {"orq": UNKNOWN_ORQ}, "ORGANIZATION_NOT_FOUND"),
]
FOREIGN = [
    ("organization", "/api/organizations/{other_orq}", "ORGANIZATION_NOT_FOUND"),
    ("policy", "/api/organizations/{other_orq}/policy", "ORGANIZATION_NOT_FOUND"),
    ("order", None, "ORGANIZATION_NOT_FOUND"),
    ("confirm", "/api/orders/{other_order_id}/confirm-payment", "ORDER_NOT_FOUND"),
    ("void", "/api/tickets/{other_code}/void", "TICKET_NOT_FOUND"),
]


@pytest.mark.parametrize(
    ("endpoint", "path", "changes", "code"), [pytest.param(*spec, id=spec[0]) for spec in UNKNOWN]
)
def test_an_unknown_code_or_id_is_404_with_its_error_code(
    probe: Probe, endpoint: str, path: str | None, changes: dict[str, Any], code: str
) -> None:
    body = spoilt(endpoint, probe.world, **changes) if endpoint in WITH_BODY else MISSING
    assert_error(probe.send(endpoint, path=path, body=body), 404, code)


@pytest.mark.parametrize(("endpoint", "path", "code"), [pytest.param(*spec, id=spec[0]) for spec in FOREIGN])
def test_another_organizations_things_read_as_unknown_to_an_admin(
    probe: Probe, endpoint: str, path: str | None, code: str
) -> None:
    body = valid_body(endpoint, probe.world) if endpoint in WITH_BODY else MISSING
    if endpoint == "order":
        body["orq"] = probe.world.other_orq
    assert_error(probe.send(endpoint, path=path, body=body), 404, code)


# --- tokens and methods -------------------------------------------------------------------------------------

BAD_TOKENS: dict[str, tuple[dict[str, Any], str]] = {
    "none": ({}, "NOT_AUTHENTICATED"),
    "bearer-without-token": ({"Authorization": "Bearer"}, "NOT_AUTHENTICATED"),
    "basic": ({"Authorization": "Basic YWRtaW46c2VjcmV0"}, "NOT_AUTHENTICATED"),
    "garbage": ({"Authorization": "Bearer not.a.token"}, "INVALID_TOKEN"),
    "8kB": ({"Authorization": "Bearer " + "x" * 8192}, "INVALID_TOKEN"),
    "not-ascii": ({"Authorization": b"Bearer \xff\xfe\xe9"}, "INVALID_TOKEN"),
}


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_a_missing_or_bad_token_is_401_on_every_admin_endpoint(
    probe: Probe, subtests: pytest.Subtests, token: str
) -> None:
    headers, code = BAD_TOKENS[token]
    for endpoint in ADMIN_ONLY:
        with subtests.test(endpoint=endpoint):
            body = valid_body(endpoint, probe.world) if endpoint in WITH_BODY else MISSING
            assert_error(probe.send(endpoint, headers=headers, body=body), 401, code)


@pytest.mark.parametrize(
    ("endpoint", "method"),
    [
        ("login", "GET"),
        ("order", "GET"),
        ("organization", "DELETE"),
        ("policy", "PUT"),
        ("confirm", "GET"),
        ("void", "DELETE"),
        ("status", "POST"),
        ("activate", "GET"),
        ("validate", "PUT"),
    ],
)
def test_a_method_an_endpoint_does_not_take_is_405(probe: Probe, endpoint: str, method: str) -> None:
    assert_error(probe.send(endpoint, method=method), 405, "METHOD_NOT_ALLOWED")


# --- odd characters in any path parameter, on pages and API routes alike ------------------------------------

# NUL cannot be stored or compared in PostgreSQL text; the other control characters are never part of an
# id or a code either. Every route with a path parameter, pages included, with each kind of character.
ODD_CHARACTERS = {"nul": "%00", "nul-inside": "ab%00cd", "control": "%01", "escape": "%1B", "delete": "%7F"}
PARAMETER_ROUTES = [
    ("GET", "/reserve/{}"),
    ("GET", "/api/reservations/{}"),
    ("PUT", "/api/reservations/{}"),
    ("DELETE", "/api/reservations/{}"),
    ("GET", "/api/reservations/{}/qr.png"),
    ("GET", "/api/reservations/{}/qr.svg"),
    ("GET", "/api/reservations/{}/calendar.ics"),
    ("GET", "/api/tickets/{}/status"),
    ("POST", "/api/tickets/{}/activate"),
    ("GET", "/api/tickets/{}/availability"),
    ("POST", "/api/tickets/{}/void"),
    ("POST", "/api/orders/{}/confirm-payment"),
    ("GET", "/api/organizations/{}"),
    ("PATCH", "/api/organizations/{}/policy"),
    ("PATCH", "/api/reservation-slots/{}"),
    ("POST", "/api/mail/outbox/{}/retry"),
]


@pytest.mark.parametrize("value", ODD_CHARACTERS.values(), ids=ODD_CHARACTERS.keys())
@pytest.mark.parametrize(("method", "route"), PARAMETER_ROUTES, ids=[f"{m} {r}" for m, r in PARAMETER_ROUTES])
def test_a_control_character_in_a_path_parameter_is_a_4xx_in_the_error_shape(
    probe: Probe, method: str, route: str, value: str
) -> None:
    assert_error_shape(probe.call(method, route.format(value), content=b"{}"))


def test_the_reservation_page_refuses_an_id_with_a_nul_naming_the_parameter(probe: Probe) -> None:
    assert_error(probe.call("GET", "/reserve/%00"), 422, "VALIDATION_ERROR", field="reservation_id")


# --- dates at the ends of the calendar ----------------------------------------------------------------------

# Years 1 and 9999 parse as dates, but a day's bounds in the venue's time, a day after or a fortnight
# around them do not exist: every date a client sends must fall in the years the service works with.
EXTREME_DATES = ["0001-01-01", "9999-12-31", "1999-12-31", "3000-01-01"]
DATE_QUERIES = [
    ("/api/operator/stats?date={}", "date"),
    ("/api/operators/scan-history?from={}", "from"),
    ("/api/operators/scan-history?to={}", "to"),
    ("/api/operators/scan-history.csv?from={}", "from"),
    ("/api/reservations.csv?date={}", "date"),
    ("/api/reservation-slots/available?orq={orq}&from={}", "from"),
    ("/api/reservation-slots/available?orq={orq}&to={}", "to"),
    ("/api/tickets/{code}/availability?from={}", "from"),
    ("/api/tickets/{code}/availability?to={}", "to"),
]


@pytest.mark.parametrize("day", EXTREME_DATES)
@pytest.mark.parametrize(
    ("query", "field"), DATE_QUERIES, ids=[q.split("?")[0] + ":" + f for q, f in DATE_QUERIES]
)
def test_a_date_query_at_the_ends_of_the_calendar_is_422_naming_it(
    probe: Probe, query: str, field: str, day: str
) -> None:
    url = query.replace("{orq}", str(probe.world.orq)).replace("{code}", probe.world.code).format(day)
    assert_error(probe.call("GET", url), 422, "VALIDATION_ERROR", field=field)


SLOT = {"total_capacity": 5}
SCHEDULE = {
    "total_capacity": 5,
    "weekdays": [0, 1, 2, 3, 4, 5, 6],
    "first_start": "09:00",
    "last_start": "17:00",
    "every_minutes": 60,
    "duration_minutes": 45,
}
DATE_BODIES = [
    ("slot", {**SLOT, "date": "9999-12-31", "start_time": "23:00", "end_time": "23:30"}, "date"),
    ("slot", {**SLOT, "date": "0001-01-01", "start_time": "00:00", "end_time": "00:30"}, "date"),
    ("schedule-9999", {**SCHEDULE, "from": "9999-12-01", "to": "9999-12-31"}, "from"),
    ("schedule-to-9999", {**SCHEDULE, "from": "2026-01-01", "to": "9999-12-31"}, "to"),
    (
        "order",
        {"quantity": 1, "activation_mode": "pre_made", "paid": True, "valid_until": "9999-12-31"},
        "valid_until",
    ),
]


@pytest.mark.parametrize(("kind", "body", "field"), DATE_BODIES, ids=[f"{k}.{f}" for k, _, f in DATE_BODIES])
def test_a_date_in_a_body_at_the_ends_of_the_calendar_is_422_naming_it(
    probe: Probe, kind: str, body: dict[str, Any], field: str
) -> None:
    url = "/api/orders" if kind == "order" else "/api/reservation-slots/create"
    response = probe.post_json(url, {"orq": probe.world.orq, **body})
    assert_error(response, 422, "VALIDATION_ERROR", field=field)


# --- weekly schedules are counted before anything is made ---------------------------------------------------


def create_schedule(probe: Probe, **changes: Any) -> httpx2.Response:
    body = {"orq": probe.world.orq, **SCHEDULE, "from": "2026-01-05", "to": "2026-01-11", **changes}
    return probe.post_json("/api/reservation-slots/create", body)


def test_a_schedule_over_the_slot_cap_is_422_with_its_count_and_makes_nothing(probe: Probe) -> None:
    """A year of slots every five minutes, day and night: 365 x 288 slots, refused with the count."""
    response = create_schedule(
        probe,
        **{"from": "2026-01-01", "to": "2026-12-31"},
        first_start="00:00",
        last_start="23:55",
        every_minutes=5,
        duration_minutes=5,
    )
    assert_error(response, 422, "VALIDATION_ERROR", field="to")
    assert response.json()["error"]["details"]["slots"] == 365 * 288


def test_a_schedule_over_a_century_is_refused_for_its_range_before_anything_is_counted(probe: Probe) -> None:
    response = create_schedule(probe, **{"from": "2026-01-01", "to": "2125-12-31"})
    assert_error(response, 422, "VALIDATION_ERROR", field="to")
    assert "366 days" in response.json()["error"]["details"]["fields"]["to"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"from": "2026-01-11", "to": "2026-01-05"}, "to", id="to-before-from"),
        pytest.param({"first_start": "17:00", "last_start": "09:00"}, "last_start", id="last-before-first"),
    ],
)
def test_a_schedule_that_runs_backwards_is_422_naming_the_field(
    probe: Probe, changes: dict[str, Any], field: str
) -> None:
    assert_error(create_schedule(probe, **changes), 422, "VALIDATION_ERROR", field=field)


# --- scan-history cursors are the client's data -------------------------------------------------------------


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


BAD_CURSORS = {
    "garbage": "garbage!",
    "nul": "%00",
    "lone-surrogate": "%ED%A0%80",
    "base64-of-garbage": b64("\x00\xff not a cursor"),
    "base64-of-json": b64(json.dumps({"scanned_at": "2025-11-20T09:00:00+00:00", "id": 1})),
    "three-parts": b64("2025-11-20T09:00:00+00:00|1|2"),
    "huge-id": b64("2025-11-20T09:00:00+00:00|" + "9" * 40),
    "negative-id": b64("2025-11-20T09:00:00+00:00|-5"),
    "zero-id": b64("2025-11-20T09:00:00+00:00|0"),
    "no-offset": b64("2025-11-20T09:00:00|5"),
    "a-date": b64("2025-11-20|5"),
    "year-1": b64("0001-01-01T00:00:00+14:00|5"),
    "year-9999": b64("9999-12-31T23:59:59-14:00|5"),
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_cursor_not_made_by_the_scan_history_is_422_naming_it(probe: Probe, cursor: str) -> None:
    response = probe.call("GET", f"/api/operators/scan-history?cursor={cursor}")
    assert_error(response, 422, "VALIDATION_ERROR", field="cursor")


# --- staff tokens signed with the right key but with claims this service never writes -----------------------


def forged_token(probe: Probe, **claims: Any) -> dict[str, str]:
    """A token signed as `TokenIssuer` signs (its key derived from the secret key), with `claims` changed."""
    secret = probe.make.context.settings.secret_key
    key = hmac.new(secret.encode(), b"staff-token", hashlib.sha256).digest()
    admin = probe.make.admin(probe.world.orq)
    issued = admin.headers["Authorization"].removeprefix("Bearer ")
    payload = jwt.decode(issued, key, algorithms=["HS256"], options={"verify_exp": False})
    payload.update(claims)
    return {"Authorization": f"Bearer {jwt.encode(payload, key, algorithm='HS256')}"}


FORGED_CLAIMS = {
    "exp-10**30": {"exp": 10**30},
    "exp-negative": {"exp": -1},
    "exp-zero": {"exp": 0},
    "exp-float": {"exp": time.time() + 3600.5},
    "exp-infinity": {"exp": float("inf")},
    "exp-true": {"exp": True},
    "exp-text": {"exp": "4102444800"},
    "sub-beyond-64-bit": {"sub": str(2**64 + 1)},
    "sub-beyond-32-bit": {"sub": str(2**31)},
    "sub-zero": {"sub": "0"},
    "sub-negative": {"sub": "-1"},
    "sub-number-words": {"sub": "1e3"},
    "sub-padded": {"sub": " 1"},
    "orq-infinity": {"orq": float("inf")},
    "orq-beyond-64-bit": {"orq": 2**64},
    "iat-infinity": {"iat": float("inf")},
    "gen-negative": {"gen": -1},
    "gen-beyond-64-bit": {"gen": 2**64},
    "gen-text": {"gen": "0"},
}


@pytest.mark.parametrize("claims", FORGED_CLAIMS.values(), ids=FORGED_CLAIMS.keys())
def test_a_token_with_an_out_of_range_claim_is_401_invalid_token(
    probe: Probe, claims: dict[str, Any]
) -> None:
    url = f"/api/organizations/{probe.world.orq}"
    assert probe.call("GET", url, headers=forged_token(probe)).status_code == 200  # the forgery itself holds
    assert_error(probe.call("GET", url, headers=forged_token(probe, **claims)), 401, "INVALID_TOKEN")
