"""The offline contract's shared vectors are what the server's own code makes of them."""

from __future__ import annotations

import json

from admit.security.codes import normalise
from tests.vectors import make_offline


def test_the_committed_offline_vectors_are_what_the_script_makes() -> None:
    assert make_offline.PATH.read_text(encoding="utf-8") == make_offline.render(), (
        "tests/vectors/offline.json is stale: run python -m tests.vectors.make_offline"
    )


def test_every_typed_code_reads_as_the_server_reads_it() -> None:
    cases = json.loads(make_offline.PATH.read_text(encoding="utf-8"))["codes"]
    assert {case["normalised"] for case in cases} >= {None, "7KQ2M9XH4TBW3RZN6PCF"}
    for case in cases:
        assert normalise(case["typed"]) == case["normalised"], case["name"]
