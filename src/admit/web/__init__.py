"""The web pages: the visitor's portal, the door's scanner, the manager's dashboard and the admin page.

Server-rendered shells (Jinja2) with a little plain JavaScript that calls the same HTTP API as any
other client. Every asset is served from `static/`: the door may be offline from the internet.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
