/* The manager's trends: the venue's rates and charts over a range of days, each chart with its table. */
"use strict";

(function (A) {
  const $ = A.$;
  const SVG = "http://www.w3.org/2000/svg";
  const { resultName, resultWith, reasonWords, count } = window.AdmitStaff;
  // Weekdays as the page's language names them, Monday (the API's 0) first: 1 January 2024 was a Monday.
  const weekdayNames = (style) => {
    const format = new Intl.DateTimeFormat(A.locale, { weekday: style, timeZone: "UTC" });
    return [0, 1, 2, 3, 4, 5, 6].map((day) => format.format(new Date(Date.UTC(2024, 0, 1 + day))));
  };
  const WEEKDAYS = weekdayNames("short");
  const WEEKDAYS_LONG = weekdayNames("long");
  const DAY_MONTH = new Intl.DateTimeFormat(A.locale, { day: "numeric", month: "numeric", timeZone: "UTC" });
  const SHARE = new Intl.NumberFormat(A.locale, { style: "percent" });
  const RESULT_COLOURS = { GREEN: "#0b7a35", YELLOW: "#a87800", RED: "#b42318" };
  const INK = "#1b1f24";
  const MUTED = "#4a5360";
  let session = null;
  let latest = 0;

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([key, value]) => node.setAttribute(key, value));
    for (let i = 2; i < arguments.length; i += 1) node.append(arguments[i]);
    return node;
  }

  function percent(rate) {
    return rate === null || rate === undefined ? "—" : Math.round(rate * 100) + " %";
  }

  function hourLabel(hour) {
    return String(hour).padStart(2, "0") + ":00";
  }

  /**
   * A chart in its figure: the picture for the eye (an SVG with a title and a one-line summary for a
   * screen reader), and the same figures as a table under "Show the figures".
   */
  function figure(id, title, summary, drawing, headers, rows) {
    const node = $(id);
    if (!rows.length) {
      node.replaceChildren(A.el("p", { class: "muted" }, A._("Nothing in this range.")));
      return;
    }
    drawing.setAttribute("role", "img");
    drawing.setAttribute("aria-labelledby", id + "-svg-title " + id + "-svg-desc");
    drawing.prepend(svg("title", { id: id + "-svg-title" }, title), svg("desc", { id: id + "-svg-desc" }, summary));
    const table = A.el("table", { class: "figures" },
      A.el("caption", {}, title),
      A.el("thead", {}, A.el("tr", {}, ...headers.map((h) => A.el("th", { scope: "col" }, h)))),
      A.el("tbody", {}, ...rows.map((row) => A.el("tr", {},
        ...row.map((cell) => A.el("td", {}, typeof cell === "number" ? count(cell) : String(cell)))))));
    node.replaceChildren(drawing,
      A.el("figcaption", {}, A.el("details", {}, A.el("summary", {}, A._("Show the figures")),
        A.el("div", { class: "table-wrap" }, table))));
  }

  /** Vertical bars: one per item, its height `value(item)` out of `top`, labelled below. */
  function bars(items, value, label, top, colour) {
    const width = Math.max(320, Math.min(900, $("use").clientWidth || 640));
    const height = 220;
    const pad = { top: 16, right: 8, bottom: 36, left: 40 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const step = plotW / Math.max(1, items.length);
    const barW = Math.max(2, Math.min(40, step * 0.7));
    const y = (v) => pad.top + plotH - (plotH * v) / (top || 1);
    const root = svg("svg", { viewBox: "0 0 " + width + " " + height });
    [0, top / 2, top].forEach((tick) => {
      root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), stroke: "#e1e5ea" }));
      root.append(svg("text", { x: pad.left - 6, y: y(tick) + 4, "text-anchor": "end", "font-size": "12", fill: MUTED },
        top === 1 ? SHARE.format(tick) : count(Math.round(tick))));
    });
    const every = Math.ceil(items.length / Math.max(1, Math.floor(plotW / 48)));
    items.forEach((item, i) => {
      const x = pad.left + step * i + (step - barW) / 2;
      const v = value(item);
      root.append(svg("rect", { x: x, y: y(v), width: barW, height: y(0) - y(v), fill: colour(item), "data-bar": label(item) }));
      if (i % every === 0) {
        root.append(svg("text", { x: x + barW / 2, y: height - pad.bottom + 16, "text-anchor": "middle", "font-size": "11", fill: MUTED },
          label(item)));
      }
    });
    return root;
  }

  /** Horizontal bars with their labels and counts, for a few named quantities. */
  function rows(items, colour) {
    const width = Math.max(320, Math.min(900, $("funnel").clientWidth || 640));
    const line = 30;
    // The labels' column as wide as the longest label needs (about 7 px a character at this size), in
    // whatever language they are, up to half the picture.
    const longest = Math.max(0, ...items.map((item) => item.label.length));
    const labelW = Math.min(width * 0.5, Math.max(96, longest * 7 + 16));
    const top = Math.max(1, ...items.map((item) => item.value));
    const root = svg("svg", { viewBox: "0 0 " + width + " " + (items.length * line + 8) });
    items.forEach((item, i) => {
      const y = 4 + i * line;
      const w = ((width - labelW - 60) * item.value) / top;
      root.append(svg("text", { x: labelW - 8, y: y + 18, "text-anchor": "end", "font-size": "13", fill: INK }, item.label));
      root.append(svg("rect", { x: labelW, y: y + 4, width: Math.max(1, w), height: line - 10, fill: colour(item), "data-row": item.label }));
      root.append(svg("text", { x: labelW + w + 6, y: y + 18, "font-size": "13", "font-weight": "700", fill: INK }, count(item.value)));
    });
    return root;
  }

  function renderRates(found) {
    const tiles = [
      ["activation", A._("pre-made tickets activated within 30 days"), found.activation_rate],
      ["reservation", A._("activated tickets booked within 7 days"), found.reservation_rate],
      ["no-show", A._("closed visits never used"), found.no_show_rate],
      ["conversion", A._("bookings per ticket check on the visitor page"), found.conversion],
    ];
    $("rates").replaceChildren(...tiles.map(([name, text, ratio]) => A.el("li", { "data-rate": name },
      A.el("span", { class: "n" }, percent(ratio.rate)),
      A._("%(what)s (%(part)s of %(whole)s)", { what: text, part: count(ratio.part), whole: count(ratio.whole) }))));
  }

  function renderUse(days) {
    const summary = days.map((d) => A._("%(day)s: %(share)s booked", { day: A.shortDate(d.date), share: percent(d.utilisation) }))
      .join("; ");
    figure("use", A._("Places booked out of capacity, by day"), summary,
      bars(days, (d) => d.utilisation || 0, (d) => DAY_MONTH.format(A.parseDay(d.date)), 1, () => "#12355b"),
      [A._("Day"), A._("Booked"), A._("Capacity"), A._("Utilisation")],
      days.map((d) => [A.shortDate(d.date), d.booked, d.capacity, percent(d.utilisation)]));
  }

  function renderHeat(cells) {
    const hours = [...new Set(cells.map((c) => c.hour))].sort((a, b) => a - b);
    const width = Math.max(320, Math.min(900, $("heat").clientWidth || 640));
    const left = 44;
    const cellW = (width - left - 8) / Math.max(1, hours.length);
    const cellH = 28;
    const root = svg("svg", { viewBox: "0 0 " + width + " " + (cellH * 7 + 24) });
    WEEKDAYS.forEach((name, day) => {
      root.append(svg("text", { x: left - 6, y: 20 + day * cellH + 18, "text-anchor": "end", "font-size": "12", fill: MUTED }, name));
    });
    hours.forEach((hour, i) => {
      root.append(svg("text", { x: left + cellW * i + cellW / 2, y: 14, "text-anchor": "middle", "font-size": "11", fill: MUTED },
        String(hour).padStart(2, "0")));
    });
    cells.forEach((cell) => {
      const use = cell.utilisation || 0;
      // Darker is fuller; the lightest step stays visible against the card.
      root.append(svg("rect", {
        x: left + cellW * hours.indexOf(cell.hour) + 1, y: 20 + cell.weekday * cellH + 1, width: cellW - 2, height: cellH - 2,
        fill: "#12355b", "fill-opacity": String(0.08 + 0.92 * use), "data-cell": cell.weekday + "-" + cell.hour,
      }));
    });
    const busiest = cells.slice().sort((a, b) => (b.utilisation || 0) - (a.utilisation || 0))[0];
    const summary = busiest ? A._("Fullest: %(weekday)s at %(hour)s, %(share)s booked", {
      weekday: WEEKDAYS_LONG[busiest.weekday], hour: hourLabel(busiest.hour), share: percent(busiest.utilisation),
    }) : "";
    figure("heat", A._("Utilisation by weekday and hour (darker is fuller)"), summary, root,
      [A._("Weekday"), A._("Hour"), A._("Booked"), A._("Capacity"), A._("Utilisation")],
      cells.map((c) => [WEEKDAYS[c.weekday], hourLabel(c.hour), c.booked, c.capacity, percent(c.utilisation)]));
  }

  function renderNoShows(starts) {
    const summary = starts.map((s) => A._("%(time)s: %(share)s never used", { time: A.clock(s.start_time), share: percent(s.no_shows.rate) }))
      .join("; ");
    figure("noshows", A._("Share of closed visits never used, by slot time"), summary,
      bars(starts, (s) => s.no_shows.rate || 0, (s) => A.clock(s.start_time), 1, () => "#b42318"),
      [A._("Slot time"), A._("No-shows"), A._("Closed visits"), A._("Share")],
      starts.map((s) => [A.clock(s.start_time), s.no_shows.part, s.no_shows.whole, percent(s.no_shows.rate)]));
  }

  function renderFunnel(funnel) {
    const steps = [
      { label: A._("Tickets issued"), value: funnel.issued },
      { label: A._("Activated"), value: funnel.activated },
      { label: A._("Booked"), value: funnel.reserved },
      { label: A._("Admitted"), value: funnel.admitted },
    ];
    const summary = steps.map((s) => A._("%(label)s: %(count)s", { label: s.label, count: count(s.value) })).join("; ");
    figure("funnel", A._("From ticket to visit, in this range"), summary, rows(steps, () => "#12355b"),
      [A._("Step"), A._("Tickets")], steps.some((s) => s.value) ? steps.map((s) => [s.label, s.value]) : []);
  }

  function renderDoor(validations) {
    const items = validations.map((v) => ({ label: resultWith(v.result, reasonWords(v.reason)), value: v.scans, result: v.result }));
    const summary = items.map((i) => A._("%(label)s: %(count)s", { label: i.label, count: count(i.value) })).join("; ");
    figure("door", A._("Door scans by result and reason"), summary, rows(items, (i) => RESULT_COLOURS[i.result] || MUTED),
      [A._("Result"), A._("Reason"), A._("Scans")],
      validations.map((v) => [resultName(v.result), reasonWords(v.reason), v.scans]));
  }

  function range() {
    return { from: $("t-from").value, to: $("t-to").value };
  }

  async function refresh() {
    const asked = (latest += 1);
    try {
      const found = await session.call("GET", "/api/reports/numbers", { query: range() });
      if (asked !== latest) return; // a newer range was asked for meanwhile: its answer will show
      $("t-from").value = found.from;
      $("t-to").value = found.to;
      $("trends-title").textContent = A._("From %(first)s to %(last)s", { first: A.shortDate(found.from), last: A.shortDate(found.to) });
      A.setMessage($("trends-message"), "");
      renderRates(found);
      renderUse(found.days);
      renderHeat(found.weekday_hour);
      renderNoShows(found.no_shows_by_start);
      renderFunnel(found.funnel);
      renderDoor(found.validations);
    } catch (error) {
      if (!error.handled) A.setMessage($("trends-message"), error.message);
    }
  }

  $("range-form").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  $("csv").addEventListener("click", () => {
    const query = range();
    A.download(session, "/api/reports/numbers.csv", query, "numbers-" + query.from + "-" + query.to + ".csv")
      .catch((error) => {
        if (!error.handled) A.setMessage($("trends-message"), A._("Could not download: %(reason)s", { reason: error.message }));
      });
  });

  session = A.staffPage({
    minRole: "manager",
    onReady: () => {
      A.show($("trends"), true);
      setTimeout(refresh, 0);
    },
    onLogout: () => A.show($("trends"), false),
  });
})(window.Admit);
