"""Structured logs: readable on a console, JSON lines in production.

Every event about a ticket names it by `ticket_id` and `code_suffix` (the code's last four characters,
None when a refused code is no ticket), refusals included, so that a dispute can be followed from a log
line to the ticket's story (`GET /api/tickets/{code_suffix}/story`); the code itself is never logged.
"""

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


def log_scan(
    outcome: ScanOutcome, *, operator_id: int, orq: int, seconds: float | None, **context: object
) -> None:
    """One scan under the stories' event names; the ticket code never appears in full. `seconds` is
    how long the server took to decide (None for a scan decided offline and synced later)."""
    fields = {
        **context,
        "ticket_id": outcome.ticket_id,
        "code_suffix": outcome.code_suffix,
        "orq": orq,
        "operator_id": operator_id,
        "result": outcome.result.value,
        "reason": outcome.code,
        "replayed": outcome.replayed,
    }
    if seconds is not None:
        fields["ms"] = round(seconds * 1000, 2)
    log.info("validation.result", **fields)
    admitted = outcome.body.get("entry_allowed", False)
    log.info("scan.validation.success" if admitted else "scan.validation.failure", **fields)
    if outcome.verified_now:
        log.info(
            "ticket.verified",
            ticket_id=outcome.ticket_id,
            code_suffix=outcome.code_suffix,
            orq=orq,
            operator_id=operator_id,
            **context,
        )


def log_sync(answers: list[SyncAnswer], *, operator_id: int, orq: int, device_id: str) -> None:
    """A device's queue as one event, each scan it stores under the stories' names as an online scan is,
    and each second entry on a ticket as an event of its own."""
    outcomes: dict[str, int] = {}
    for answer in answers:
        outcomes[answer.outcome.value] = outcomes.get(answer.outcome.value, 0) + 1
        if answer.scan is not None:
            log_scan(
                answer.scan, operator_id=operator_id, orq=orq, seconds=0.0, device_id=device_id, offline=True
            )
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
