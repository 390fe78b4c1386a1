"""The scanner's offline rules run in Chromium as in node: served by Admit as modules, with WebCrypto's
Ed25519 and SHA-256 and the browser's own time-zone data, every shared vector gives what the server gives.

The browser context runs in a time zone far from every venue of the vectors, so a rule that read the
device's zone instead of the venue's would show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
DOOR = json.loads((VECTORS / "door.json").read_text())["cases"]
OFFLINE = json.loads((VECTORS / "offline.json").read_text())

RUN_IN_PAGE = """async ({ door, offline }) => {
  const rules = await import("/static/js/door-rules.mjs");
  const data = await import("/static/js/offline-data.mjs");
  const { key } = offline;
  return {
    verdicts: door.map((c) => rules.decide(c.ticket, c.slot, { nowLocal: c.now_local, policy: c.policy })),
    codes: await Promise.all(offline.codes.map(async (c) => ({
      normalised: data.normalise(c.typed),
      h: await data.entryHash(offline.salt, c.typed),
      h_other_salt: await data.entryHash(offline.other_salt, c.typed),
    }))),
    local_times: offline.local_times.map((c) => data.venueLocal(c.instant, c.timezone)),
    canonical: offline.canonical.map((c) => data.canonicalJson(c.value)),
    genuine: await data.verifyBundle(offline.bundle.document, key),
    reordered: await data.verifyBundle(offline.same_bundle_other_key_order, key),
    tampered: await Promise.all(offline.tampered.map((t) => data.verifyBundle(t.document, key))),
    other_key: await data.verifyBundle(offline.signed_by_other_key, key),
  };
}"""


def test_chromium_runs_the_offline_rules_as_the_server_decides(browser: Browser, server: Server) -> None:
    context = browser.new_context(base_url=server.base_url, timezone_id="Pacific/Kiritimati")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/operator")
    got: dict[str, Any] = page.evaluate(RUN_IN_PAGE, {"door": DOOR, "offline": OFFLINE})

    assert {c["name"]: v for c, v in zip(DOOR, got["verdicts"], strict=True)} == {
        c["name"]: c["expect"] for c in DOOR
    }
    assert got["codes"] == [
        {"normalised": c["normalised"], "h": c["h"], "h_other_salt": c["h_other_salt"]}
        for c in OFFLINE["codes"]
    ]
    assert got["local_times"] == [c["local"] for c in OFFLINE["local_times"]]
    assert got["canonical"] == [c["canonical"] for c in OFFLINE["canonical"]]
    assert got["genuine"] is True
    assert got["reordered"] is True
    assert got["tampered"] == [False] * len(OFFLINE["tampered"])
    assert got["other_key"] is False
    context.close()
    assert not errors, errors
