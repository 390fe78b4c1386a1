"""Bring the catalogues in step with the sources: `python -m admit.i18n.extract [--domain NAME]`.

Messages are found where the code marks them: `_()`, `ngettext()` and `N_()` in Python and in the
scripts, `{{ _() }}`, `{{ ngettext() }}` and `{% trans %}` in the templates. New messages arrive with
an empty translation, messages no source uses any more are dropped; a test fails while any message of a
shipped language is untranslated, so a new text cannot ship in English by accident.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import write_po

from admit.i18n.catalogs import BY_NAME, DOMAINS, PACKAGE, Domain, read_catalog

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".html": "jinja2.ext:babel_extract",
}
# `Translators:` comments beside a message reach the translator with it.
COMMENT_TAGS = ["Translators:"]


def template(domain: Domain) -> Catalog:
    """Every message the domain's sources mark, with where each is used."""
    catalog = Catalog(domain=domain.name, project="Admit", charset="utf-8")
    for source in domain.sources:
        path = PACKAGE / source
        method = METHODS[path.suffix]
        options = {"template_string": "true"} if method == "javascript" else {}
        found = extract_from_file(
            method, str(path), keywords=KEYWORDS, comment_tags=COMMENT_TAGS, options=options
        )
        for line, message, comments, context in found:
            catalog.add(
                message,
                None,
                [(source, line)],
                auto_comments=comments,
                context=context,
                flags=("python-format",) if _has_placeholders(message) else (),
            )
    return catalog


def _has_placeholders(message: str | tuple[str, ...]) -> bool:
    texts = message if isinstance(message, tuple) else (message,)
    return any("%(" in text for text in texts)


def update(domains: Iterable[Domain]) -> list[str]:
    """Rewrite each language's .po file of the domains; returns the files written."""
    written = []
    for domain in domains:
        wanted = template(domain)
        for language in domain.languages:
            if language == "en":
                continue
            catalog = read_catalog(domain, language)
            catalog.update(wanted, no_fuzzy_matching=True)
            path = domain.catalog_path(language)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as file:
                write_po(file, catalog, width=110, omit_header=True, ignore_obsolete=True)
            written.append(str(path.relative_to(PACKAGE)))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", action="append", choices=sorted(BY_NAME), help="only these domains")
    args = parser.parse_args()
    chosen = [BY_NAME[name] for name in args.domain] if args.domain else list(DOMAINS)
    for path in update(chosen):
        print(path)


if __name__ == "__main__":
    main()
