"""Every failure leaves as {"error": {"code", "message", "details"}}; FastAPI's own bodies never do."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from admit.errors import DomainError, http_status

log = structlog.get_logger()

_HTTP_CODES = {
    400: "VALIDATION_ERROR",
    401: "NOT_AUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _database_busy)  # type: ignore[arg-type]
    app.add_exception_handler(PoolTimeout, _database_busy)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
    retry_after = exc.details.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return error_response(http_status(exc), exc.code, exc.message, exc.details, headers=headers)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "VALIDATION_ERROR", "The request body is not valid JSON.")
    fields: dict[str, str] = {}
    for error in errors:
        # ("body", "quantity") → "quantity"; ("query", "orq") → "orq"
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        fields[".".join(location) or "body"] = str(error.get("msg", "invalid"))
    return error_response(422, "VALIDATION_ERROR", "Some fields are not valid.", {"fields": fields})


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    if exc.status_code == 400:
        message = "The request body could not be read as JSON."
    else:
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _database_busy(request: Request, exc: OperationalError | PoolTimeout) -> JSONResponse:
    # A lock wait or statement that ran out (SQLite's write lock, PostgreSQL's lock_timeout and
    # statement_timeout), a database that does not answer in time or is gone, or no free connection
    # in the pool: the transaction was rolled back, so the request can simply be sent again.
    log.warning("database.busy", path=request.url.path, error=str(getattr(exc, "orig", exc))[:200])
    return error_response(
        503,
        "SERVICE_BUSY",
        "The service is busy: nothing was changed, try again.",
        headers={"Retry-After": "1"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("request.failed", path=request.url.path, method=request.method)
    return error_response(500, "INTERNAL_ERROR", "Something went wrong on our side; nothing was changed.")
