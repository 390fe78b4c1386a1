"""A bundle the server makes is believed and read by the device's own JavaScript (offline-data.mjs).

The shared vectors hold each rule on its own; this holds the two sides together end to end: the signed
document as served, the pinned key as served, and a ticket typed the way a person types it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from admit.domain.roles import Role
from admit.security.codes import display
from tests.builders import Builders

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "src" / "admit" / "web" / "static" / "js" / "offline-data.mjs"
# Reads {bundle, key, typed} on stdin; prints whether the bundle is believed, and the entry found.
DEVICE = """
import { findEntry, verifyBundle } from %s;
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { bundle, key, typed, tampered } = JSON.parse(input);
const believed = await verifyBundle(bundle, key);
const forged = await verifyBundle(tampered, key);
const entry = await findEntry(bundle, typed);
console.log(JSON.stringify({ believed, forged, status: entry?.status ?? null }));
"""


def run_device(payload: dict[str, object]) -> dict[str, object]:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is missing: scripts/test installs Debian's nodejs")
        pytest.skip("no node on PATH (apt-get install nodejs)")
    script = DEVICE % json.dumps(MODULE.as_uri())
    run = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    answer: dict[str, object] = json.loads(run.stdout)
    return answer


def test_the_device_believes_a_served_bundle_finds_a_typed_code_and_refuses_a_changed_one(
    make: Builders,
) -> None:
    orq = make.org()
    door = make.staff(orq, Role.OPERATOR)
    slot_id = make.slot(orq, day="2025-11-20", start="10:00", end="11:00", capacity=5)
    code = make.ticket(orq, "ACTIVATED")
    assert make.reserve([code], slot_id).status_code == 201
    key = make.client.get("/api/operator/offline-key", headers=door.headers).json()
    bundle = make.client.get(
        "/api/operator/offline-bundle", params={"date": "2025-11-20"}, headers=door.headers
    ).json()
    tampered = {**bundle, "tickets": [{**bundle["tickets"][0], "status": "VERIFIED"}]}
    typed = display(code).lower()  # dashes and lower case, as a person types it

    answer = run_device({"bundle": bundle, "key": key, "typed": typed, "tampered": tampered})

    assert answer == {"believed": True, "forged": False, "status": "RESERVED"}
