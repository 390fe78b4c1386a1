/* The scanner deciding alone: the signed bundle kept up to date, verdicts by the door's own rules when
   the server does not answer, the offline scans queued on the device and sent back when it does.

   The rules are door-rules.mjs (a port of the server's, checked against the shared vectors); codes,
   hashes and signatures are offline-data.mjs; what is kept on the device is offline-store.mjs. */

import { decide, partyAtDoor } from "./door-rules.mjs";
import { codeOf, entryHash, isQrText, normalise, parseQr, venueLocal, verifyBundle, verifyQr } from "./offline-data.mjs";
import * as store from "./offline-store.mjs";
import { N_, _ } from "./door-words.mjs";

const REFRESH_MS = 60_000; // a delta a minute: cheap for the server, and a device is at most a minute behind
const PROBE_MS = 5_000; // while offline, how often the server is asked whether it is back
const FULL_TIMEOUT_MS = 60_000; // a whole day's bundle for a large venue is megabytes on a door's network
const DELTA_TIMEOUT_MS = 15_000;
const SYNC_TIMEOUT_MS = 15_000;
const SYNC_BATCH = 100;
const ANSWERED = new Set(["applied", "duplicate", "conflict"]);
// Statuses of a gateway whose server is gone: the same for the door as no network at all.
const GATEWAY_DOWN = new Set([502, 503, 504]);

/** Whether a failed call means "the server cannot be reached" rather than "the server said no". */
export function unreachable(error) {
  return error.status === 0 || GATEWAY_DOWN.has(error.status);
}

function yellow(code, title, message) {
  return { result: "YELLOW", code, title, message, entry_allowed: false, can_verify: false, ticket_status: null };
}

// The titles are read from afar, in huge letters on a phone: the catalogues tell the translators so.
export const NOT_IN_DATA = Object.freeze(
  // Translators: a verdict title at the door, in huge letters (short, in capitals), and its message.
  yellow("NOT_IN_OFFLINE_DATA", N_("NOT IN OFFLINE DATA"), N_("Not in offline data — check ID or wait for connection")),
);
export const NO_DATA = Object.freeze(
  // Translators: a verdict title at the door, in huge letters (short, in capitals), and its message.
  yellow("NO_OFFLINE_DATA", N_("NO OFFLINE DATA"), N_("This device has no offline data yet — check ID or wait for connection")),
);
// The rules refused to decide (malformed data): never a GREEN by accident.
export const UNDECIDED = Object.freeze({
  // Translators: a verdict title at the door, in huge letters (short, in capitals), and its message.
  ...yellow("OFFLINE_UNDECIDED", N_("CANNOT DECIDE OFFLINE"), N_("Check ID or wait for connection")),
  result: "RED",
});

/** One of the verdicts above in the page's language. */
function inWords(verdict) {
  return { ...verdict, title: _(verdict.title), message: _(verdict.message) };
}

/** Whether the bundle's entry decides a signed QR's ticket rather than the QR's claim: the entry shows
    the ticket no longer reserved (cancelled, verified, void, expired), or a reservation version the
    claim does not outdate. A move after the bundle has a newer version, so its claim stands. */
export function bundleKnowsBetter(entry, signed) {
  if (entry === undefined || entry === null) return false;
  if (entry.status !== "RESERVED") return true;
  return (entry.reservation?.version ?? -1) >= signed.version;
}

export class OfflineDoor {
  /**
   * call: the staff session's API call; api: an unauthenticated one (for the probe); now: the
   * server-corrected clock (a Date); switchMs: how long a scan waits for the server; onChange(state).
   */
  constructor({ call, api, operator, deviceId, now, newId, switchMs, onChange }) {
    Object.assign(this, { call, api, operator, deviceId, now, newId, switchMs, onChange });
    this.orq = operator.orq;
    this.offline = false;
    this.key = null;
    this.keyChecked = false;
    this.bundle = null; // {date, timezone, policy, salt, key_id, cursor, generated_at, tickets (count)}
    this.entries = new Map();
    this.parties = null; // the entries' hashes by party and slot, made when first asked for
    this.changes = null;
    this.marks = {};
    this.refused = "";
    this.queueLength = 0;
    this.timers = [];
    this.busy = { refresh: false, sync: false };
    this.stopped = false;
  }

  // ---- lifecycle ----

