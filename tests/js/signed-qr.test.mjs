// The device's side of the signed reservation QR against the shared vectors that the server's own
// parser and verifier made (tests/vectors/offline.json, "qr"), and which of a bundle's entry and a QR's
// claim decides.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";
import { describe, test } from "node:test";

import { codeOf, isQrText, parseQr, verifyQr } from "../../src/admit/web/static/js/offline-data.mjs";
import { bundleKnowsBetter } from "../../src/admit/web/static/js/offline-door.mjs";

globalThis.crypto ??= webcrypto;

const vectors = JSON.parse(readFileSync(new URL("../vectors/offline.json", import.meta.url), "utf8"));
const { key, other_key: otherKey } = vectors;

describe("a signed QR is read and believed as the server reads and believes it", () => {
  for (const c of vectors.qr) {
    test(c.name, async () => {
      assert.equal(isQrText(c.text), c.is_qr);
      const parsed = parseQr(c.text);
      if (c.parsed === null) {
        assert.equal(parsed, null);
      } else {
        const { message: _message, signature: _signature, ...parts } = parsed;
        assert.deepEqual(parts, c.parsed);
      }
      assert.equal(await verifyQr(parsed, key), c.valid);
    });
  }
  test("the pinned key of another organization vouches for nothing of this one", async () => {
    const genuine = parseQr(vectors.qr[0].text);
    assert.equal(await verifyQr(genuine, { ...otherKey, public_key: key.public_key, orq: key.orq + 1 }), false);
    assert.equal(await verifyQr(genuine, otherKey), false);
  });
  test("the code in a QR text is its ticket's, and a typed code is read as typed", () => {
    assert.equal(codeOf(vectors.qr[0].text), "7KQ2M9XH4TBW3RZN6PCF");
    assert.equal(codeOf("7kq2-m9xh-4tbw-3rzn-6pcf"), "7KQ2M9XH4TBW3RZN6PCF");
  });
});

describe("the bundle's entry decides when it knows better than the QR's claim", () => {
  const claim = { version: 2 };
  const reserved = (version) => ({ status: "RESERVED", reservation: { date: "2025-11-20", version } });
  test("no entry: booked after the bundle, the claim decides", () => {
    assert.equal(bundleKnowsBetter(undefined, claim), false);
  });
  test("an older reservation version: moved after the bundle, the claim decides", () => {
    assert.equal(bundleKnowsBetter(reserved(1), claim), false);
  });
  test("the same or a newer version: the bundle decides (moved again since the QR was shown)", () => {
    assert.equal(bundleKnowsBetter(reserved(2), claim), true);
    assert.equal(bundleKnowsBetter(reserved(3), claim), true);
  });
  for (const status of ["ACTIVATED", "VERIFIED", "VOID", "EXPIRED"]) {
    test(`an entry that is ${status}: the bundle decides (cancelled, used or revoked)`, () => {
      assert.equal(bundleKnowsBetter({ status, reservation: null }, claim), true);
    });
  }
});
