/* Shared by every page: calling the API, small DOM helpers, dates, and the staff login. */
"use strict";

window.Admit = (function () {
  // ---- Words: this page's language, from the catalogues the server renders the page from ----
  const words = (function () {
    const node = document.getElementById("admit-messages");
    try {
      return JSON.parse(node ? node.textContent : "null") || {};
    } catch (_broken) {
      return {};
    }
  })();
  const lang = words.lang || document.documentElement.lang || "en";
  const messages = words.messages || {};
  // Dates and times as the language writes them; English as in Britain: 24-hour, day before month.
  const locale = lang === "en" ? "en-GB" : lang;
  const pluralRules = new Intl.PluralRules(locale);

  function fill(text, values) {
    return text.replace(/%\((\w+)\)[sd]/g, (whole, name) => (values && name in values ? String(values[name]) : whole));
  }

  /** The message in this page's language: _("Hello %(name)s", {name: "Ana"}). */
  function _(message, values) {
    const text = messages[message];
    return fill(typeof text === "string" && text ? text : message, values);
  }

  /** The plural form for `n`, which fills %(num)d: ngettext("%(num)d ticket", "%(num)d tickets", n). */
  function ngettext(singular, plural, n, values) {
    const forms = messages[singular];
    const all = Object.assign({ num: n }, values);
    if (!Array.isArray(forms)) return fill(n === 1 ? singular : plural, all);
    const index = (words.plurals || []).indexOf(pluralRules.select(n));
    return fill(forms[index < 0 ? forms.length - 1 : index] || plural, all);
  }

  // The language switcher: a plain form that works without scripts; with them, choosing is enough.
  document.addEventListener("DOMContentLoaded", () => {
    const choice = document.getElementById("language-choice");
    if (!choice) return;
    choice.form.querySelector("button").hidden = true;
    choice.addEventListener("change", () => choice.form.submit());
    // A language picked while the scripts were still loading would otherwise be shown and not sent.
    // Only a change from the page's own language counts, so that a page never sends itself again.
    const shown = Array.from(choice.options).find((option) => option.defaultSelected);
    if (shown && choice.value !== shown.value) choice.form.submit();
  });

  class ApiError extends Error {
    constructor(status, code, message, details, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details || {};
      this.retryAfter = retryAfter;
    }
  }

  /** Call the API; resolve with the JSON body, or reject with an ApiError carrying the API's code. */
  async function api(method, path, options) {
    const opts = options || {};
    // The API's messages in the page's language; its codes are the same in every language.
    const headers = { Accept: "application/json", "Accept-Language": lang };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    // `file`: a Blob sent as it is (an image upload); the server reads its type from its bytes.
    if (opts.file) headers["Content-Type"] = opts.file.type || "application/octet-stream";
    if (opts.token) headers.Authorization = "Bearer " + opts.token;
    let url = path;
    if (opts.query) {
      const params = new URLSearchParams();
      Object.entries(opts.query).forEach(([key, value]) => {
        if (value !== undefined && value !== null && value !== "") params.set(key, value);
      });
      const text = params.toString();
      if (text) url += "?" + text;
    }
    let response;
    // `timeoutMs`: give up on a server that does not answer in time, as on one that cannot be reached.
    const abort = opts.timeoutMs ? new AbortController() : null;
    const timer = abort ? setTimeout(() => abort.abort(), opts.timeoutMs) : null;
    try {
      response = await fetch(url, {
        method: method,
        headers: headers,
        body: opts.file || (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
        cache: "no-store",
        signal: abort ? abort.signal : undefined,
      });
    } catch (_offline) {
      throw new ApiError(0, "NETWORK", _("The server cannot be reached. Check the connection and try again."));
    } finally {
      clearTimeout(timer);
    }
    // `raw`: a download (CSV); the caller reads the body. Errors still come as the API's JSON.
    if (opts.raw && response.ok) return response;
    let data = null;
    try {
      data = await response.json();
    } catch (_notJson) {
      data = null;
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      const retryAfter = response.headers.get("Retry-After");
      let message = error.message || _("Something went wrong (%(status)s). Please try again.", { status: response.status });
      const seconds = Number.parseInt(retryAfter || "", 10);
      if (response.status === 429 && seconds >= 0) {
        message = ngettext(
          "Too many attempts in a short time: wait %(num)d second and try again.",
          "Too many attempts in a short time: wait %(num)d seconds and try again.",
          seconds,
        );
      }
      throw new ApiError(response.status, error.code || "HTTP_" + response.status, message, error.details, retryAfter);
    }
    return data;
  }

  /** Make an element: el("p", {class: "x", text: "hi"}, child, …). */
  function el(tag, attrs) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => {
      if (value === undefined || value === null || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      // Through the CSSOM: the Content-Security-Policy refuses inline style attributes.
      else if (key === "style") Object.assign(node.style, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    for (let i = 2; i < arguments.length; i += 1) {
      const child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function $(id) {
    return document.getElementById(id);
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function setMessage(node, text, kind) {
    node.textContent = text || "";
    node.classList.remove("ok", "info");
    if (kind) node.classList.add(kind);
  }

  /** Put keyboard focus (and a screen reader's attention) on a heading or region. */
  function focus(node) {
    if (!node) return;
    if (!node.hasAttribute("tabindex")) node.setAttribute("tabindex", "-1");
    node.focus({ preventScroll: false });
  }

  // Dates: the API's "YYYY-MM-DD" are venue-local calendar days, so they are handled as UTC dates
  // here and never shifted by the browser's own time zone.
  function parseDay(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d));
  }

  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }

  function addDays(iso, days) {
    const date = parseDay(iso);
    date.setUTCDate(date.getUTCDate() + days);
    return isoDay(date);
  }

  const LONG = new Intl.DateTimeFormat(locale, {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  });
  const SHORT = new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });

  function longDate(iso) {
    return LONG.format(parseDay(iso));
  }

  function shortDate(iso) {
    return SHORT.format(parseDay(iso));
  }

  /** The calendar day at `instant` in an IANA time zone, as YYYY-MM-DD. */
  function dayIn(instant, timeZone) {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: timeZone, year: "numeric", month: "2-digit", day: "2-digit",
    }).formatToParts(new Date(instant));
    const get = (type) => parts.find((p) => p.type === type).value;
    return get("year") + "-" + get("month") + "-" + get("day");
  }

  // Times of day as the page's language writes them: 24-hour in every language shipped (English is
  // British), the locale's own clock in any other. The API's "HH:MM" are the venue's clock already.
  const CLOCK = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });

  /** "09:30" (the API's venue-local time of day) as the page's language writes it. */
  function clock(hhmm) {
    const [h, m] = String(hhmm || "").split(":").map(Number);
    return Number.isNaN(h) || Number.isNaN(m) ? "" : CLOCK.format(Date.UTC(2000, 0, 1, h, m));
  }

  /** "09:30" from an ISO timestamp with offset, as the venue's clock showed it. */
  function clockTime(instant) {
    const match = /T(\d\d:\d\d)/.exec(instant || "");
    return match ? clock(match[1]) : "";
  }

  function timeRange(start, end) {
    return clock(start) + "–" + clock(end);
  }

  // Days beside today ("today", "tomorrow", "yesterday") as CLDR says them in the page's language, as the
  // door's verdicts and the e-mails do. Today is the VENUE's (its time zone, by the server's clock), never
  // the browser's own day: a visitor abroad or a device set to another zone reads the venue's calendar.
  const RELATIVE = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const NEAR = 1; // days either side of today that have a word of their own

  /** The venue's today, YYYY-MM-DD, for a page that knows the venue's IANA time zone. */
  function venueToday(timeZone) {
    return dayIn(serverNow(), timeZone);
  }

  /**
   * A day as a person reads it: "tomorrow, Tuesday 1 December 2026" near the venue's `today`, else the
   * date alone (also without `today`). options.opening: to open a line or heading ("Tomorrow, …");
   * options.short: the short date ("Tue 1 Dec"); options.brief: for a table's cell, the word alone near
   * `today` ("yesterday"), else the short date.
   */
  function dayText(iso, today, options) {
    const opts = options || {};
    const date = opts.short || opts.brief ? shortDate(iso) : longDate(iso);
    const offset = today ? Math.round((parseDay(iso) - parseDay(today)) / 86400000) : NaN;
    let text = date;
    if (Math.abs(offset) <= NEAR) {
      const relative = RELATIVE.format(offset, "day");
      // Translators: a day named beside today and by its date, e.g. "tomorrow, Tuesday 1 December 2026".
      text = opts.brief ? relative : _("%(relative)s, %(date)s", { relative: relative, date: date });
    }
    return opts.opening ? text.charAt(0).toLocaleUpperCase(locale) + text.slice(1) : text;
  }

  /**
   * A visit's day and hours in one phrase: "Thursday 20 November 2025, 10:00–11:00", with "tomorrow, …"
   * in front near the venue's `today`; `options` as for dayText.
   */
  function when(day, start, end, today, options) {
    // Translators: a visit's date (weekday, day, month, year) and its hours, e.g. "Thursday 20 November 2025, 10:00–11:00".
    return _("%(date)s, %(hours)s", { date: dayText(day, today, options), hours: timeRange(start, end) });
  }

  /** A time slot's free places: "150/200 available". */
  function available(slot) {
    return ngettext("%(num)d/%(total)d available", "%(num)d/%(total)d available", slot.available_count, {
      total: slot.total_capacity,
    });
  }

  /**
   * A translated sentence with elements in it, as nodes to append: withElements(_("Sent to %(address)s."),
   * {address: el("strong", {}, …)}), so that the words around the element stay one message.
   */
  function withElements(text, nodes) {
    const parts = [];
    let last = 0;
    text.replace(/%\((\w+)\)s/g, (whole, name, offset) => {
      parts.push(text.slice(last, offset), name in nodes ? nodes[name] : whole);
      last = offset + whole.length;
      return whole;
    });
    parts.push(text.slice(last));
    return parts.filter((part) => part !== "");
  }

  /** Ticket codes are read aloud and typed in groups of four. */
  function formatCode(code) {
    const clean = normaliseCode(code);
    return clean.replace(/(.{4})(?=.)/g, "$1-");
  }

  function normaliseCode(raw) {
    return String(raw || "").replace(/[\s\-_.]+/g, "").toUpperCase();
  }

  /** A random id; crypto.randomUUID needs a secure context, getRandomValues does not. */
  function randomId() {
    if (window.crypto && typeof crypto.randomUUID === "function") {
      try {
        return crypto.randomUUID();
      } catch (_insecure) {
        /* fall through */
      }
    }
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // The server's clock, as of this page's load: devices at a door may have a wrong clock, and a
  // demo or test server may run on a pinned one.
  // A page the offline scanner kept carries the time it was served: the same stamp again means that
  // copy, so the offset measured when it was fresh still holds.
  const CLOCK_KEY = "admit.clock";
  const skew = (function () {
    const served = document.body.dataset.serverNow || "";
    const stamp = Date.parse(served);
    if (Number.isNaN(stamp)) return 0;
    try {
      const seen = JSON.parse(localStorage.getItem(CLOCK_KEY) || "null");
      if (seen && seen.served === served && typeof seen.skew === "number") return seen.skew;
      localStorage.setItem(CLOCK_KEY, JSON.stringify({ served: served, skew: stamp - Date.now() }));
    } catch (_storage) {
      /* no storage: this page's own stamp */
    }
    return stamp - Date.now();
  })();

  function serverNow() {
    return new Date(Date.now() + skew);
  }

  // ---- Staff login, kept per tab in sessionStorage ----
  const STAFF_KEY = "admit.staff";
  const RANK = { operator: 1, manager: 2, admin: 3 };
  // Translators: the staff roles, shown beside a staff member's name and in "This page needs the … role".
  const ROLE_NAMES = { operator: _("operator"), manager: _("manager"), admin: _("admin") };

  function roleName(role) {
    return ROLE_NAMES[role] || role;
  }
  // Why a login ended, by the API's code; read as "Your login has ended (…)".
  const ENDED = {
    TOKEN_EXPIRED: _("it expired: logins last a working day"),
    INVALID_TOKEN: _("it is no longer valid"),
    NOT_AUTHENTICATED: _("you are not logged in"),
  };

  function loginEnded(reason) {
    return _("Your login has ended (%(reason)s). Log in again to continue.", { reason: reason });
  }

  /**
   * Drive the shared login form. `onReady(session)` runs once a staff member with at least
   * `minRole` is logged in; a 401 from the API or the token's expiry brings the form back.
   */
  function staffPage(config) {
    const loginSection = $("login");
    const form = $("login-form");
    const message = $("login-message");
    const secretLabel = $("login-secret-label");
    const secret = $("login-secret");
    const who = $("who");
    const logout = $("logout");
    let expiryTimer = null;
    let current = null;

    form.querySelectorAll("input[name=secret_kind]").forEach((radio) => {
      radio.addEventListener("change", () => {
        const pin = form.elements.secret_kind.value === "pin";
        secretLabel.textContent = pin ? "PIN" : _("Password");
        secret.setAttribute("inputmode", pin ? "numeric" : "text");
        secret.setAttribute("autocomplete", pin ? "one-time-code" : "current-password");
        secret.value = "";
      });
    });

    function read() {
      try {
        const stored = JSON.parse(sessionStorage.getItem(STAFF_KEY) || "null");
        if (stored && stored.token && new Date(stored.expires_at) > serverNow()) return stored;
      } catch (_broken) {
        /* fall through */
      }
      return null;
    }

    function showLogin(text) {
      current = null;
      clearTimeout(expiryTimer);
      sessionStorage.removeItem(STAFF_KEY);
      if (config.onLogout) config.onLogout();
      show(who, false);
      show(logout, false);
      show(loginSection, true);
      setMessage(message, text || "", text ? "info" : null);
      secret.value = "";
      $("login-username").focus();
    }

    function start(stored) {
      current = stored;
      show(loginSection, false);
      who.textContent = stored.operator.name + " · " + roleName(stored.operator.role);
      show(who, true);
      show(logout, true);
      clearTimeout(expiryTimer);
      const left = new Date(stored.expires_at) - serverNow();
      // Timers cannot wait longer than about 24 days; a token lives for hours.
      expiryTimer = setTimeout(() => {
        showLogin(loginEnded(ENDED.TOKEN_EXPIRED));
      }, Math.min(Math.max(left, 0), 2147483000));
      config.onReady(session);
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      config.onGesture && config.onGesture();
      const username = form.elements.username.value.trim();
      const kind = form.elements.secret_kind.value;
      if (!username || !secret.value) {
        setMessage(message, kind === "pin" ? _("Enter your username and your PIN.") : _("Enter your username and your password."));
        (username ? secret : form.elements.username).focus();
        return;
      }
      const body = { username: username };
      body[kind] = secret.value;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const answer = await api("POST", "/api/operator/login", { body: body });
        if (RANK[answer.operator.role] < RANK[config.minRole]) {
          setMessage(message, _("This page needs the %(needed)s role; you are logged in as %(role)s.", {
            needed: roleName(config.minRole), role: roleName(answer.operator.role),
          }));
          return;
        }
        const stored = { token: answer.access_token, expires_at: answer.expires_at, operator: answer.operator };
        sessionStorage.setItem(STAFF_KEY, JSON.stringify(stored));
        setMessage(message, "");
        start(stored);
      } catch (error) {
        setMessage(message, error.message);
        secret.focus();
      } finally {
        button.disabled = false;
      }
    });

    logout.addEventListener("click", () => {
      const ending = current;
      showLogin(_("You are logged out."));
      // The server refuses this token from now on; if it cannot be reached, the token ends at its expiry.
      if (ending) api("POST", "/api/operator/logout", { token: ending.token }).catch(() => {});
    });

    const session = {
      get operator() {
        return current && current.operator;
      },
      /** The bearer token, for a call that `call` cannot make (a stream read as it arrives). */
      get token() {
        return current && current.token;
      },
      /** Call the API as this staff member; a 401 ends the session and shows the login again. */
      async call(method, path, options) {
        if (!current) throw new ApiError(401, "NOT_AUTHENTICATED", _("Log in first."));
        try {
          return await api(method, path, Object.assign({}, options, { token: current.token }));
        } catch (error) {
          if (error.status === 401) {
            showLogin(loginEnded(ENDED[error.code] || error.message));
            error.handled = true;
          }
          throw error;
        }
      },
      logout: showLogin,
    };

    const stored = read();
    if (stored && RANK[stored.operator.role] >= RANK[config.minRole]) start(stored);
    else showLogin("");
    return session;
  }

  /** A file from the API saved by the browser: the token goes in a header, so a plain link would not do. */
  async function download(session, path, query, filename) {
    const response = await session.call("GET", path, { query: query, raw: true });
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  /**
   * Show the venue's identity on a visitor's page: its logo and name in the header, in its brand colour
   * with the text colour the server chose for contrast, and its address and opening hours below.
   * Answers the venue (or null: the page works without it).
   */
  async function showVenue(orq) {
    let venue;
    try {
      venue = await api("GET", "/api/venues/" + encodeURIComponent(orq));
    } catch (error) {
      return null;
    }
    const header = document.querySelector(".site-header");
    if (venue.brand_colour) {
      header.style.setProperty("--brand", venue.brand_colour);
      header.style.setProperty("--brand-ink", venue.brand_text_colour);
    }
    const logo = $("venue-logo");
    if (logo && venue.logo_url) logo.src = venue.logo_url;
    if (logo) show(logo, Boolean(venue.logo_url));
    const brandGlyph = header.querySelector(".brand");
    if (brandGlyph) show(brandGlyph, !venue.logo_url);
    const name = $("venue-name");
    if (name) {
      name.textContent = venue.name;
      show(name, true);
    }
    if ($("venue-info")) {
      $("venue-info-name").textContent = venue.name;
      $("venue-info-address").textContent = venue.address || "";
      show($("venue-info-address"), Boolean(venue.address));
      $("venue-info-hours").textContent = venue.opening_hours || "";
      show($("venue-info-hours-block"), Boolean(venue.opening_hours));
      show($("venue-info"), Boolean(venue.address || venue.opening_hours));
    }
    document.title = document.title.replace(/Admit$/, venue.name);
    return venue;
  }

  return {
    lang, locale, _, ngettext, showVenue,
    ApiError, api, el, $, show, setMessage, focus, parseDay, isoDay, addDays, longDate, shortDate, dayIn,
    venueToday, dayText, clock, clockTime, timeRange, when, available, withElements, formatCode, normaliseCode, randomId, serverNow, staffPage, download,
  };
})();
