"""Countries (ISO 3166 alpha-2): their names, calling codes, and the country of a time zone.

The tz database knows which country each zone is in (zone.tab) and the countries' names (iso3166.tab);
both ship with the tzdata package, so the table is read, not written out here.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import phonenumbers


def _tab(name: str) -> list[list[str]]:
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def country_names() -> dict[str, str]:
    """Code → English name, for every ISO 3166 country the tz database lists."""
    return {row[0]: row[1] for row in _tab("iso3166.tab")}


@cache
def _zone_countries() -> dict[str, str]:
    return {row[2]: row[0] for row in _tab("zone.tab")}


def is_country(code: str) -> bool:
    return code in country_names()


def country_of_timezone(timezone: str) -> str | None:
    """The country a zone is in (Europe/Amsterdam → NL); None for zones of no country (UTC)."""
    return _zone_countries().get(timezone)


def calling_code(country: str) -> int | None:
    """The country's telephone calling code (NL → 31), or None where there is none."""
    code = phonenumbers.country_code_for_region(country)
    return code or None


@cache
def phone_countries() -> list[tuple[str, str, int]]:
    """(code, name, calling code) of every country a phone number can be in, by name."""
    rows = [
        (code, name, number)
        for code, name in country_names().items()
        if (number := calling_code(code)) is not None
    ]
    return sorted(rows, key=lambda row: row[1])
