"""The scanner page's offline shell: what its service worker keeps so that `/operator` opens without a
network, and the worker's script with the cache's version written in.

The version is a hash of everything the worker caches (the page's templates included): a release that
changes any of it gives a new script, which browsers install in place of the old one, with a new cache.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

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
    "/static/js/offline-data.mjs",
    "/static/vendor/jsQR.js",
)
TEMPLATES = ("base.html", "operator.html", "_staff_login.html")
SCRIPT = Path("js") / "operator-sw.js"


@cache
def worker_script(
    navigation_timeout_ms: int, static_dir: Path = STATIC_DIR, templates_dir: Path = TEMPLATES_DIR
) -> bytes:
    """The service worker, with its cache name, the files it keeps and how long a page load may wait."""
    script = (static_dir / SCRIPT).read_bytes()
    digest = hashlib.sha256(script)
    for path in [static_dir / asset.removeprefix("/static/") for asset in ASSETS] + [
        templates_dir / name for name in TEMPLATES
    ]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    settings = {
        "cache": f"admit-door-{digest.hexdigest()[:16]}",
        "page": PAGE,
        "assets": list(ASSETS),
        "navigation_timeout_ms": navigation_timeout_ms,
    }
    return b"const SHELL = " + json.dumps(settings).encode() + b";\n" + script