  async start() {
    const [key, bundle, changes, marks] = await Promise.all(
      ["key", "bundle", "changes", "marks"].map((name) => store.getMeta(`${name}:${this.orq}`)),
    );
    this.key = key ?? null;
    if (key && bundle && changes && bundle.key_id === key.key_id) this.load(bundle, changes, marks ?? {});
    await this.countQueue();
    this.emit();
    this.timers.push(setInterval(() => this.refresh(), REFRESH_MS));
    this.refresh();
  }

  stop() {
    this.stopped = true;
    this.timers.forEach(clearInterval);
    clearInterval(this.probeTimer);
  }

  state() {
    const generated = this.bundle ? Date.parse(this.bundle.generated_at) : null;
    return {
      offline: this.offline,
      hasBundle: this.bundle !== null,
      tickets: this.entries.size,
      date: this.bundle?.date ?? null,
      generatedAt: this.bundle?.generated_at ?? null,
      ageMs: generated === null ? null : this.now().getTime() - generated,
      refused: this.refused,
      queueLength: this.queueLength,
    };
  }

  emit() {
    if (!this.stopped) this.onChange(this.state());
  }

  // ---- online / offline ----

  unreachable(error) {
    return unreachable(error);
  }

  goOffline() {
    if (this.offline || this.stopped) return;
    this.offline = true;
    this.probeTimer = setInterval(() => this.probe(), PROBE_MS);
    this.emit();
  }

  /** The server answered again: decide online, and send what was decided meanwhile. */
  backOnline() {
    if (!this.offline) return;
    this.offline = false;
    clearInterval(this.probeTimer);
    this.emit();
    this.refresh();
  }

  async probe() {
    try {
      await this.api("GET", "/readyz", { timeoutMs: this.switchMs });
    } catch (_still) {
      return;
    }
    this.backOnline();
  }

  // ---- the bundle ----

  load(bundle, changes, marks) {
    this.entries = new Map();
    for (const entry of bundle.tickets) this.entries.set(entry.h, entry);
    for (const [h, entry] of Object.entries(changes.tickets)) this.entries.set(h, entry);
    for (const h of changes.removed) this.entries.delete(h);
    this.parties = null;
    this.bundle = {
      date: bundle.date,
      salt: bundle.salt,
      key_id: bundle.key_id,
      timezone: changes.timezone,
      policy: changes.policy,
      cursor: changes.cursor,
      generated_at: changes.generated_at,
    };
    this.changes = changes;
    this.marks = marks;
  }

  /** Pin the key (once per login), then fetch the day's bundle, or what changed since the last one. */
  async refresh() {
    if (this.busy.refresh || this.stopped) return;
    this.busy.refresh = true;
    try {
      if (!this.keyChecked) await this.pinKey();
      await this.fetchBundle();
      if (!this.offline) await this.sync();
    } catch (error) {
      if (unreachable(error)) this.goOffline();
    } finally {
      this.busy.refresh = false;
      this.emit();
    }
  }

  async pinKey() {
    const key = await this.call("GET", "/api/operator/offline-key", { timeoutMs: DELTA_TIMEOUT_MS });
    const same = this.key && this.key.key_id === key.key_id && this.key.public_key === key.public_key;
    if (!same) {
      // What the old key signed is no longer believed.
      this.key = key;
      this.bundle = null;
      this.entries = new Map();
      await store.putMeta({ [`key:${this.orq}`]: key, [`bundle:${this.orq}`]: undefined, [`changes:${this.orq}`]: undefined });
    }
    this.keyChecked = true;
  }

  async fetchBundle() {
    const today = this.bundle ? venueLocal(this.now(), this.bundle.timezone).slice(0, 10) : null;
    const continuing = this.bundle !== null && this.bundle.date === today;
    let doc;
    try {
      doc = await this.call("GET", "/api/operator/offline-bundle", {
        query: continuing ? { date: today, since: this.bundle.cursor } : { date: today },
        timeoutMs: continuing ? DELTA_TIMEOUT_MS : FULL_TIMEOUT_MS,
      });
    } catch (error) {
      // A cursor the server no longer reads (its keys changed): start again from a full bundle.
      if (continuing && error.status === 422) this.bundle = null;
      throw error;
    }
    const genuine = await verifyBundle(doc, this.key);
    const continues = doc.full || (continuing && doc.date === this.bundle.date && doc.salt === this.bundle.salt);
    if (!genuine || !continues) {
      this.refused = _("Offline data refused: it is not signed by this organization's key. The previous data is kept.");
      return;
    }
    this.refused = "";
    if (doc.full) await this.storeFull(doc);
    else await this.applyDelta(doc);
  }

