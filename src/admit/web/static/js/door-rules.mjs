/* The door's verdict for the scanner when it decides alone (offline).

   The home of these rules is the Python: src/admit/domain/door.py and what it uses
   (domain/lifecycle.py effective_status, domain/entry.py, domain/policy.py, domain/calendar.py SlotTimes).
   This module is a line-by-line port of it, checked against every case of tests/vectors/door.json by
   `node --test tests/js/` and in Chromium; change the Python and the vectors first, then this.

   Inputs and outputs are the API's own shapes (snake_case, as in the vectors):
     ticket  {status, valid_until?, verified_at_local?, verified_by?} or null for an unknown code
     slot    {date: "YYYY-MM-DD", start_time: "HH:MM", end_time: "HH:MM"} or null
     policy  {unreserved_entry: "deny" | "allow",
              entry_window: "day" | {minutes_before_start, minutes_after_end}}
     nowLocal the venue's wall clock as a naive ISO string, "2025-11-20T09:45:00"
   Venue times are read as milliseconds on a UTC scale, so the device's own time zone never enters a
   verdict. Anything malformed throws instead of deciding: a NaN compares false, and a false "too early"
   would be a GREEN.
   Titles and messages are in the page's language (door-words.mjs), English where there is no page;
   days are named by Intl from the same CLDR data the server's Babel reads. */

import { N_, _, locale } from "./door-words.mjs";

export const Result = Object.freeze({ GREEN: "GREEN", YELLOW: "YELLOW", RED: "RED" });

export const TicketStatus = Object.freeze({
  PENDING_PAYMENT: "PENDING_PAYMENT",
  INACTIVE: "INACTIVE",
  ACTIVATED: "ACTIVATED",
  RESERVED: "RESERVED",
  VERIFIED: "VERIFIED",
  EXPIRED: "EXPIRED",
  VOID: "VOID",
});

export const UnreservedEntry = Object.freeze({ DENY: "deny", ALLOW: "allow" });

const S = TicketStatus;
const FINAL = new Set([S.VERIFIED, S.EXPIRED, S.VOID]);

// ---- venue wall-clock values (Python's naive date, time and datetime) ----

const MINUTE = 60 * 1000;
const DAY = 24 * 60 * MINUTE;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;

/** A date as its day number (days since 1970-01-01). */
export function parseDate(text) {
  const match = typeof text === "string" ? DATE.exec(text) : null;
  if (!match) throw new TypeError(`not a date (YYYY-MM-DD): ${JSON.stringify(text)}`);
  const [year, month, day] = match.slice(1).map(Number);
  const probe = new Date(0);
  probe.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0-99 as 1900-1999
  // 2025-02-30 rolls over into March here; Python refuses it, and so do we.
  if (year < 1 || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) {
    throw new TypeError(`not a date: ${text}`);
  }
  return Math.floor(probe.getTime() / DAY);
}

/** A time of day as milliseconds since midnight. */
export function parseTime(text) {
  const match = typeof text === "string" ? TIME.exec(text) : null;
  if (!match) throw new TypeError(`not a time (HH:MM[:SS]): ${JSON.stringify(text)}`);
  const [hour, minute, second] = match.slice(1, 4).map((part) => Number(part ?? 0));
  if (hour > 23 || minute > 59 || second > 59) throw new TypeError(`not a time: ${text}`);
  const millis = Number((match[4] ?? "").padEnd(3, "0").slice(0, 3));
  return ((hour * 60 + minute) * 60 + second) * 1000 + millis;
}

/** A naive date and time (no offset: venue time) as milliseconds on a UTC scale. */
export function parseDateTime(text) {
  const [day, clock, ...rest] = typeof text === "string" ? text.split(/[T ]/) : [];
  if (day === undefined || rest.length > 0) {
    throw new TypeError(`not a venue date-time: ${JSON.stringify(text)}`);
  }
  return combine(parseDate(day), clock === undefined ? 0 : parseTime(clock));
}

function combine(day, timeOfDay) {
  return day * DAY + timeOfDay;
}

function dateOf(moment) {
  return Math.floor(moment / DAY);
}

function timeOf(moment) {
  return moment - dateOf(moment) * DAY;
}

const pad = (n) => String(n).padStart(2, "0");

// ---- domain/policy.py ----

/** EntryWindow: null minutes before the start means the whole reserved day. */
export function entryWindowOf(raw) {
  if (raw === undefined || raw === null || raw === "day") {
    return { minutes_before_start: null, minutes_after_end: null };
  }
  if (typeof raw !== "object") throw new TypeError(`not an entry window: ${JSON.stringify(raw)}`);
  const minutes = (value) => {
    if (value === undefined || value === null) return null;
    if (!Number.isInteger(value)) throw new TypeError(`entry window minutes: ${JSON.stringify(value)}`);
    return value;
  };
  return {
    minutes_before_start: minutes(raw.minutes_before_start),
    minutes_after_end: minutes(raw.minutes_after_end),
  };
}

