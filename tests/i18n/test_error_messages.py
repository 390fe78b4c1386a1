"""Every refusal can be said in every language: no error class or marked message ships untranslated."""

from __future__ import annotations

import re

import pytest

import admit.app  # noqa: F401  (every module, so that every error class is defined)
from admit import errors
from admit.i18n import N_, translator
from admit.i18n.catalogs import BY_NAME, DOMAINS, PACKAGE, read_catalog

ERRORS = BY_NAME["errors"]
TRANSLATED = [language for language in ERRORS.languages if language != "en"]


def every_error_class() -> list[type[errors.DomainError]]:
    found: list[type[errors.DomainError]] = []
    waiting: list[type[errors.DomainError]] = [errors.DomainError]
    while waiting:
        cls = waiting.pop()
        found.append(cls)
        waiting.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_error_class_has_its_message_translated(language: str) -> None:
    # A new error class, or a changed message, fails here until the catalogues say it.
    catalog = read_catalog(ERRORS, language)
    assert {errors.DomainError, errors.SlotFull, errors.RateLimited} <= set(every_error_class())
    missing = [
        cls.__name__
        for cls in every_error_class()
        if not ((held := catalog.get(cls.message)) and held.string and not held.fuzzy)
    ]
    assert not missing, f"errors.{language}: run python -m admit.i18n.extract --domain errors; {missing}"


_MARKS = re.compile(r"\bN_\(")


def test_every_file_that_marks_a_message_feeds_a_domain() -> None:
    # A message marked in a file no domain reads would never reach a catalogue, and stay English.
    sources = {source for domain in DOMAINS for source in domain.sources}
    marking = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if _MARKS.search(path.read_text()) and path.parent.name != "i18n"
    }
    assert marking - sources == set()


def test_a_message_with_placeholders_is_filled_from_the_details_in_each_language() -> None:
    refused = errors.ValidationFailed(N_("Type at most %(max_length)d characters."), max_length=100)
    assert refused.message == "Type at most 100 characters."  # for the log and the command line
    assert refused.message_in(translator("nl")) == "Typ hoogstens 100 tekens."
    assert refused.details == {"max_length": 100}


def test_an_unmarked_message_is_shown_as_it_was_written() -> None:
    # A reason from another system (a mail server's reply) has no translation and is kept whole.
    refused = errors.Undeliverable("the mail server refused the recipient: 550 5.1.1 no such user (100%)")
    assert refused.message_in(translator("de")) == refused.message
    assert "100%" in refused.message
