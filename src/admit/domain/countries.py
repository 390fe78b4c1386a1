"""Countries (ISO 3166 alpha-2): their names, calling codes, and the country of a time zone.

The tz database knows which country each zone is in (zone.tab) and the countries' names (iso3166.tab);
both ship with the tzdata package, so the table is read, not written out here.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

import phonenumbers
from babel import Locale


def _tab(name: str) -> list[list[str]]:
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def country_names() -> dict[str, str]:
    """Code → English name, for every ISO 3166 country the tz database lists."""
    return {row[0]: row[1] for row in _tab("iso3166.tab")}


@cache
def country_names_in(language: str) -> dict[str, str]:
    """Code → name as the language writes it (CLDR's, through Babel), English where CLDR has none."""
    local = Locale.parse(language).territories
    return {code: local.get(code, name) for code, name in country_names().items()}


def by_name(name: str) -> str:
    """A sort key that files "Österreich" under O and "Émirats" under E, as a reader looks for them."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()


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
def phone_countries(language: str = "en") -> list[tuple[str, str, int]]:
    """(code, name, calling code) of every country a phone number can be in, by name in `language`."""
    rows = [
        (code, name, number)
        for code, name in country_names_in(language).items()
        if (number := calling_code(code)) is not None
    ]
    return sorted(rows, key=lambda row: by_name(row[1]))
