"""The scanner's service worker keeps one release's files: a changed file gives a new cache to install."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from admit.i18n.catalogs import LOCALE_DIR
from admit.web import STATIC_DIR, TEMPLATES_DIR
from admit.web.offline_shell import DOMAINS, worker_script
from admit.web.pages import DOOR


def shell_of(static: Path, templates: Path, locale: Path = LOCALE_DIR) -> dict[str, object]:
    worker_script.cache_clear()  # a process reads its files once; here they change between calls
    first = worker_script(1500, static, templates, locale).split(b"\n", 1)[0].decode()
    shell: dict[str, object] = json.loads(first.removeprefix("const SHELL = ").removesuffix(";"))
    return shell


def test_a_changed_page_file_gives_the_service_worker_a_new_cache(tmp_path: Path) -> None:
    static, templates = tmp_path / "static", tmp_path / "templates"
    shutil.copytree(STATIC_DIR, static)
    shutil.copytree(TEMPLATES_DIR, templates)
    before = shell_of(static, templates)

    rules = static / "js" / "door-rules.mjs"
    rules.write_text(rules.read_text() + "\n// the next release\n")
    after_script = shell_of(static, templates)
    (templates / "operator.html").write_text((templates / "operator.html").read_text() + "\n")
    after_page = shell_of(static, templates)

    assert len({before["cache"], after_script["cache"], after_page["cache"]}) == 3
    assert shell_of(static, templates)["cache"] == after_page["cache"]  # the same files, the same cache
    assert before["assets"] == after_page["assets"]


def test_new_words_in_a_release_give_the_offline_scanner_a_new_cache(tmp_path: Path) -> None:
    # A device that scans offline keeps the page with its words: a release with new or better words
    # must replace it, as it replaces a changed script.
    locale = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, locale)
    before = shell_of(STATIC_DIR, TEMPLATES_DIR, locale)
    french = locale / "fr" / "LC_MESSAGES" / "door.po"
    french.write_text(french.read_text() + "\n")
    after = shell_of(STATIC_DIR, TEMPLATES_DIR, locale)
    assert before["cache"] != after["cache"]


def test_the_worker_covers_the_words_the_scanner_page_shows() -> None:
    assert set(DOMAINS) == set(DOOR.domains)
