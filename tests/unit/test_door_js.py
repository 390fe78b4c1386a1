"""The scanner's offline rules (JavaScript) give what the server's rules give, on every shared vector.

`node --test` runs tests/js/ over tests/vectors/door.json and tests/vectors/offline.json; one mismatch
fails this test with node's report.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

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
