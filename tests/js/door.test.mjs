// The scanner's offline verdict (door-rules.mjs) against every case of the shared door vectors.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { decide, partyAtDoor } from "../../src/admit/web/static/js/door-rules.mjs";

const vectors = JSON.parse(readFileSync(new URL("../vectors/door.json", import.meta.url), "utf8"));

for (const c of vectors.cases) {
  test(c.name, () => {
    const verdict = decide(c.ticket, c.slot, { nowLocal: c.now_local, policy: c.policy });
    assert.deepEqual(verdict, c.expect); // every field, and no field more
  });
}

for (const c of vectors.parties) {
  test(`party: ${c.name}`, () => {
    assert.deepEqual(partyAtDoor(c.size, c.admitted, { admittedNow: c.admitted_now }), c.expect);
  });
}

test("a malformed venue time is refused rather than decided", () => {
  const reserved = vectors.cases[0];
  const malformed = ["", "2025-11-20T9:45", "2025-02-30T10:00", "2025-11-20T09:45:00+01:00", "0000-01-01", undefined];
  for (const nowLocal of malformed) {
    const scan = { nowLocal, policy: reserved.policy };
    assert.throws(() => decide(reserved.ticket, reserved.slot, scan), TypeError, String(nowLocal));
  }
});

test("a status or policy the rules do not know is refused rather than decided", () => {
  const now = { nowLocal: "2025-11-20T09:45:00" };
  const slot = { date: "2025-11-20", start_time: "10:00", end_time: "11:00" };
  assert.throws(() => decide({ status: "ADMITTED" }, slot, { ...now, policy: {} }), TypeError);
  const maybe = { unreserved_entry: "maybe" };
  assert.throws(() => decide({ status: "RESERVED" }, slot, { ...now, policy: maybe }), TypeError);
  const textMinutes = { entry_window: { minutes_before_start: "30", minutes_after_end: 15 } };
  assert.throws(() => decide({ status: "RESERVED" }, slot, { ...now, policy: textMinutes }), TypeError);
});
