// The device's side of the offline bundle (offline-data.mjs) against the shared vectors that the
// server's own code made (tests/vectors/offline.json).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";
import { describe, test } from "node:test";

import {
  canonicalJson,
  entryHash,
  findEntry,
  normalise,
  venueLocal,
  verifyBundle,
  verifySignature,
} from "../../src/admit/web/static/js/offline-data.mjs";

// Browsers and node 20 have WebCrypto as a global; node 18 (Debian 12's) only as a module.
globalThis.crypto ??= webcrypto;

const vectors = JSON.parse(readFileSync(new URL("../vectors/offline.json", import.meta.url), "utf8"));
const { key, other_key: otherKey, bundle } = vectors;

describe("a typed or scanned code is read as the server reads it", () => {
  for (const c of vectors.codes) {
    test(c.name, async () => {
      assert.equal(normalise(c.typed), c.normalised);
      assert.equal(await entryHash(vectors.salt, c.typed), c.h);
      assert.equal(await entryHash(vectors.other_salt, c.typed), c.h_other_salt);
    });
  }
});

describe("an instant is read on the venue's wall clock, as the server reads it", () => {
  for (const c of vectors.local_times) {
    test(`${c.instant} in ${c.timezone}`, () => assert.equal(venueLocal(c.instant, c.timezone), c.local));
  }
  test("a timestamp without its offset is refused: the device's own zone would creep in", () => {
    assert.throws(() => venueLocal("2025-11-20T09:30:00", "Europe/Amsterdam"), TypeError);
  });
});

describe("canonical JSON is Python's, byte for byte", () => {
  for (const [i, c] of vectors.canonical.entries()) {
    test(`value ${i}: ${c.canonical.slice(0, 40)}`, () => assert.equal(canonicalJson(c.value), c.canonical));
  }
  test("the bundle's signed text", () => {
    const { signature, ...body } = bundle.document;
    assert.equal(canonicalJson(body), bundle.canonical);
  });
  for (const text of vectors.canonical_refused) {
    test(`a number written ${text} is refused`, () => {
      assert.throws(() => canonicalJson(JSON.parse(text)), TypeError);
    });
  }
  test("a string with a lone surrogate is refused", () => {
    assert.throws(() => canonicalJson({ a: "\ud800" }), TypeError);
  });
});

describe("a bundle is believed only with its organization's signature", () => {
  test("the genuine bundle verifies with the pinned key", async () => {
    assert.equal(await verifySignature(bundle.document, key.public_key), true);
    assert.equal(await verifyBundle(bundle.document, key), true);
  });
  test("the same bundle with its keys in another order verifies", async () => {
    assert.equal(await verifyBundle(vectors.same_bundle_other_key_order, key), true);
  });
  for (const t of vectors.tampered) {
    test(`refused: ${t.name}`, async () => {
      assert.equal(await verifySignature(t.document, key.public_key), false);
      assert.equal(await verifyBundle(t.document, key), false);
    });
  }
  test("a bundle signed by another organization's key is refused with the pinned one", async () => {
    assert.equal(await verifySignature(vectors.signed_by_other_key, otherKey.public_key), true);
    assert.equal(await verifySignature(vectors.signed_by_other_key, key.public_key), false);
    assert.equal(await verifyBundle(vectors.signed_by_other_key, key), false);
  });
  test("a bundle of another organization is refused even when its signature is good", async () => {
    assert.equal(await verifyBundle(bundle.document, { ...key, orq: key.orq + 1 }), false);
  });
  test("a pinned key that is not 32 base64url bytes is refused", async () => {
    assert.equal(await verifySignature(bundle.document, key.public_key.slice(0, -2)), false);
    assert.equal(await verifySignature(bundle.document, "not a key!"), false);
  });
});

describe("a code is found in the bundle however it was typed", () => {
  test("each ticket of the bundle, typed with dashes in lower case", async () => {
    const typed = { "6c7b": "7kq2-m9xh-4tbw-3rzn-6pcf", "591f": "aOlI-1ooL-k7m3-p9r5-t2v8" };
    for (const [prefix, code] of Object.entries(typed)) {
      const entry = await findEntry(bundle.document, code);
      assert.ok(entry?.h.startsWith(prefix), `${code} → ${JSON.stringify(entry)}`);
    }
  });
  test("a code that is not in the bundle, and text that is no code, are not found", async () => {
    assert.equal(await findEntry(bundle.document, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ"), null);
    assert.equal(await findEntry(bundle.document, "hello"), null);
  });
});