  async storeFull(doc) {
    const changes = {
      cursor: doc.cursor,
      generated_at: doc.generated_at,
      timezone: doc.timezone,
      policy: doc.policy,
      tickets: {},
      removed: [],
    };
    // The new salt gives new hashes: the device's own admits still waiting to be sent are marked again.
    const marks = {};
    for (const scan of await store.queued()) {
      if (scan.orq !== this.orq || scan.action !== "admit") continue;
      const h = await entryHash(doc.salt, scan.code);
      if (h !== null) marks[h] = scan.mark;
    }
    await store.putMeta({
      [`bundle:${this.orq}`]: doc,
      [`changes:${this.orq}`]: changes,
      [`marks:${this.orq}`]: marks,
    });
    this.load(doc, changes, marks);
  }

  /** Entries replace those with the same `h`; applying a delta twice changes nothing more. */
  async applyDelta(doc) {
    const changes = this.changes;
    for (const entry of doc.tickets) {
      changes.tickets[entry.h] = entry;
      this.entries.set(entry.h, entry);
    }
    const removed = new Set(changes.removed);
    for (const h of doc.removed) {
      delete changes.tickets[h];
      removed.add(h);
      this.entries.delete(h);
    }
    this.parties = null;
    Object.assign(changes, {
      removed: [...removed],
      cursor: doc.cursor,
      generated_at: doc.generated_at,
      timezone: doc.timezone,
      policy: doc.policy,
    });
    await store.putMeta({ [`changes:${this.orq}`]: changes });
    Object.assign(this.bundle, {
      cursor: doc.cursor,
      generated_at: doc.generated_at,
      timezone: doc.timezone,
      policy: doc.policy,
    });
  }

  // ---- deciding ----

  /** The verdict for a typed or scanned code, by the door's rules on the bundle, at the venue's now. */
  async decide(raw) {
    const at = this.now();
    const bundle = this.bundle;
    if (bundle === null) return this.shape(inWords(NO_DATA), raw);
    try {
      const rules = { nowLocal: venueLocal(at, bundle.timezone), policy: bundle.policy };
      const signed = isQrText(raw) ? parseQr(raw) : null;
      // A QR text that is malformed, forged or of another organization is no ticket at all.
      if (isQrText(raw) && !(await verifyQr(signed, this.key))) return this.shape(decide(null, null, rules), raw);
      const code = signed ? signed.code : normalise(raw);
      if (code === null) return this.shape(decide(null, null, rules), raw);
      const h = await entryHash(bundle.salt, code);
      const entry = this.entries.get(h);
      if (signed && !bundleKnowsBetter(entry, signed)) {
        // Booked (or moved) after the bundle: the organization's signed claim stands for the entry.
        const claimed = { reservation: { date: signed.date, start_time: signed.start_time, end_time: signed.end_time } };
        const ticket = this.claimedTicket(h);
        return this.shape(decide(ticket, claimed.reservation, rules), raw, claimed, ticket);
      }
      if (entry === undefined) return this.shape(inWords(NOT_IN_DATA), raw);
      const ticket = this.ticketOf(h, entry);
      const verdict = decide(ticket, entry.reservation, rules);
      return this.shape(verdict, raw, entry, ticket);
    } catch (_malformed) {
      return this.shape(inWords(UNDECIDED), raw);
    }
  }

  /** A ticket the bundle does not hold as the claim has it: reserved, unless admitted on this device. */
  claimedTicket(h) {
    const mark = this.marks[h];
    if (mark) return { status: "VERIFIED", valid_until: null, verified_at_local: mark.verified_at_local, verified_by: mark.verified_by };
    return { status: "RESERVED", valid_until: null, verified_at_local: null, verified_by: null };
  }

  ticketOf(h, entry) {
    const mark = this.marks[h];
    // Admitted on this device while offline, and not yet seen as VERIFIED in the server's data.
    if (mark && (entry.status === "RESERVED" || entry.status === "ACTIVATED")) {
      return { status: "VERIFIED", valid_until: entry.valid_until, verified_at_local: mark.verified_at_local, verified_by: mark.verified_by };
    }
    return {
      status: entry.status,
      valid_until: entry.valid_until,
      verified_at_local: entry.verified_at ? venueLocal(entry.verified_at, this.bundle.timezone) : null,
      verified_by: entry.verified_by,
    };
  }

