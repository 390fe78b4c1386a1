"""The scanner page's offline shell: what its service worker keeps so that `/operator` opens without a
network, and the worker's script with the cache's version written in.

The version is a hash of everything the worker caches (the page's templates and the catalogues of its
words included): a release that changes any of it gives a new script, which browsers install in place of
the old one, with a new cache.

The page is kept as the server last sent it, in the language the operator chose (or their browser's):
a change of language reloads the page, and that answer replaces the kept copy.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from admit.i18n.catalogs import BY_NAME, LOCALE_DIR
from admit.web import STATIC_DIR, TEMPLATES_DIR

PAGE = "/operator"
ASSETS = (
    "/static/css/admit.css",
    "/static/favicon.svg",
    "/static/js/common.js",
    "/static/js/operator.js",
    "/static/js/offline-door.mjs",
    "/static/js/offline-store.mjs",
    "/static/js/door-rules.mjs",
    "/static/js/door-words.mjs",
    "/static/js/offline-data.mjs",
    "/static/vendor/jsQR.js",
)
TEMPLATES = ("base.html", "operator.html", "_staff_login.html")
# The domains of the scanner page's words (web/pages.py DOOR): its text and its scripts' are theirs.
DOMAINS = ("common", "door")
SCRIPT = Path("js") / "operator-sw.js"


@cache
def worker_script(
    navigation_timeout_ms: int,
    static_dir: Path = STATIC_DIR,
    templates_dir: Path = TEMPLATES_DIR,
    locale_dir: Path = LOCALE_DIR,
) -> bytes:
    """The service worker, with its cache name, the files it keeps and how long a page load may wait."""
    script = (static_dir / SCRIPT).read_bytes()
    digest = hashlib.sha256(script)
    files = [static_dir / asset.removeprefix("/static/") for asset in ASSETS]
    files += [templates_dir / name for name in TEMPLATES]
    named = [(path.name, path) for path in files] + _catalogues(locale_dir)
    for name, path in named:
        digest.update(name.encode() + b"\0" + path.read_bytes())
    settings = {
        "cache": f"admit-door-{digest.hexdigest()[:16]}",
        "page": PAGE,
        "assets": list(ASSETS),
        "navigation_timeout_ms": navigation_timeout_ms,
    }
    return b"const SHELL = " + json.dumps(settings).encode() + b";\n" + script


def _catalogues(locale_dir: Path) -> list[tuple[str, Path]]:
    """The .po files of the page's words in every language the page speaks, each named by both."""
    found = []
    for name in DOMAINS:
        for language in BY_NAME[name].languages:
            path = locale_dir / language / "LC_MESSAGES" / f"{name}.po"
            if path.exists():
                found.append((f"{language}/{name}.po", path))
    return found
