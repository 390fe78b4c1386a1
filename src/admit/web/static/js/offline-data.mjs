/* The offline bundle as the device reads it: codes, entry hashes, canonical JSON and signatures.

   The server is the home of each of these: codes are normalised as src/admit/security/codes.py does, and
   the bundle is hashed, serialised and signed as the server's offline bundle does. tests/vectors/
   offline.json (made by tests/vectors/make_offline.py with the server's own code) holds the cases both
   sides are checked against. Uses only WebCrypto, present in browsers (secure contexts) and Node 20. */

export const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const LENGTH = 20;
const READS_AS = { O: "0", I: "1", L: "1" };
// Python's `\s` for text, which is not JavaScript's: it also takes U+001C-U+001F and U+0085, and not U+FEFF.
const SEPARATORS =
  /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\-_.]+/g;
const VALID = new RegExp(`^[${ALPHABET}]{${LENGTH}}$`);

/** The canonical code for what a person typed or a scanner read, or null if it cannot be one. */
export function normalise(raw) {
  if (typeof raw !== "string" || [...raw].length > 4 * LENGTH) return null; // Python counts code points
  // Python's str.upper and toUpperCase agree on every character that upper-cases into a code's letters.
  const code = raw
    .replace(SEPARATORS, "")
    .toUpperCase()
    .replace(/[OIL]/g, (letter) => READS_AS[letter]);
  return VALID.test(code) ? code : null;
}

/** A bundle entry's `h`: SHA-256 of the salt's bytes (the bundle sends them as base64url) then the
    normalised code, hex, first 32 characters. null when the input cannot be a code (it can then be in
    no bundle). */
export async function entryHash(salt, raw) {
  const code = normalise(raw);
  const saltBytes = fromBase64url(salt);
  if (code === null) return null;
  if (saltBytes === null) throw new TypeError("the bundle's salt is not base64url");
  const codeBytes = new TextEncoder().encode(code);
  const message = new Uint8Array(saltBytes.length + codeBytes.length);
  message.set(saltBytes);
  message.set(codeBytes, saltBytes.length);
  const digest = await crypto.subtle.digest("SHA-256", message);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 32);
}

/** The bundle's entry for a typed or scanned code, or null when the bundle does not hold it. */
export async function findEntry(bundle, raw) {
  const h = await entryHash(bundle.salt, raw);
  return h === null ? null : (bundle.tickets.find((entry) => entry.h === h) ?? null);
}

const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** The venue's wall clock at an instant (ISO 8601 with its offset, as the server writes timestamps, or a
    Date): a naive "YYYY-MM-DDTHH:MM:SS" for door-rules.mjs, in the bundle's IANA `timezone`, as Python's
    `instant.astimezone(ZoneInfo(timezone))` reads it. The device's own time zone plays no part. */
export function venueLocal(instant, timeZone) {
  if (typeof instant === "string" && !WITH_OFFSET.test(instant)) {
    throw new TypeError(`not a timestamp with an offset: ${JSON.stringify(instant)}`);
  }
  const when = instant instanceof Date ? instant : new Date(instant);
  if (Number.isNaN(when.getTime())) throw new TypeError(`not a timestamp: ${JSON.stringify(instant)}`);
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const part = Object.fromEntries(format.formatToParts(when).map(({ type, value }) => [type, value]));
  return `${part.year.padStart(4, "0")}-${part.month}-${part.day}T${part.hour}:${part.minute}:${part.second}`;
}

/** The text that is signed: Python's json.dumps(doc, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False). Throws on what the two cannot write alike: a number that is not a safe whole
    number (Python writes 1.0 where JavaScript has read 1) and a string with a lone surrogate. */
export function canonicalJson(value) {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(`no canonical form for the number ${value}`);
    return String(value);
  }
  if (typeof value === "string") {
    if (LONE_SURROGATE.test(value)) throw new TypeError("no canonical form for a string with a lone surrogate");
    return JSON.stringify(value); // escapes exactly what Python's ensure_ascii=False escapes
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).sort(byCodePoint);
    return `{${keys.map((key) => `${canonicalJson(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  throw new TypeError(`no canonical form for a ${typeof value}`);
}

// With the u flag a pair of surrogates is one character, so this finds only the unpaired ones.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** Python sorts keys by code point; JavaScript compares UTF-16 units, which puts U+1F600 (a surrogate pair)
    before U+FF01. Moving the surrogates above U+E000-U+FFFF at the first unit that differs gives the code
    point order, without splitting every key into characters. */
function byCodePoint(a, b) {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const left = a.charCodeAt(i);
    const right = b.charCodeAt(i);
    if (left !== right) return codePointRank(left) - codePointRank(right);
  }
  return a.length - b.length;
}

