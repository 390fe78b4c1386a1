"""The language a booking or an order is made in: the one the body names, else the browser's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from pydantic import AfterValidator, Field, StrictStr

from admit.i18n import LANGUAGES, accepted


def _shipped(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"one of {', '.join(LANGUAGES)}")
    return value


Language = Annotated[
    StrictStr,
    AfterValidator(_shipped),
    Field(json_schema_extra={"enum": list(LANGUAGES)}),
]


def requested_language(named: str | None, request: Request) -> str | None:
    """The body's language, else the first shipped one the browser accepts; None leaves it to the
    venue's default language."""
    if named is not None:
        return named
    return next((tag for tag in accepted(request.headers.get("accept-language")) if tag in LANGUAGES), None)
