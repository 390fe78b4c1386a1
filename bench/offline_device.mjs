/* The scanner's share of a large venue's offline day: a 100,000-ticket bundle believed, indexed and
   looked up by the device's own modules (offline-data.mjs), in Node's WebCrypto as in a browser's.

       node bench/offline_device.mjs [tickets]

   The bundle is made here, signed with a fresh Ed25519 key, with the server's entry shape; every ticket
   shares one reservation object, which makes the JSON a little smaller than a real day's. Prints the
   JSON's size and, over three rounds, the time to parse it, to check its signature over the canonical
   JSON, to build the look-up Map, and to hash and look up one scanned code. Not part of the test suite. */

import { canonicalJson, entryHash, verifyBundle } from "../src/admit/web/static/js/offline-data.mjs";

const N = Number(process.argv[2] || 100_000);
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const codeOf = (i) => "T".repeat(14) + [...i.toString(32).padStart(6, "0")].map((d) => ALPHABET[parseInt(d, 32)]).join("");

const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
const key = { orq: 1, key_id: "bench", public_key: Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey)).toString("base64url") };
const salt = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
const reservation = { date: "2025-11-20", start_time: "10:00", end_time: "11:00", version: 1 };
const tickets = [];
for (let i = 0; i < N; i++) {
  tickets.push({ h: await entryHash(salt, codeOf(i)), status: "RESERVED", valid_until: null, reservation, verified_at: null, verified_by: null });
}
const doc = {
  orq: 1, date: "2025-11-20", timezone: "Europe/Amsterdam", policy: { unreserved_entry: "deny", entry_window: "day" },
  generated_at: "2025-11-20T09:00:00+01:00", full: true, cursor: "bench", salt, key_id: "bench", tickets, removed: [],
};
const signature = await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, new TextEncoder().encode(canonicalJson(doc)));
const text = JSON.stringify({ signature: Buffer.from(signature).toString("base64url"), ...doc });
console.log(`${N} tickets, ${(text.length / 1024 / 1024).toFixed(1)} MiB of JSON`);
console.log("| round | parse ms | verify ms | index ms | look-up ms |\n| --- | --- | --- | --- | --- |");
for (let round = 1; round <= 3; round++) {
  let started = performance.now();
  const bundle = JSON.parse(text);
  const parse = performance.now() - started;
  started = performance.now();
  if (!(await verifyBundle(bundle, key))) throw new Error("the bundle was not believed");
  const verify = performance.now() - started;
  started = performance.now();
  const index = new Map(bundle.tickets.map((entry) => [entry.h, entry]));
  const build = performance.now() - started;
  started = performance.now();
  for (let i = 0; i < 1000; i++) if (!index.get(await entryHash(salt, codeOf(i * 7)))) throw new Error("not found");
  const lookup = (performance.now() - started) / 1000;
  console.log(`| ${round} | ${parse.toFixed(0)} | ${verify.toFixed(0)} | ${build.toFixed(0)} | ${lookup.toFixed(3)} |`);
}