function codePointRank(unit) {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** Bytes of base64url text (padded or not), or null when it is not base64url. */
export function fromBase64url(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return null;
  const bare = text.replace(/=+$/, "");
  if (bare.length % 4 === 1) return null;
  const binary = atob(bare.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** Whether `doc.signature` is the Ed25519 signature, by `publicKey` (base64url of the raw 32 bytes), of
    the canonical JSON of `doc` without its `signature`. Anything that cannot be checked is refused. */
export async function verifySignature(doc, publicKey) {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return false;
  const { signature, ...body } = doc;
  const key = fromBase64url(publicKey);
  const signed = fromBase64url(signature);
  if (key === null || key.length !== 32 || signed === null || signed.length !== 64) return false;
  let message;
  try {
    message = new TextEncoder().encode(canonicalJson(body));
  } catch {
    return false;
  }
  try {
    const verifier = await crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, verifier, signed, message);
  } catch {
    return false; // not a point on the curve
  }
}

/** Whether a bundle is genuine for the key the device pinned at login ({orq, key_id, public_key}). */
export async function verifyBundle(bundle, pinned) {
  if (bundle === null || typeof bundle !== "object") return false;
  if (bundle.orq !== pinned.orq || bundle.key_id !== pinned.key_id) return false;
  return verifySignature(bundle, pinned.public_key);
}

// ---- the signed reservation QR (src/admit/domain/offline.py is its home) ----
// `A1.<code>.<orq>.<ref>.<YYYYMMDD>.<HHMM>.<HHMM>.<version>.<signature>`, the signature over every byte
// before the last dot, by the organization's key. A typed code is never this long.

const QR_MIN_LENGTH = 100;
const QR = new RegExp(
  "^A1\\.([0-9A-Z]{20})\\.([1-9][0-9]{0,9})\\.([A-Za-z0-9_-]{8})\\.([0-9]{8})\\.([0-9]{4})\\.([0-9]{4})" +
    "\\.(0|[1-9][0-9]{0,8})\\.([A-Za-z0-9_-]{85}[AQgw])$",
);
// Python's str.strip() for what a scanner adds around the text.
const EDGES = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Whether a scanned text is meant as a signed QR (it may still be malformed or forged). */
export function isQrText(raw) {
  if (typeof raw !== "string") return false;
  const text = raw.replace(EDGES, "");
  return text.startsWith("A1.") && text.length >= QR_MIN_LENGTH;
}

/** The parts of a signed QR text, its signature not yet checked; null when it is malformed. */
export function parseQr(raw) {
  if (!isQrText(raw)) return null;
  const text = raw.replace(EDGES, "");
  const match = QR.exec(text);
  if (match === null) return null;
  const [, code, orq, ref, day, start, end, version, signature] = match;
  const date = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)}`;
  const startTime = `${start.slice(0, 2)}:${start.slice(2)}`;
  const endTime = `${end.slice(0, 2)}:${end.slice(2)}`;
  if (!realDate(date) || !realTime(startTime) || !realTime(endTime)) return null;
  return {
    code,
    orq: Number(orq),
    ref,
    date,
    start_time: startTime,
    end_time: endTime,
    version: Number(version),
    message: text.slice(0, text.length - signature.length - 1),
    signature,
  };
}

function realDate(text) {
  const [year, month, day] = text.split("-").map(Number);
  const when = new Date(Date.UTC(2000, month - 1, day));
  when.setUTCFullYear(year);
  return year >= 1 && when.getUTCFullYear() === year && when.getUTCMonth() === month - 1 && when.getUTCDate() === day;
}

function realTime(text) {
  const [hour, minute] = text.split(":").map(Number);
  return hour < 24 && minute < 60;
}

/** Whether a parsed QR is signed by the pinned organization key ({orq, key_id, public_key}). */
export async function verifyQr(signed, pinned) {
  if (signed === null || pinned === null || typeof pinned !== "object" || signed.orq !== pinned.orq) return false;
  const key = fromBase64url(pinned.public_key);
  const signature = fromBase64url(signed.signature);
  if (key === null || key.length !== 32 || signature === null || signature.length !== 64) return false;
  try {
    const verifier = await crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, verifier, signature, new TextEncoder().encode(signed.message));
  } catch {
    return false;
  }
}

/** The ticket code in what was typed or scanned: a signed QR's code (whatever its signature), or the
    typed code normalised; null when there is none. */
export function codeOf(raw) {
  if (isQrText(raw)) return parseQr(raw)?.code ?? null;
  return normalise(raw);
}
