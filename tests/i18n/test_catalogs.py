"""The catalogues are complete and in step with the sources, and no page shows words outside them."""

from __future__ import annotations

import re
from datetime import date, time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural

from admit.i18n import LANGUAGES, plural_categories, translator
from admit.i18n.catalogs import DOMAINS, PACKAGE, Domain, read_catalog, script_messages
from admit.i18n.extract import template
from admit.web import STATIC_DIR, TEMPLATES_DIR

SHIPPED = [(domain, language) for domain in DOMAINS for language in domain.languages if language != "en"]
IDS = [f"{domain.name}-{language}" for domain, language in SHIPPED]


def _ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


@pytest.mark.parametrize("domain", DOMAINS, ids=[domain.name for domain in DOMAINS])
def test_catalogues_hold_exactly_the_messages_the_sources_mark(domain: Domain) -> None:
    # A new or changed text in the code is in no catalogue until `python -m admit.i18n.extract` runs.
    wanted = _ids(template(domain))
    for language in domain.languages:
        if language == "en":
            continue
        held = _ids(read_catalog(domain, language))
        assert held == wanted, (
            f"{domain.name}.{language}: run python -m admit.i18n.extract; "
            f"missing {sorted(map(str, wanted - held))[:5]}, unused {sorted(map(str, held - wanted))[:5]}"
        )


@pytest.mark.parametrize(("domain", "language"), SHIPPED, ids=IDS)
def test_every_message_is_translated_with_the_same_placeholders(domain: Domain, language: str) -> None:
    catalog = read_catalog(domain, language)
    untranslated = [
        message.id for message in catalog if message.id and (message.fuzzy or not all(_forms(message.string)))
    ]
    assert not untranslated, f"{domain.name}.{language} lacks: {untranslated[:10]}"
    # Babel's checks: the same %(name)s placeholders, and as many plural forms as the language has.
    problems = [(message.id, [str(error) for error in errors]) for message, errors in catalog.check()]
    assert not problems, problems[:5]


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_a_message_used_in_several_parts_reads_the_same_in_each(language: str) -> None:
    # A language's domains are merged into one catalogue at runtime: two translations of one message
    # would leave one part of Admit with the other part's words.
    first: dict[object, tuple[str, object]] = {}
    differ = []
    for domain in DOMAINS:
        if language not in domain.languages:
            continue
        for message in read_catalog(domain, language):
            if not message.id:
                continue
            seen = first.setdefault(message.id, (domain.name, message.string))
            if seen[1] != message.string:
                differ.append((message.id, seen, (domain.name, message.string)))
    assert not differ, differ


def _forms(string: object) -> tuple[object, ...]:
    return tuple(string) if isinstance(string, (tuple, list)) else (string,)


def test_a_page_speaks_the_chosen_language_and_english_is_the_messages_themselves() -> None:
    dutch, english = translator("nl"), translator("en")
    assert dutch._("Skip to content") != "Skip to content"
    assert english._("Skip to content") == "Skip to content"
    assert dutch.date(date(2026, 12, 1)) == "dinsdag 1 december 2026"
    assert english.time(time(15, 45)) == "15:45"


@pytest.mark.parametrize("language", LANGUAGES)
def test_scripts_can_pick_plural_forms_by_the_browsers_own_rules(language: str) -> None:
    # The scripts map Intl.PluralRules' category to the catalogue's form: each form needs its own.
    categories = plural_categories(language)
    assert len(set(categories)) == len(categories) == get_plural(language).num_plurals
    assert "one" in categories and "other" in categories


def test_scripts_get_only_their_own_words() -> None:
    handed = script_messages("nl", ("common",))
    from_scripts = {
        message.id
        for message in read_catalog(next(d for d in DOMAINS if d.name == "common"), "nl")
        if message.id and any(path.endswith(".js") for path, _line in message.locations)
    }
    assert set(handed) == {str(i) if isinstance(i, str) else i[0] for i in from_scripts}


# ---- No words outside the catalogues ----

# Names, symbols and words that are the same in every language.
SAME_IN_EVERY_LANGUAGE = {"Admit", "Swagger UI", "OpenAPI", "QR", "CSV", "PIN", "E.164", "ID"}
_WORD = re.compile(r"[^\W\d_]{2,}")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_SHOWN_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription"}


def _visible(text: str) -> bool:
    rest = text
    for same in SAME_IN_EVERY_LANGUAGE:
        rest = rest.replace(same, "")
    return bool(_WORD.search(rest))


class _TextFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        shown = dict(attrs)
        for name, value in attrs:
            # An input button shows its value; a <button> shows its content, its value is for the script.
            is_label = tag == "input" and name == "value" and shown.get("type") in ("submit", "button")
            if value and (name in _SHOWN_ATTRIBUTES or is_label) and _visible(value):
                self.found.append(f"{tag}[{name}]: {value}")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping and _visible(data):
            self.found.append(" ".join(data.split()))


# Blocks that fill in the base template's attributes, not its text.
_ATTRIBUTE_BLOCKS = re.compile(r"\{%\s*block (body_class|body_data)\s*%\}.*?\{%\s*endblock\s*%\}", re.DOTALL)