function isDay(window) {
  return window.minutes_before_start === null;
}

/** Policy, with the design's defaults for what is left out. */
export function policyOf(raw = {}) {
  const unreserved = raw.unreserved_entry ?? UnreservedEntry.DENY;
  if (!Object.values(UnreservedEntry).includes(unreserved)) {
    throw new TypeError(`not an unreserved_entry policy: ${JSON.stringify(unreserved)}`);
  }
  return { unreserved_entry: unreserved, entry_window: entryWindowOf(raw.entry_window) };
}

// ---- domain/calendar.py SlotTimes ----

export function slotTimesOf(raw) {
  const date = parseDate(raw.date);
  const startTime = parseTime(raw.start_time);
  const endTime = parseTime(raw.end_time);
  return { date, startTime, endTime, startsAt: combine(date, startTime), endsAt: combine(date, endTime) };
}

// ---- domain/entry.py ----

export function entryOpensAt(slot, window) {
  if (isDay(window)) return combine(slot.date, 0);
  return slot.startsAt - (window.minutes_before_start ?? 0) * MINUTE;
}

/** After this moment (venue time) the reservation can no longer be used: the ticket is EXPIRED. */
export function entryClosesAt(slot, window) {
  if (isDay(window)) return combine(slot.date + 1, 0);
  return slot.endsAt + (window.minutes_after_end ?? 0) * MINUTE;
}

// ---- domain/lifecycle.py ----

/** The status a reader sees: expiry by the venue's clock applies before any sweep writes it. */
export function effectiveStatus(status, { nowLocal, validUntil = null, entryClosesAt = null }) {
  if (FINAL.has(status)) return status;
  if (validUntil !== null && dateOf(nowLocal) > validUntil) return S.EXPIRED;
  if (status === S.RESERVED && entryClosesAt !== null && nowLocal >= entryClosesAt) return S.EXPIRED;
  return status;
}

// ---- domain/door.py ----

export function ticketFactsOf(raw) {
  if (!Object.values(TicketStatus).includes(raw.status)) {
    throw new TypeError(`not a ticket status: ${JSON.stringify(raw.status)}`);
  }
  return {
    status: raw.status,
    validUntil: raw.valid_until ? parseDate(raw.valid_until) : null,
    verifiedAtLocal: raw.verified_at_local ? parseDateTime(raw.verified_at_local) : null,
    verifiedBy: raw.verified_by ?? null,
  };
}

function verdict(result, code, title, message, { entryAllowed = false, canVerify = false } = {}) {
  return {
    result,
    code,
    title,
    message,
    entry_allowed: entryAllowed,
    can_verify: canVerify,
    ticket_status: null, // as the door sees it (expiry applied); decide() fills it in
  };
}

function red(code, title, message) {
  return verdict(Result.RED, code, title, message);
}

/** The party of a scanned visitor: `size` live members booked together in its slot, `admitted` of them
    let in before this scan. null for someone booked alone: there is no one else to expect. */
export function partyAtDoor(size, admitted, { admittedNow }) {
  if (size < 2) return null;
  return { size, admitted: Math.min(size, admitted + (admittedNow ? 1 : 0)) };
}

// Translators: a verdict title at the door, shown in huge letters: keep it short and in capitals.
export const INVALID = Object.freeze(red("INVALID_TICKET", N_("NOT A TICKET"), N_("This code is not a ticket for this venue.")));

function invalid() {
  return { ...INVALID, title: _(INVALID.title), message: _(INVALID.message) };
}

/** The verdict for a scan. `ticket` is null for an unknown code or another organization's ticket;
    `slot` is the slot of the ticket's live reservation, if any; times are the venue's wall clock. */
export function decide(ticket, slot, { nowLocal, policy }) {
  const now = parseDateTime(nowLocal);
  const rules = policyOf(policy);
  if (ticket === null || ticket === undefined) return invalid();
  const facts = ticketFactsOf(ticket);
  const times = slot ? slotTimesOf(slot) : null;
  const window = rules.entry_window;
  const status = effectiveStatus(facts.status, {
    nowLocal: now,
    validUntil: facts.validUntil,
    entryClosesAt: times ? entryClosesAt(times, window) : null,
  });
  return { ...decideStatus(facts, status, times, { nowLocal: now, policy: rules }), ticket_status: status };
}

