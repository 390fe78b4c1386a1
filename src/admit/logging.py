"""Structured logs: readable on a console, JSON lines in production."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import structlog

from admit.redact import ACCESS_LOG_FILTER, mask_fields

if TYPE_CHECKING:
    from admit.services.door import ScanOutcome
    from admit.services.door_sync import SyncAnswer


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


def log_sync(answers: list[SyncAnswer], *, operator_id: int, orq: int, device_id: str) -> None:
    """A device's queue as one event, and each second entry on a ticket as an event of its own."""
    outcomes: dict[str, int] = {}
    for answer in answers:
        outcomes[answer.outcome.value] = outcomes.get(answer.outcome.value, 0) + 1
        conflict = answer.body.get("conflict")
        if conflict:
            first, second = conflict["first"] or {}, conflict["second"] or {}
            log.warning(
                "scan.conflict",
                orq=orq,
                first_event=first.get("event_id"),
                first_device=first.get("device_id"),
                first_operator=(first.get("operator") or {}).get("id"),
                first_at=first.get("scanned_at"),
                second_event=second.get("event_id"),
                second_device=second.get("device_id"),
                second_operator=(second.get("operator") or {}).get("id"),
                second_at=second.get("scanned_at"),
            )
    log.info("scan.synced", orq=orq, operator_id=operator_id, device_id=device_id, **outcomes)


def log_visitor_search(*, orq: int, operator_id: int, query_length: int, results: int, more: bool) -> None:
    """A door search for a visitor: who searched and how much was found, never what was typed (it is
    a visitor's e-mail, phone or the end of a ticket code)."""
    log.info(
        "door.visitor_search",
        orq=orq,
        operator_id=operator_id,
        query_length=query_length,
        results=results,
        more=more,
    )
