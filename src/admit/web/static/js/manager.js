/* The manager's dashboard: the day's counts, slot utilisation, arrivals per slot, scan history; live. */
"use strict";

(function (A) {
  const $ = A.$;
  const REFRESH_MS = 10000;
  const { resultName, resultMeaning, reasonWords, resultWith, count } = window.AdmitStaff;
  const CLOCK = { hour: "2-digit", minute: "2-digit", second: "2-digit" }; // the language's clock, as A.clock
  const SVG = "http://www.w3.org/2000/svg";
  let session = null;
  let timer = null;
  let day = "";
  let zone = ""; // the venue's time zone, from its counts: "yesterday" and "tomorrow" are the venue's
  let history = { cursor: null, pages: 0, operators: new Map() };

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([key, value]) => node.setAttribute(key, value));
    for (let i = 2; i < arguments.length; i += 1) node.append(arguments[i]);
    return node;
  }

  function percent(part, whole) {
    return whole > 0 ? Math.round((100 * part) / whole) : 0;
  }

  // ---- Counts ----
  function renderCounts(stats) {
    const counts = $("counts");
    // Each count as a big number over its words; the words follow the number's plural.
    const tile = (name, n, words, kind) => A.el("li", { class: kind || "", "data-count": name },
      A.el("span", { class: "n" }, count(n)), words);
    counts.replaceChildren(
      tile("validated", stats.validated, A.ngettext("scan", "scans", stats.validated)),
      tile("verified", stats.verified, A._("verified (entered)")),
      ...["GREEN", "YELLOW", "RED"].map((result) => tile(result, stats.by_result[result], resultWith(result, resultMeaning(result)), result)),
      tile("conflicts", stats.conflicts, A.ngettext("double entry", "double entries", stats.conflicts || 0),
        stats.conflicts ? "CONFLICT" : ""));
    const reasons = $("reasons");
    const entries = Object.entries(stats.by_reason || {}).sort((a, b) => b[1] - a[1]);
    reasons.replaceChildren(...(entries.length
      ? entries.map(([code, n]) => A.el("li", { "data-reason": code },
        A._("%(reason)s: %(count)s", { reason: reasonWords(code), count: count(n) })))
      : [A.el("li", {}, A._("No scans yet."))]));
  }

  // ---- Double entries: each second entry on a ticket, with the first it collided with ----
  function sideText(scan) {
    const values = { time: A.clockTime(scan.scanned_at), name: scan.operator.name, device: scan.device_id };
    if (!scan.device_id) {
      return scan.offline ? A._("%(time)s by %(name)s on an unnamed device (offline)", values)
        : A._("%(time)s by %(name)s on an unnamed device", values);
    }
    return scan.offline ? A._("%(time)s by %(name)s on %(device)s (offline)", values)
      : A._("%(time)s by %(name)s on %(device)s", values);
  }

  async function loadConflicts() {
    const answer = await session.call("GET", "/api/operators/scan-history",
      { query: { from: day, to: day, result: "CONFLICT", limit: 50 } });
    const list = $("conflicts");
    if (!answer.events.length) {
      list.replaceChildren(A.el("li", { class: "muted" }, A._("None on this day.")));
      return;
    }
    list.replaceChildren(...answer.events.map((event) => {
      const first = event.conflict && event.conflict.first;
      const again = sideText(event);
      return A.el("li", { "data-conflict": String(event.id) },
        A.el("strong", {}, A._("Ticket …%(suffix)s", { suffix: event.ticket_code_suffix })), " ",
        first ? A._("entered at %(first)s, and again at %(again)s.", { first: sideText(first), again: again })
          : A._("entered at an earlier scan, and again at %(again)s.", { again: again }));
    }));
  }

  // ---- Utilisation bars (booked and verified against capacity) ----
  function renderUtilisation(stats) {
    const list = $("utilisation");
    if (!stats.slots.length) {
      list.replaceChildren(A.el("li", {}, A._("No slots on this day.")));
      return;
    }
    list.replaceChildren(...stats.slots.map((slot) => {
      const booked = percent(slot.booked_count, slot.total_capacity);
      const verified = percent(slot.verified_count, slot.total_capacity);
      const bar = A.el("div", { class: "bar", "aria-hidden": "true" },
        A.el("span", { class: "booked", style: { width: booked + "%" } }),
        A.el("span", { class: "verified", style: { width: verified + "%" } }));
      const values = {
        booked: count(slot.booked_count), capacity: count(slot.total_capacity), share: booked + " %",
        verified: count(slot.verified_count),
      };
      const text = slot.status === "CLOSED"
        ? A._("%(booked)s/%(capacity)s booked (%(share)s) · %(verified)s verified · closed", values)
        : A._("%(booked)s/%(capacity)s booked (%(share)s) · %(verified)s verified", values);
      // Known once the slot's entry window has closed: null until then.
      const noShows = slot.no_shows === null || slot.no_shows === undefined ? null
        : A.el("span", { class: "no-shows", "data-no-shows": String(slot.no_shows) },
          A.ngettext("%(num)d no-show", "%(num)d no-shows", slot.no_shows));
      return A.el("li", { "data-slot-id": String(slot.slot_id) },
        A.el("span", { class: "slot-time" }, A.timeRange(slot.start_time, slot.end_time)),
        bar,
        A.el("span", { class: "text" }, text, ...(noShows ? [" · ", noShows] : [])));
    }));
  }

  // ---- Arrivals per slot: an inline SVG bar chart ----
  function renderChart(stats) {
    const chart = $("chart");
    const slots = stats.slots;
    if (!slots.length) {
      chart.replaceChildren(A.el("p", { class: "muted" }, A._("No slots on this day.")));
      return;
    }
    // Drawn at the size it is shown, so that its labels stay readable on a phone.
    const width = Math.max(300, Math.min(900, chart.clientWidth || 640));
    const height = width < 500 ? 200 : 240;
    const pad = { top: 24, right: 12, bottom: 40, left: 36 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const top = Math.max(1, ...slots.map((s) => Math.max(s.booked_count, s.verified_count)));
    const step = plotW / slots.length;
    const barW = Math.max(4, Math.min(48, step * 0.6));
    const y = (value) => pad.top + plotH - (plotH * value) / top;
    const summary = slots.map((s) => A._("%(time)s: %(arrived)s of %(booked)s",
      { time: A.clock(s.start_time), arrived: count(s.verified_count), booked: count(s.booked_count) })).join("; ");
    const root = svg("svg", {
      viewBox: "0 0 " + width + " " + height, role: "img", "aria-labelledby": ["chart-svg-title", "chart-svg-desc"].join(" "),
    }, svg("title", { id: "chart-svg-title" }, A._("Arrivals (verified tickets) per slot, out of the booked places")),
    svg("desc", { id: "chart-svg-desc" }, summary));
    root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), stroke: "#5d6570" }));
    [0, Math.ceil(top / 2), top].forEach((tick) => {
      root.append(svg("text", { x: pad.left - 6, y: y(tick) + 4, "text-anchor": "end", "font-size": "12", fill: "#4a5360" }, count(tick)));
      root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), stroke: "#e1e5ea" }));
    });
    slots.forEach((slot, i) => {
      const x = pad.left + step * i + (step - barW) / 2;
      // The booked places as an outline, the arrivals filled in.
      root.append(svg("rect", {
        x: x, y: y(slot.booked_count), width: barW, height: y(0) - y(slot.booked_count),
        fill: "none", stroke: "#12355b", "stroke-width": "2", "stroke-dasharray": "4 3",
      }));
      root.append(svg("rect", {
        x: x, y: y(slot.verified_count), width: barW, height: y(0) - y(slot.verified_count), fill: "#0b7a35",
        "data-slot-id": String(slot.slot_id), "data-arrivals": String(slot.verified_count),
      }));
      root.append(svg("text", {
        x: x + barW / 2, y: y(slot.verified_count) - 5, "text-anchor": "middle", "font-size": "12", "font-weight": "700", fill: "#1b1f24",
      }, count(slot.verified_count)));
      if (step >= 44 || i % Math.ceil(44 / step) === 0) {
        root.append(svg("text", { x: x + barW / 2, y: height - pad.bottom + 16, "text-anchor": "middle", "font-size": "12", fill: "#1b1f24" }, A.clock(slot.start_time)));
      }
    });
    root.append(svg("text", { x: 4, y: height - 6, "font-size": "12", fill: "#4a5360" },
      A._("Filled: arrived (verified) · dashed: booked")));
    chart.replaceChildren(root);
  }

  // ---- Scan history, newest first, with filters and cursor paging ----
  function historyQuery(cursor) {
    const form = $("history-form");
    return {
      from: form.elements.from.value || day,
      to: form.elements.to.value || day,
      result: form.elements.result.value,
      operator_id: form.elements.operator_id.value,
      ticket: form.elements.ticket.value.trim(),
      limit: 25,
      cursor: cursor,
    };
  }

  async function download(path, query, filename) {
    try {
      await A.download(session, path, query, filename);
      A.setMessage($("dash-message"), "");
    } catch (error) {
      if (!error.handled) A.setMessage($("dash-message"), A._("Could not download: %(reason)s", { reason: error.message }));
    }
  }

  /** A day in the table: "yesterday", "tomorrow" beside the venue's today, else "Mon 30 Nov". */
  function cellDay(iso) {
    return A.dayText(iso, zone ? A.venueToday(zone) : null, { brief: true });
  }

  function historyRow(event) {
    history.operators.set(String(event.operator.id), event.operator.name);
    const r = event.reservation;
    const scanDay = event.scanned_at.slice(0, 10); // the venue's day: the time carries the venue's offset
    return A.el("tr", { "data-result": event.result, "data-code": event.code },
      // A scan of the day the dashboard shows needs its time only.
      A.el("td", {}, A.el("time", { datetime: event.scanned_at }, scanDay === day ? A.clockTime(event.scanned_at)
        : cellDay(scanDay) + " " + A.clockTime(event.scanned_at))),
      A.el("td", {}, A.el("span", { class: "result-chip " + event.result }, resultName(event.result))),
      A.el("td", {}, [reasonWords(event.code)].concat(event.verified ? [A._("verified")] : [],
        event.conflict ? [A._("double entry")] : [], event.offline ? [A._("offline")] : []).join(" · ")),
      A.el("td", {}, event.ticket_code_suffix ? "…" + event.ticket_code_suffix : "—"),
      A.el("td", {}, r ? cellDay(r.date) + (r.start_time ? " " + A.clock(r.start_time) : "") : "—"),
      A.el("td", {}, event.operator.name, A.el("span", { class: "muted" }, " #" + event.operator.id)),
      A.el("td", { title: event.device_id || "" }, event.device_id ? event.device_id.slice(0, 14) : "—"));
  }

  function renderOperators() {
    const select = $("h-operator");
    const chosen = select.value;
    const options = [A.el("option", { value: "" }, A._("Anyone"))];
    Array.from(history.operators.entries()).sort((a, b) => a[1].localeCompare(b[1])).forEach(([id, name]) => {
      options.push(A.el("option", { value: id }, name));
    });
    select.replaceChildren(...options);
    select.value = chosen;
  }

  async function loadHistory(more) {
    const answer = await session.call("GET", "/api/operators/scan-history", { query: historyQuery(more ? history.cursor : null) });
    const rows = answer.events.map(historyRow);
    if (more) {
      $("history").append(...rows);
      history.pages += 1;
    } else {
      $("history").replaceChildren(...rows);
      history.pages = 1;
    }
    history.cursor = answer.next_cursor;
    A.show($("history-more"), Boolean(answer.next_cursor));
    A.show($("history-empty"), $("history").children.length === 0);
    renderOperators();
  }

  // ---- Refresh: pushed by the server as it changes (server-sent events), polled where that fails ----
  const LIVE_FIRST_EVENT_MS = 5000; // a proxy that buffers the stream delivers nothing: poll instead
  const LIVE_RETRY_MS = 30000;
  const LISTS_EVERY_MS = 2000; // the history and double entries follow the counts at most this often
  let live = null; // {abort: AbortController} while a stream is open
  let liveRetry = null;
  let listsTimer = null;
  let listsDue = 0;

  function showStats(stats) {
    if (!day) {
      day = stats.date;
      $("day").value = day;
    }
    zone = stats.timezone;
    $("dash-title").textContent = A._("At the door: %(day)s", { day: A.dayText(stats.date, A.venueToday(stats.timezone)) });
    renderCounts(stats);
    renderUtilisation(stats);
    renderChart(stats);
    A.setMessage($("dash-message"), "");
    const at = A.serverNow().toLocaleTimeString(A.locale, Object.assign({ timeZone: stats.timezone }, CLOCK));
    $("updated").textContent = live ? A._("Updated at %(time)s, live.", { time: at })
      : A._("Updated at %(time)s, every 10 seconds.", { time: at });
  }

  async function loadLists() {
    listsDue = Date.now() + LISTS_EVERY_MS;
    // Paged further back by hand: leave those rows alone until the filter is applied again.
    await Promise.all([loadConflicts(), history.pages <= 1 ? loadHistory(false) : null]);
  }

  function listsSoon() {
    if (listsTimer) return;
    listsTimer = setTimeout(() => {
      listsTimer = null;
      loadLists().catch((error) => {
        if (!error.handled) A.setMessage($("dash-message"), A._("Could not refresh: %(reason)s", { reason: error.message }));
      });
    }, Math.max(0, listsDue - Date.now()));
  }

  async function refresh() {
    clearTimeout(timer);
    if (!session.operator) return;
    try {
      const stats = await session.call("GET", "/api/operator/stats", { query: { date: day } });
      showStats(stats);
      await loadLists();
    } catch (error) {
      if (error.handled) return;
      A.setMessage($("dash-message"), A._("Could not refresh: %(reason)s", { reason: error.message }));
    }
    if (!live) timer = setTimeout(refresh, REFRESH_MS);
  }

  function stopLive() {
    clearTimeout(liveRetry);
    if (live) live.abort.abort();
    live = null;
  }

  /** Read the stats stream: each `stats` event is shown as it comes; any failure falls back to polling. */
  async function startLive() {
    stopLive();
    if (!session.operator || !window.ReadableStream || !window.TextDecoder) return;
    const mine = { abort: new AbortController() };
    live = mine;
    let received = false;
    const watchdog = setTimeout(() => mine.abort.abort(), LIVE_FIRST_EVENT_MS);
    let ended = null;
    try {
      const response = await fetch("/api/operator/stats/stream" + (day ? "?date=" + encodeURIComponent(day) : ""), {
        headers: { Authorization: "Bearer " + session.token, Accept: "text/event-stream" },
        signal: mine.abort.signal,
        cache: "no-store",
      });
      if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        buffer += decoder.decode(chunk.value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let name = "message";
          let data = "";
          block.split("\n").forEach((line) => {
            if (line.startsWith("event: ")) name = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          });
          if (name === "stats" && live === mine) {
            if (!received) clearTimeout(timer); // pushed from now on: the poll stops
            received = true;
            clearTimeout(watchdog);
            showStats(JSON.parse(data));
            listsSoon();
          } else if (name === "end") {
            ended = JSON.parse(data).reason;
          }
        }
      }
    } catch (_failed) {
      /* the stream could not be read (a proxy, the network, a refusal): polling carries on */
    }
    clearTimeout(watchdog);
    if (live !== mine) return; // stopped or replaced on purpose
    live = null;
    if (ended === "RECONNECT") { // the server closes each stream after a while: open the next one
      startLive();
      return;
    }
    clearTimeout(timer);
    // The login ended (logged out, disabled, expired): the next call shows the login and says why. A
    // stream that worked and stopped may have missed a change; one that never worked leaves the poll as it was.
    if (ended || received) refresh();
    else timer = setTimeout(refresh, REFRESH_MS);
    if (!ended) liveRetry = setTimeout(startLive, LIVE_RETRY_MS);
  }

  $("day-form").addEventListener("submit", (event) => {
    event.preventDefault();
    day = $("day").value;
    history.pages = 0;
    refresh().then(startLive);
  });
  $("history-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await loadHistory(false);
    } catch (error) {
      // A filter the server refuses (a ticket of under 4 characters) is named with the reason.
      const fields = Object.entries((error.details && error.details.fields) || {}).map(([name, why]) => name + ": " + why);
      if (!error.handled) A.setMessage($("dash-message"), error.message + (fields.length ? " (" + fields.join("; ") + ")" : ""));
    }
  });
  $("history-csv").addEventListener("click", () => {
    const query = historyQuery(null);
    delete query.limit;
    download("/api/operators/scan-history.csv", query, "scan-history-" + query.from + "-to-" + query.to + ".csv");
  });
  $("reservations-csv").addEventListener("click", () => {
    download("/api/reservations.csv", { date: day }, "reservations-" + day + ".csv");
  });
  $("history-more").addEventListener("click", async () => {
    try {
      await loadHistory(true);
    } catch (error) {
      if (!error.handled) A.setMessage($("dash-message"), error.message);
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && session.operator && !live) refresh();
  });

  session = A.staffPage({
    minRole: "manager",
    onReady: () => {
      A.show($("dashboard"), true);
      // staffPage calls this before returning the session: wait a turn for it.
      setTimeout(() => refresh().then(startLive), 0);
    },
    onLogout: () => {
      clearTimeout(timer);
      stopLive();
      A.show($("dashboard"), false);
    },
  });
})(window.Admit);
