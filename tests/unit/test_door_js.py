"""The scanner's offline rules (JavaScript) give what the server's rules give, on every shared vector.

`node --test` runs tests/js/ over tests/vectors/door.json and tests/vectors/offline.json; one mismatch
fails this test with node's report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from admit.domain.door import decide
from admit.i18n import LANGUAGES
from admit.i18n.catalogs import script_messages
from tests.unit.test_door import VECTORS, policy_of, slot_of, ticket_of

ROOT = Path(__file__).resolve().parents[2]
NODE_TESTS = sorted((ROOT / "tests" / "js").glob("*.test.mjs"))


def test_the_javascript_rules_match_every_shared_vector() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing: scripts/test installs Debian's nodejs")
        pytest.skip("no node on PATH (apt-get install nodejs)")
    assert NODE_TESTS, "no tests/js/*.test.mjs"
    # Files, not the folder: node 20 and 22 read a folder argument differently.
    run = subprocess.run(
        [node, "--test", *(str(path) for path in NODE_TESTS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, f"node --test failed:\n{report}"
    assert "# fail 0" in report, report


# The scanner page's words as common.js applies them: the catalogue's text for a message, placeholders
# filled; days named by the browser's Intl in the page's locale.
_WORDS_SCRIPT = """
const { messages, locale, cases, rules } = JSON.parse(process.argv[1]);
const fill = (text, values) =>
  text.replace(/%\\((\\w+)\\)[sd]/g, (whole, name) => (name in values ? String(values[name]) : whole));
globalThis.Admit = { locale, _: (message, values) => fill(messages[message] || message, values || {}) };
const { decide } = await import(rules);
const said = cases.map((c) => decide(c.ticket, c.slot, { nowLocal: c.now_local, policy: c.policy }));
console.log(JSON.stringify(said.map((v) => [v.title, v.message])));
"""


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_the_offline_scanner_says_each_verdict_in_the_servers_words(language: str) -> None:
    # An operator reads the same words whether the server or the device decided: the same catalogue,
    # and days named from the same CLDR data (Babel on the server, Intl in the browser).
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH (apt-get install nodejs)")
    rules = (ROOT / "src" / "admit" / "web" / "static" / "js" / "door-rules.mjs").as_uri()
    payload = {
        "messages": script_messages(language, ("door",)),
        "locale": language,
        "cases": VECTORS,
        "rules": rules,
    }
    run = subprocess.run(
        [node, "--input-type=module", "-e", _WORDS_SCRIPT, json.dumps(payload)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    from_script = json.loads(run.stdout)
    from_server = []
    for case in VECTORS:
        verdict = decide(
            ticket_of(case["ticket"]),
            slot_of(case["slot"]),
            now_local=datetime.fromisoformat(case["now_local"]),
            policy=policy_of(case["policy"]),
            language=language,
        )
        from_server.append([verdict.title, verdict.message])
    assert from_script == from_server
    english = [[case["expect"]["title"], case["expect"]["message"]] for case in VECTORS]
    changed = sum(mine != theirs for mine, theirs in zip(from_server, english, strict=True))
    assert changed >= len(VECTORS) - 3  # translated (a few titles may read the same, like "15:45")
