"""Every failure leaves as {"error": {"code", "message", "details"}}; FastAPI's own bodies never do.

The code and the details are the same in every language; the message is in the language the request's
Accept-Language asks for, if Admit speaks it, else English. The per-field reasons of a validation error
(`details.fields`) stay in English: they are for the developer of the client, who shows their own words
for a field. Log lines stay in English.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from admit.errors import DomainError, Forbidden, NotAuthenticated, ServiceBusy, ValidationFailed, http_status
from admit.i18n import LANGUAGES, N_, Translator, negotiate, translator

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
_HTTP_MESSAGES = {
    400: N_("The request body could not be read as JSON."),
    401: NotAuthenticated.message,
    403: Forbidden.message,
    404: N_("There is nothing at this address."),
    405: N_("This address does not accept this kind of request."),
    413: N_("The request is too large."),
    415: N_("The request body must be JSON."),
}
_NOT_JSON = N_("The request body is not valid JSON.")
_BODY_OVER = N_("The request body is over %(kib)d KiB.")
_UNEXPECTED = N_("Something went wrong on our side; nothing was changed.")


class BodyTooLarge(StarletteHTTPException):
    """A body found over the limit while it is read, after the route has started."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413)
        self.max_bytes = max_bytes


def words_for(headers: Headers) -> Translator:
    """The words of the language the request asks for (Accept-Language), else English."""
    return translator(negotiate(available=LANGUAGES, accept_language=headers.get("accept-language")))


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    language: str | None = None,
) -> JSONResponse:
    """`message` already in the caller's language: `language` says which, for Content-Language."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    if language is not None:
        # The same address answers in another language to another Accept-Language.
        headers = {**(headers or {}), "Content-Language": language, "Vary": "Accept-Language"}
    return JSONResponse(body, status_code=status, headers=headers)


def translated_error(
    headers: Headers,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    response_headers: dict[str, str] | None = None,
    **values: Any,
) -> JSONResponse:
    """An error whose `message` is a marked message, answered in the language the request asks for."""
    t = words_for(headers)
    return error_response(status, code, t._(message, **values), details, response_headers, t.language)


def body_too_large(headers: Headers, max_bytes: int) -> JSONResponse:
    return translated_error(headers, 413, "PAYLOAD_TOO_LARGE", _BODY_OVER, kib=max_bytes // 1024)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _database_busy)  # type: ignore[arg-type]
    app.add_exception_handler(PoolTimeout, _database_busy)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    retry_after = exc.details.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    t = words_for(request.headers)
    return error_response(http_status(exc), exc.code, exc.message_in(t), exc.details, headers, t.language)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return translated_error(request.headers, 400, "VALIDATION_ERROR", _NOT_JSON)
    fields: dict[str, str] = {}
    for error in errors:
        # ("body", "quantity") → "quantity"; ("query", "orq") → "orq"
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        fields[".".join(location) or "body"] = str(error.get("msg", "invalid"))
    return translated_error(
        request.headers, 422, "VALIDATION_ERROR", ValidationFailed.message, {"fields": fields}
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    if isinstance(exc, BodyTooLarge):
        message, values = _BODY_OVER, {"kib": exc.max_bytes // 1024}
    else:
        message, values = _HTTP_MESSAGES.get(exc.status_code, DomainError.message), {}
    headers = getattr(exc, "headers", None)
    return translated_error(request.headers, exc.status_code, code, message, None, headers, **values)


async def _database_busy(request: Request, exc: OperationalError | PoolTimeout) -> JSONResponse:
    # A lock wait or statement that ran out (SQLite's write lock, PostgreSQL's lock_timeout and
    # statement_timeout), a database that does not answer in time or is gone, or no free connection
    # in the pool: the transaction was rolled back, so the request can simply be sent again.
    log.warning("database.busy", path=request.url.path, error=str(getattr(exc, "orig", exc))[:200])
    busy = {"Retry-After": "1"}
    return translated_error(request.headers, 503, "SERVICE_BUSY", ServiceBusy.message, None, busy)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("request.failed", path=request.url.path, method=request.method)
    return translated_error(request.headers, 500, "INTERNAL_ERROR", _UNEXPECTED)
