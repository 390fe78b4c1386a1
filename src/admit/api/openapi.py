"""The OpenAPI document says what a failure looks like: one error body, for every route's errors.

FastAPI documents its own 422 body (`{"detail": [...]}`), which Admit never sends (api/errors.py turns
every failure into `{"error": {code, message, details}}`). The document is rewritten once, when it is
first asked for: each operation's error answers point to the one `ErrorBody` schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

REF = "#/components/schemas/{model}"
ERROR_BODY = {"$ref": REF.format(model="ErrorBody")}
# FastAPI's schemas of its own 422 body: described by ErrorBody instead.
FASTAPI_ONLY = ("HTTPValidationError", "ValidationError")
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


class ErrorOut(BaseModel):
    code: str = Field(description="Stable and meant for programs, e.g. SLOT_FULL or VALIDATION_ERROR.")
    message: str = Field(description="A sentence for people.")
    details: dict[str, Any] = Field(
        description="What the code needs said: e.g. `fields` (each invalid field and why) for "
        "VALIDATION_ERROR, `alternatives` for SLOT_FULL, the verdict for a refused verification."
    )


class ErrorBody(BaseModel):
    """Every failure's answer, whatever its status."""

    error: ErrorOut


# What each status means across the API; an operation may add its own statuses.
STANDARD = {
    "422": "Some fields are not valid (VALIDATION_ERROR): `details.fields` names each one and why.",
}
STAFF = {
    "401": "No staff token, or one that has expired, was logged out or whose account was disabled "
    "(NOT_AUTHENTICATED, INVALID_TOKEN, TOKEN_EXPIRED).",
    "403": "The staff member's role does not allow this (FORBIDDEN).",
}
DEFAULT = (
    "Any other refusal, with its code: 400 malformed (VALIDATION_ERROR, MISSING_PARAMETER), "
    "404 unknown, 409 state conflict, 413 body too large, 429 rate limited (RATE_LIMITED, with "
    "Retry-After), 503 busy (SERVICE_BUSY, with Retry-After: nothing was changed)."
)


def describe_errors(app: FastAPI) -> None:
    """Make `app.openapi()` document the real error body for every operation."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_bodies(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_error_bodies(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_ONLY:
        schemas.pop(name, None)
    body = ErrorBody.model_json_schema(ref_template=REF)
    schemas.update(body.pop("$defs", {}))
    schemas["ErrorBody"] = body
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            if method in METHODS:
                _describe(operation)
    return document


def _describe(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    added = {**(STAFF if operation.get("security") else {}), "default": DEFAULT}
    for status, description in {**STANDARD, **added}.items():
        if status in responses or status in added:
            responses.setdefault(status, {})["description"] = description
    for status, response in responses.items():
        if not status.startswith(("1", "2", "3")):
            response["content"] = {"application/json": {"schema": ERROR_BODY}}