function decideStatus(ticket, status, slot, { nowLocal, policy }) {
  const window = policy.entry_window;
  const today = dateOf(nowLocal);
  switch (status) {
    case S.VERIFIED:
      return verdict(
        Result.YELLOW,
        "ALREADY_VERIFIED",
        verifiedTitle(ticket, today),
        verifiedMessage(ticket, today),
        { entryAllowed: false, canVerify: true },
      );
    case S.VOID:
      return red("VOID", _("CANCELLED"), _("Ticket revoked"));
    case S.EXPIRED:
      return red("EXPIRED", _("EXPIRED"), _("Ticket expired"));
    case S.PENDING_PAYMENT:
      return red("PAYMENT_PENDING", _("NOT PAID"), _("Payment not completed"));
    case S.INACTIVE:
      return red("NOT_ACTIVATED", _("NOT ACTIVATED"), _("Ticket not activated"));
    case S.ACTIVATED:
      if (policy.unreserved_entry === UnreservedEntry.ALLOW) {
        return verdict(Result.YELLOW, "NO_RESERVATION_ALLOWED", _("NOT BOOKED"), _("No reservation - allowed"), {
          entryAllowed: true,
          canVerify: true,
        });
      }
      return red("NO_RESERVATION", _("NOT BOOKED"), _("Customer must book a time slot first"));
  }
  // RESERVED, and its entry window has not closed yet.
  if (slot === null) return invalid(); // a reserved ticket always has its reservation; refuse rather than guess
  const hours = slotHours(slot);
  if (slot.date !== today) {
    const relative = relativeDay(slot.date, today);
    const message = relative
      ? _("Reserved for %(day)s, %(hours)s", { day: relative, hours })
      : _("Reserved for %(date)s, %(hours)s", { date: longDay(slot.date), hours });
    const title = _("%(day)s %(time)s", { day: dayTitle(slot.date, today), time: clock(slot.startTime) });
    return red("WRONG_DATE", title, message);
  }
  const opens = entryOpensAt(slot, window);
  if (nowLocal < opens) {
    const time = clock(timeOf(opens));
    return red(
      "TOO_EARLY",
      _("TOO EARLY — FROM %(time)s", { time }),
      _("Entry from %(time)s (slot %(hours)s)", { time, hours }),
    );
  }
  return verdict(Result.GREEN, "VALID", _("VALID"), _("Reserved for today, %(hours)s", { hours }), {
    entryAllowed: true,
    canVerify: true,
  });
}

/** ALREADY IN — 08:51 BY JANE: when, and who let the visitor in (the first name, read from afar). */
function verifiedTitle(ticket, today) {
  const at = ticket.verifiedAtLocal;
  if (at === null) return _("ALREADY IN");
  const when = dateOf(at) === today ? clock(timeOf(at)) : dayTitle(dateOf(at), today);
  const names = (ticket.verifiedBy ?? "").split(/\s+/).filter(Boolean);
  if (names.length) return _("ALREADY IN — %(when)s BY %(name)s", { when, name: names[0].toUpperCase() });
  return _("ALREADY IN — %(when)s", { when });
}

function verifiedMessage(ticket, today) {
  const at = ticket.verifiedAtLocal;
  if (at === null) return _("Already verified");
  const name = ticket.verifiedBy;
  const time = clock(timeOf(at));
  if (dateOf(at) === today) {
    return name ? _("Verified at %(time)s by %(name)s", { time, name }) : _("Verified at %(time)s", { time });
  }
  const day = relativeDay(dateOf(at), today);
  if (day) {
    return name
      ? _("Verified %(day)s at %(time)s by %(name)s", { day, time, name })
      : _("Verified %(day)s at %(time)s", { day, time });
  }
  const date = longDay(dateOf(at));
  return name
    ? _("Verified on %(date)s at %(time)s by %(name)s", { date, time, name })
    : _("Verified on %(date)s at %(time)s", { date, time });
}

// Days as the language says them, from CLDR (Intl here, Babel in domain/door.py): "tomorrow", "morgen",
// "demain"; "Tue 1 Dec", "di 1 dec", "mar. 1 déc.". Day numbers are UTC midnights, so formatted in UTC.
const RELATIVE_DAYS = new Set([-1, 0, 1]);

/** "yesterday", "today", "tomorrow" in the page's language, else null. */
function relativeDay(day, today) {
  const offset = day - today;
  if (!RELATIVE_DAYS.has(offset)) return null;
  return new Intl.RelativeTimeFormat(locale(), { numeric: "auto" }).format(offset, "day");
}

/** A day in a verdict title: "TOMORROW", else "TUE 1 DEC". */
function dayTitle(day, today) {
  const named = relativeDay(day, today) ?? formatDay(day, { weekday: "short", day: "numeric", month: "short" });
  return named.toUpperCase(); // as Python's str.upper, which knows no locale
}

function longDay(day) {
  return formatDay(day, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
}

function formatDay(day, options) {
  return new Intl.DateTimeFormat(locale(), { ...options, timeZone: "UTC" }).format(new Date(day * DAY));
}

/** 09:30: one 24-hour clock everywhere (Python's "%H:%M"). */
function clock(timeOfDay) {
  return `${pad(Math.floor(timeOfDay / (60 * MINUTE)))}:${pad(Math.floor(timeOfDay / MINUTE) % 60)}`;
}

function slotHours(slot) {
  return `${clock(slot.startTime)}-${clock(slot.endTime)}`;
}
