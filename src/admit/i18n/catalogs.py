"""The catalogues: which sources feed which domain, in which languages, and reading them at start.

A domain is the words of one part of Admit, so that each part can ship the languages it needs: the
visitor's pages, e-mails, the door and the API's messages in every language, the office pages at least
in English and Dutch. The .po files are read (and compiled in memory) once per process: there is no
compiled copy to fall out of step with them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

PACKAGE = Path(__file__).resolve().parent.parent
LOCALE_DIR = PACKAGE / "locale"
_TEMPLATES = "web/templates/"
_SCRIPTS = "web/static/js/"
LANGUAGES = ("en", "nl", "de", "fr", "es")


@dataclass(frozen=True)
class Domain:
    name: str
    languages: tuple[str, ...]
    sources: tuple[str, ...]  # paths under the package, each one domain's alone

    def catalog_path(self, language: str) -> Path:
        return LOCALE_DIR / language / "LC_MESSAGES" / f"{self.name}.po"


DOMAINS = (
    # The frame of every page: the header, the switcher, the staff login, talking to the API.
    Domain(
        "common",
        LANGUAGES,
        (
            _TEMPLATES + "base.html",
            _TEMPLATES + "_staff_login.html",
            _TEMPLATES + "_venue.html",
            _TEMPLATES + "_venue_header.html",
            _SCRIPTS + "common.js",
        ),
    ),
    Domain(
        "visitor",
        LANGUAGES,
        (
            _TEMPLATES + "reserve.html",
            _TEMPLATES + "manage.html",
            _TEMPLATES + "party.html",
            _TEMPLATES + "_changes.html",
            _SCRIPTS + "reserve.js",
            _SCRIPTS + "calendar.js",
            _SCRIPTS + "manage.js",
            _SCRIPTS + "changes.js",
            _SCRIPTS + "party.js",
        ),
    ),
    Domain(
        "door",
        LANGUAGES,
        (
            _TEMPLATES + "operator.html",
            _SCRIPTS + "operator.js",
            _SCRIPTS + "door-rules.mjs",
            _SCRIPTS + "offline-door.mjs",
            _SCRIPTS + "offline-data.mjs",
            _SCRIPTS + "offline-store.mjs",
            _SCRIPTS + "door-words.mjs",
            # The verdict's words, which the API sends in the scanner's language.
            "domain/door.py",
        ),
    ),
    Domain(
        "staff",
        ("en", "nl"),
        (
            _TEMPLATES + "manager.html",
            _TEMPLATES + "trends.html",
            _TEMPLATES + "admin.html",
            _TEMPLATES + "docs.html",
            _SCRIPTS + "manager.js",
            _SCRIPTS + "trends.js",
            _SCRIPTS + "admin.js",
            _SCRIPTS + "docs.js",
            _SCRIPTS + "staff-words.js",
        ),
    ),
    # What reaches the visitor outside the pages: e-mails, the calendar entry, the printed ticket
    # and the wallet pass.
    Domain(
        "mail",
        LANGUAGES,
        ("mail/compose.py", "mail/reminders.py", "confirmation.py", "ticket_pdf.py", "wallet_pass.py"),
    ),
    # The API's error messages, in the language the caller asks for; the codes never change.
    Domain(
        "errors",
        LANGUAGES,
        (
            "errors.py",
            "api/errors.py",
            "api/health.py",
            "api/live.py",
            "api/slots.py",
            "api/venues.py",
            "services/operators.py",
            "services/visitor_query.py",
        ),
    ),
)
BY_NAME = {domain.name: domain for domain in DOMAINS}


def read_catalog(domain: Domain, language: str) -> Catalog:
    path = domain.catalog_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=domain.name)
    with path.open("rb") as file:
        return read_po(file, locale=language, domain=domain.name)


@cache
def translations(language: str) -> NullTranslations:
    """Every domain's words in `language`, as one gettext object. English is the source: its words are
    the messages themselves. Messages still marked fuzzy are left out, so they show in English."""
    merged: NullTranslations = NullTranslations()
    for domain in DOMAINS:
        if language not in domain.languages or not domain.catalog_path(language).exists():
            continue
        compiled = io.BytesIO()
        write_mo(compiled, read_catalog(domain, language))
        compiled.seek(0)
        loaded = Translations(compiled, domain=domain.name)
        if isinstance(merged, Translations):
            merged.merge(loaded)
        else:
            merged = loaded
    return merged


@cache
def script_messages(language: str, domains: tuple[str, ...]) -> dict[str, str | list[str]]:
    """The messages the pages' scripts use, for the page to hand them: msgid → text, or → the plural
    forms in the catalogue's order. English needs none: a script falls back to the msgid."""
    messages: dict[str, str | list[str]] = {}
    for name in domains:
        domain = BY_NAME[name]
        if language not in domain.languages or language == "en":
            continue
        for message in read_catalog(domain, language):
            if not message.id or message.fuzzy:
                continue
            if not any(path.endswith((".js", ".mjs")) for path, _line in message.locations):
                continue
            if isinstance(message.id, tuple):
                messages[str(message.id[0])] = [str(form) for form in message.string or ()]
            elif message.string:
                messages[str(message.id)] = str(message.string)
    return messages
