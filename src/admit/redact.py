"""Bearer secrets in logs: a ticket code or a reservation id appears only as its last four characters.

Whoever holds a code or a reservation id can use it, so logs (ours and the HTTP server's access log)
never carry one whole; the last four characters are enough to match a log line to a visitor's ticket.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

# Where addresses carry a secret: the segment after these prefixes, unless it is one of the fixed words.
_SECRET_SEGMENT = re.compile(r"^(/api/tickets/|/api/reservations/|/reserve/)([^/?#]+)")
_FIXED_WORDS = frozenset({"validate", "create"})
_SECRET_QUERY = re.compile(r"([?&](?:code|ticket_code|reservation_id)=)([^&#]*)")
# Log fields that hold a secret, and one that holds an address.
SECRET_FIELDS = frozenset({"ticket_code", "reservation_id", "ticket_codes", "reservation_ids"})


def mask(secret: str) -> str:
    """`…7D8Q`: the last four characters, enough to tell tickets apart, useless as a credential."""
    return "…" + secret[-4:]


def mask_path(path: str) -> str:
    """An address with its ticket code or reservation id masked, in the path and in the query."""

    def segment(found: re.Match[str]) -> str:
        value = found[2]
        return found[1] + (value if value in _FIXED_WORDS else mask(value))

    path = _SECRET_SEGMENT.sub(segment, path, count=1)
    return _SECRET_QUERY.sub(lambda found: found[1] + mask(found[2]), path)


def mask_fields(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: secret fields and addresses masked before anything renders them."""
    for name in SECRET_FIELDS & event.keys():
        value = event[name]
        event[name] = [mask(str(v)) for v in value] if isinstance(value, list | tuple) else mask(str(value))
    if isinstance(event.get("path"), str):
        event["path"] = mask_path(event["path"])
    return event


class AccessLogFilter(logging.Filter):
    """Masks the address in the HTTP server's access log lines (uvicorn: client, method, path, …)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], mask_path(args[2]), *args[3:])
        return True


ACCESS_LOG_FILTER = AccessLogFilter()