def words_outside_catalogues_in_template(source: str) -> list[str]:
    finder = _TextFinder()
    finder.feed(_JINJA.sub(" ", _ATTRIBUTE_BLOCKS.sub(" ", source)))
    return finder.found


# A literal a script shows: two words, or a capitalised word. Selectors, keys and event names are
# neither; header names and the like are listed where they are not shown.
_JS_LITERAL = re.compile(r"""(?<![\w$])(?P<q>["'`])(?P<body>(?:\\.|(?!(?P=q)).)*?)(?P=q)""", re.DOTALL)
_JS_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\\\"'])//[^\n]*", re.DOTALL)
_MARKED = re.compile(r"(?:\b_|\bN_|ngettext)\(\s*(?:(?P<q>[\"'])(?:\\.|(?!(?P=q)).)*(?P=q)\s*,\s*)?$")
_SHOWN_LITERAL = re.compile(r"[^\W\d_]{2,}[ ,.:;!?\u2013\u2014]+[^\W\d_]{2,}|^\s*[A-Z][a-z]{2,}")
# Where a literal is a class list or a selector, not words: `class: "button small"`, querySelector("…").
_NOT_SHOWN_PLACE = re.compile(r"(?:\bclass(?:Name)?\s*[:=]|\bquerySelector(?:All)?\(|\.closest\()\s*$")
NOT_SHOWN_IN_SCRIPTS = {
    "use strict",
    "Accept",
    "Accept-Language",
    "Authorization",
    "Bearer ",
    "Content-Type",
    "Retry-After",
    "Last-Event-ID",
    "button small",  # the class names of a button a script makes
    # The scanner's: a key's and a browser API's names, and the fields whose typing is their own.
    "Escape",
    "BarcodeDetector",
    "input, textarea, select",
    # Thrown by the door's rules and offline data on malformed data, never shown: the scanner shows
    # its CANNOT DECIDE OFFLINE verdict instead.
    "not a time (HH:MM[:SS]):  ",
    "not a venue date-time:  ",
    "not an entry window:  ",
    "entry window minutes:  ",
    "not an unreserved_entry policy:  ",
    "not a ticket status:  ",
    "the bundle's salt is not base64url",
    "not a timestamp with an offset:  ",
    "no canonical form for the number  ",
    "no canonical form for a string with a lone surrogate",
    "no canonical form for a  ",
}


def words_outside_catalogues_in_script(source: str) -> list[str]:
    code = _JS_COMMENT.sub(lambda m: " " * len(m.group()), source)
    found = []
    for literal in _JS_LITERAL.finditer(code):
        body = literal.group("body")
        if literal.group("q") == "`":
            body = re.sub(r"\$\{.*?\}", " ", body)
        if body in NOT_SHOWN_IN_SCRIPTS or _looks_like_code(body) or not _visible(body):
            continue
        before = code[max(0, literal.start() - 300) : literal.start()]
        if _NOT_SHOWN_PLACE.search(before):
            continue
        if _SHOWN_LITERAL.search(body) and not _MARKED.search(before):
            found.append(body)
    return found


def _looks_like_code(text: str) -> bool:
    # Selectors (#id, .class, [attr]), paths and URLs, format strings of Intl, SQL-ish keys.
    selector_or_path = re.match(r"^\s*([#.\[/:]|[a-z-]+\[|[a-z]+://)", text)
    return bool(selector_or_path or re.search(r"[a-z]\.[a-z]|=\"", text))


def _sources(domain: Domain) -> list[Path]:
    return [PACKAGE / source for source in domain.sources if not source.endswith(".py")]


PAGE_SOURCES = [path for domain in DOMAINS for path in _sources(domain)]


def test_every_page_template_and_script_belongs_to_a_domain() -> None:
    # A new page or script must be added to a domain, or its words would escape the checks below.
    templates = set(TEMPLATES_DIR.glob("*.html"))
    scripts = {p for p in (STATIC_DIR / "js").iterdir() if p.suffix in (".js", ".mjs")}
    not_words = {STATIC_DIR / "js" / "operator-sw.js"}  # the service worker shows nothing
    assert (templates | scripts) - not_words - set(PAGE_SOURCES) == set()


@pytest.mark.parametrize("path", PAGE_SOURCES, ids=[p.name for p in PAGE_SOURCES])
def test_no_page_shows_words_outside_the_catalogues(path: Path) -> None:
    source = path.read_text()
    found = (
        words_outside_catalogues_in_template(source)
        if path.suffix == ".html"
        else words_outside_catalogues_in_script(source)
    )
    assert not found, f"{path.name}: mark these with _() and run the extraction: {found[:15]}"


def test_the_checks_above_find_words_they_are_meant_to_find() -> None:
    assert words_outside_catalogues_in_template('<p title="Close it">{{ _("Fine") }} Not fine</p>') == [
        "p[title]: Close it",
        "Not fine",
    ]
    script = (
        'el("p", {text: "Not booked"}); A._("Fine words"); N_("Kept words"); q("#list li"); x = "Cancelled"; '
        'el("a", {class: "button small"}, "Read more"); d.querySelector("button:not(:disabled)");'
    )
    assert words_outside_catalogues_in_script(script) == ["Not booked", "Cancelled", "Read more"]
