"""Languages: which one a request gets, and its words, plurals, dates and times.

The words live in gettext catalogues (`admit/locale/<language>/LC_MESSAGES/<domain>.po`), written in
English in the code and translated per language; `catalogs.py` says which sources feed which domain.
English is the source language, so it needs no catalogue of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from gettext import NullTranslations, c2py
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.plurals import get_plural

from admit.i18n.catalogs import LANGUAGES, translations

SOURCE = "en"
__all__ = [
    "LANGUAGES",
    "NAMES",
    "N_",
    "SOURCE",
    "Translator",
    "accepted",
    "negotiate",
    "plural_categories",
    "translator",
]
# Each language's name in itself, as a switcher shows it.
NAMES = {"en": "English", "nl": "Nederlands", "de": "Deutsch", "fr": "Français", "es": "Español"}
# Babel's plain "en" writes 12-hour times; a venue's English is British: 24-hour, day before month.
_FORMAT_LOCALES = {"en": "en_GB"}

_RANGE = re.compile(r"\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def N_(message: str) -> str:
    """Marks a message for the catalogues where it is defined; it is translated where it is shown."""
    return message


def accepted(header: str | None) -> list[str]:
    """The primary language tags of an Accept-Language header, most wanted first (RFC 9110 §12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "")[:1000].split(",")):
        match = _RANGE.match(part)
        if not match:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if quality > 0:
            ranked.append((-quality, position, match.group(1).lower()))
    return [tag for _q, _p, tag in sorted(ranked)]


def negotiate(
    *,
    available: tuple[str, ...],
    chosen: str | None = None,
    accept_language: str | None = None,
    default: str | None = None,
) -> str:
    """The visitor's own choice, else their browser's, else the venue's default, else English."""
    for wanted in ([chosen] if chosen else []) + accepted(accept_language) + [default or SOURCE]:
        if wanted in available:
            return wanted
    return SOURCE


@dataclass(frozen=True)
class Translator:
    """One language's words and formats. `_("Hello %(name)s", name=x)` as in the page templates."""

    language: str
    catalog: NullTranslations

    def _(self, message: str, **values: Any) -> str:
        text = self.catalog.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        return self.catalog.ngettext(singular, plural, n) % {"num": n, **values}

    @property
    def locale(self) -> Locale:
        return Locale.parse(_FORMAT_LOCALES.get(self.language, self.language))

    def date(self, day: date, style: str = "full") -> str:
        """`Tuesday, 1 December 2026`, `dinsdag 1 december 2026`; `style` is Babel's or a CLDR pattern."""
        return format_date(day, style, locale=self.locale)

    def time(self, moment: time) -> str:
        return format_time(moment, "HH:mm", locale=self.locale)

    def datetime(self, moment: datetime, style: str = "medium") -> str:
        return format_datetime(moment, style, locale=self.locale)


@cache
def plural_categories(language: str) -> list[str]:
    """For each plural form of the language's catalogues, in their order, its CLDR category ("one",
    "other"...): a page's script picks a form with the browser's Intl.PluralRules, which speaks CLDR."""
    locale, plural = Locale.parse(language), get_plural(language)
    form_of = c2py(plural.plural_expr)
    categories: dict[int, str] = {}
    # Small numbers, and the millions some languages give a form of their own (French "de billets").
    for n in (*range(200), 1_000_000, 2_000_000):
        categories.setdefault(form_of(n), locale.plural_form(n))
    return [categories.get(index, "other") for index in range(plural.num_plurals)]


@cache
def translator(language: str) -> Translator:
    if language not in LANGUAGES:
        raise ValueError(f"not a shipped language: {language!r}")
    return Translator(language, translations(language))
