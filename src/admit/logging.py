"""Structured logs: readable on a console, JSON lines in production."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import structlog

from admit.redact import ACCESS_LOG_FILTER, mask_fields

if TYPE_CHECKING:
    from admit.services.door import ScanOutcome


def configure_logging(log_format: str) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if log_format == "json" else structlog.dev.ConsoleRenderer()
    )
    # The HTTP server's access log shows every address, and addresses carry ticket codes.
    logging.getLogger("uvicorn.access").addFilter(ACCESS_LOG_FILTER)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            mask_fields,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        # Not cached, so that tests can capture what the loggers emit.
        cache_logger_on_first_use=False,
    )


log = structlog.get_logger()


def log_scan(outcome: ScanOutcome, *, operator_id: int, orq: int, seconds: float) -> None:
    """One scan under the stories' event names; the ticket code never appears in full."""
    fields = {
        "orq": orq,
        "operator_id": operator_id,
        "result": outcome.result.value,
        "reason": outcome.code,
        "replayed": outcome.replayed,
        "ms": round(seconds * 1000, 2),
    }
    log.info("validation.result", **fields)
    admitted = outcome.body.get("entry_allowed", False)
    log.info("scan.validation.success" if admitted else "scan.validation.failure", **fields)
    if outcome.verified_now:
        log.info("ticket.verified", orq=orq, operator_id=operator_id)