  /** The entry's party in its slot: its size from the server, and how many of it are in as this device
      knows (VERIFIED in the data, or admitted here). null for one booked alone. */
  partyOf(reservation) {
    const party = reservation?.party;
    if (!party) return null;
    const key = (r) => `${r.party.ref} ${r.date} ${r.start_time}`;
    if (this.parties === null) {
      this.parties = new Map();
      for (const [h, entry] of this.entries) {
        if (!entry.reservation?.party) continue;
        const group = key(entry.reservation);
        if (!this.parties.has(group)) this.parties.set(group, []);
        this.parties.get(group).push(h);
      }
    }
    const members = this.parties.get(key(reservation)) ?? [];
    const admitted = members.filter((h) => this.ticketOf(h, this.entries.get(h)).status === "VERIFIED").length;
    return partyAtDoor(party.size, admitted, { admittedNow: false });
  }

  /** The party as ADMITTED shows it once this device let the visitor in: this one counted too. */
  admittedParty(party) {
    return party ? partyAtDoor(party.size, party.admitted, { admittedNow: true }) : null;
  }

  /** The verdict in the API's shape, so the page shows it as it shows the server's. */
  shape(verdict, raw, entry = null, ticket = null) {
    const code = codeOf(raw);
    const reservation = entry?.reservation;
    return {
      result: verdict.result,
      code: verdict.code,
      title: verdict.title,
      message: verdict.message,
      entry_allowed: verdict.entry_allowed,
      can_verify: verdict.can_verify,
      ticket: ticket && { status: verdict.ticket_status, code_suffix: code.slice(-4) },
      reservation: reservation
        ? {
          date: reservation.date,
          start_time: reservation.start_time,
          end_time: reservation.end_time,
          party: this.partyOf(reservation),
        }
        : null,
      customer: null, // the bundle holds no personal data
      verified_at: ticket?.verified_at_local ?? null,
      verified_by: ticket?.verified_by ?? null,
      offline: true,
    };
  }

  // ---- the queue ----

  /** Queue a scan decided offline; an admit also marks the ticket VERIFIED on this device. */
  async record(raw, verdict, action) {
    const at = this.now();
    const code = normalise(raw) ?? String(raw).trim().slice(0, 200);
    const scan = {
      scan_id: this.newId(),
      orq: this.orq,
      device_id: this.deviceId,
      operator_id: this.operator.id,
      operator_name: this.operator.name,
      code,
      scanned_at: at.toISOString(),
      action,
      offline_result: verdict.result,
      offline_code: verdict.code,
    };
    let h = null;
    if (action === "admit" && this.bundle) {
      scan.mark = { verified_at_local: venueLocal(at, this.bundle.timezone), verified_by: this.operator.name };
      h = await entryHash(this.bundle.salt, codeOf(code));
    }
    await store.enqueue(scan);
    if (h !== null) {
      this.marks[h] = scan.mark;
      await store.putMeta({ [`marks:${this.orq}`]: this.marks });
    }
    await this.countQueue();
    this.emit();
    return scan;
  }

  async countQueue() {
    this.queueLength = (await store.queued()).length;
  }

  /** Send this operator's queued scans in door-time order; each one the server answered leaves the queue. */
  async sync() {
    if (this.busy.sync || this.stopped) return;
    this.busy.sync = true;
    try {
      const mine = (await store.queued()).filter((s) => s.orq === this.orq && s.operator_id === this.operator.id);
      for (let first = 0; first < mine.length; first += SYNC_BATCH) {
        const scans = mine.slice(first, first + SYNC_BATCH).map((s) => ({
          scan_id: s.scan_id,
          code: s.code,
          scanned_at: s.scanned_at,
          action: s.action,
          offline_result: s.offline_result,
          offline_code: s.offline_code,
        }));
        const answer = await this.call("POST", "/api/operator/scans/sync", {
          body: { device_id: this.deviceId, scans },
          timeoutMs: SYNC_TIMEOUT_MS,
        });
        const done = (answer.results || []).filter((r) => ANSWERED.has(r.outcome)).map((r) => r.scan_id);
        await store.dequeue(done);
      }
    } catch (error) {
      // Unreachable, or a server without the sync endpoint yet (404): the scans stay for the next try.
      if (unreachable(error)) this.goOffline();
    } finally {
      this.busy.sync = false;
      await this.countQueue();
      this.emit();
    }
  }
}
