/* The monthly availability calendar and a day's time slots, for booking and for moving a booking.
 *
 * Keyboard: the arrow keys move between days (Up/Down by a week), Home/End to the week's start/end,
 * Page Up/Page Down by a month, Enter or Space picks the day. Every level has a colour, a border
 * and a word, so colour is never the only signal.
 */
"use strict";

(function (A) {
  const MONTHS_AHEAD = 12;
  // `word` is written in the day's small square (keep it short); `spoken` is read out with the date.
  const LEVELS = {
    // Translators: a calendar day with many free places, written small under the day's number.
    available: { word: A._("Open"), spoken: A._("many places free") },
    // Translators: a calendar day with few free places, written small under the day's number.
    limited: { word: A._("Few left"), spoken: A._("few places left") },
    // Translators: a calendar day with (nearly) no free places, written small under the day's number.
    full: { word: A._("Full"), spoken: A._("full or nearly full") },
  };
  const MONTH_TITLE = new Intl.DateTimeFormat(A.locale, { month: "long", year: "numeric", timeZone: "UTC" });
  // The week starts on Monday; 5 January 2026 was one. Names as the page's language writes them.
  const WEEKDAYS = (function () {
    const short = new Intl.DateTimeFormat(A.locale, { weekday: "short", timeZone: "UTC" });
    const long = new Intl.DateTimeFormat(A.locale, { weekday: "long", timeZone: "UTC" });
    return [0, 1, 2, 3, 4, 5, 6].map((i) => {
      const day = new Date(Date.UTC(2026, 0, 5 + i));
      return [short.format(day), long.format(day)];
    });
  })();

  // Shares of places as the language writes them: "10–50%", "10–50 %".
  const PERCENT = new Intl.NumberFormat(A.locale, { style: "percent" });

  function percentRange(from, to) {
    return PERCENT.formatRange ? PERCENT.formatRange(from, to) : PERCENT.format(from) + "–" + PERCENT.format(to);
  }

  function monthOf(iso) {
    return iso.slice(0, 7);
  }

  function monthStart(month) {
    return month + "-01";
  }

  function monthEnd(month) {
    const date = A.parseDay(monthStart(month));
    date.setUTCMonth(date.getUTCMonth() + 1, 0);
    return A.isoDay(date);
  }

  function shiftMonth(month, by) {
    const date = A.parseDay(monthStart(month));
    date.setUTCMonth(date.getUTCMonth() + by, 1);
    return monthOf(A.isoDay(date));
  }

  /** Same day of month in another month, kept inside that month (31 Jan + 1 month → 28/29 Feb). */
  function sameDayIn(iso, byMonths) {
    const target = shiftMonth(monthOf(iso), byMonths);
    const day = Math.min(Number(iso.slice(8, 10)), Number(monthEnd(target).slice(8, 10)));
    return target + "-" + String(day).padStart(2, "0");
  }

  function slotLevel(slot) {
    if (slot.total_capacity <= 0) return "full";
    const free = slot.available_count / slot.total_capacity;
    if (free > 0.5) return "available";
    if (free >= 0.1) return "limited";
    return "full";
  }

  /** Two months side by side where the screen is wide enough for both, one on a phone. */
  const WIDE = window.matchMedia("(min-width: 56rem)");

  /**
   * options.code(): the ticket code whose organization's slots to show; options.places(): how many
   * places a slot needs; options.onPick(slot): a time was chosen; options.headingLevel: "h3".
   */
  function Calendar(root, options) {
    // `opened` counts the opens: a month asked for before the last one is of places that may have changed
    // since (a refused booking opens again), so its answer is not kept or shown.
    const state = {
      tz: null, today: null, month: null, months: new Map(), focused: null, selected: null, slotId: null, opened: 0,
    };
    const uid = root.id || "cal";
    const help = A.el("p", { class: "hint", id: uid + "-help",
      text: A._("Use the arrow keys to move between days and Enter to pick one. Past days and days without times cannot be picked.") });
    const prev = A.el("button", { type: "button", class: "button cal-nav", "aria-label": A._("Previous month") }, "‹");
    const next = A.el("button", { type: "button", class: "button cal-nav", "aria-label": A._("Next month") }, "›");
    const monthsBox = A.el("div", { class: "cal-months" });
    let panes = [];
    const legend = A.el("ul", { class: "legend", "aria-label": A._("What the days show") },
      A.el("li", {}, A.el("span", { class: "key available", "aria-hidden": "true" }), A._("Open: more than half the places free")),
      A.el("li", {}, A.el("span", { class: "key limited", "aria-hidden": "true" }),
        A._("Few left: %(share)s free", { share: percentRange(0.1, 0.5) })),
      A.el("li", {}, A.el("span", { class: "key full", "aria-hidden": "true" }),
        A._("Full: under %(share)s free, or no times", { share: PERCENT.format(0.1) })));
    const status = A.el("div", { class: "message", role: "alert" });
    const slotsTitle = A.el("h3", { id: uid + "-slots-title", tabindex: "-1" });
    const slotList = A.el("ul", { class: "slot-list", "aria-labelledby": uid + "-slots-title" });
    const slotsPanel = A.el("div", { class: "slots-panel", hidden: true }, slotsTitle, slotList);
    root.replaceChildren(help, monthsBox, legend, status, slotsPanel);

    /** One table per month shown; the first carries Previous, the last Next, beside their titles. */
    function buildPanes() {
      const count = WIDE.matches ? 2 : 1;
      panes = [];
      monthsBox.replaceChildren();
      for (let i = 0; i < count; i += 1) {
        const title = A.el("h3", { id: uid + "-title-" + i, "aria-live": "polite" });
        const body = A.el("tbody");
        const head = A.el("tr");
        WEEKDAYS.forEach(([short, long]) => head.append(A.el("th", { scope: "col", abbr: long }, short)));
        const table = A.el("table", { class: "calendar", "aria-labelledby": title.id, "aria-describedby": uid + "-help" },
          A.el("thead", {}, head), body);
        body.addEventListener("keydown", onKey);
        body.addEventListener("click", (event) => {
          const button = event.target.closest("button.day");
          if (button) pickDay(button.dataset.date, true);
        });
        const bar = A.el("div", { class: "cal-head" }, i === 0 ? prev : A.el("span", { class: "cal-nav-space" }), title,
          i === count - 1 ? next : A.el("span", { class: "cal-nav-space" }));
        monthsBox.append(A.el("div", { class: "cal-month" }, bar, table));
        panes.push({ title: title, body: body });
      }
    }
    buildPanes();
    WIDE.addEventListener("change", () => {
      buildPanes();
      if (state.month) goMonth(state.month);
    });

    function shownMonths() {
      return panes.map((_, i) => shiftMonth(state.month, i));
    }

    prev.addEventListener("click", () => goMonth(shiftMonth(state.month, -1)));
    next.addEventListener("click", () => goMonth(shiftMonth(state.month, 1)));

    async function fetchRange(from, to) {
      return A.api("GET", "/api/tickets/" + encodeURIComponent(options.code()) + "/availability", {
        query: { from: from, to: to },
      });
    }

    async function loadMonth(month) {
      if (state.months.has(month)) return state.months.get(month);
      const opened = state.opened;
      const from = monthStart(month) < state.today ? state.today : monthStart(month);
      const answer = await fetchRange(from, monthEnd(month));
      const days = new Map(answer.days.map((day) => [day.date, day]));
      if (opened === state.opened) state.months.set(month, days);
      return days;
    }

    /** Whether the calendar was opened again since `opened`: that open shows the places as they are now. */
    function superseded(opened) {
      return opened !== state.opened;
    }

    /** A day the visitor can book: a time on it still has room for all their places. */
    function bookable(day) {
      const places = options.places();
      return day.slots.some((slot) => slot.available_count >= places);
    }

    /** The first day from today on with room, month by month up to a year ahead (null: none). */
    async function firstBookableDay() {
      const first = monthOf(state.today);
      for (let i = 0; i <= MONTHS_AHEAD; i += 1) {
        const month = shiftMonth(first, i);
        const days = await loadMonth(month);
        const found = Array.from(days.keys()).sort().find((iso) => iso >= state.today && bookable(days.get(iso)));
        if (found) return found;
      }
      return null;
    }

    /**
     * Find the venue's time zone and today, then show the month of the chosen day, or else the first
     * month with a day that can be booked (on the last day of a month, often the next one).
     */
    async function open(initialDay) {
      A.setMessage(status, "");
      state.months.clear();
      state.opened += 1;
      const opened = state.opened;
      try {
        if (!state.tz) {
          const utcToday = A.isoDay(A.serverNow());
          const probe = await fetchRange(A.addDays(utcToday, -1), A.addDays(utcToday, 1));
          state.tz = probe.timezone;
          state.today = A.dayIn(A.serverNow(), state.tz);
        }
        const chosen = initialDay && initialDay >= state.today ? initialDay : state.selected;
        const start = chosen || (await firstBookableDay()) || state.today;
        if (superseded(opened)) return;
        state.month = monthOf(start);
        await Promise.all(shownMonths().map(loadMonth));
        if (superseded(opened)) return;
        state.focused = start;
        render(false);
        if (state.selected && (state.months.get(monthOf(state.selected)) || new Map()).has(state.selected)) {
          showSlots(state.selected, false);
        }
      } catch (error) {
        if (!superseded(opened)) A.setMessage(status, error.message);
      }
    }

    async function goMonth(month, focusDay) {
      const first = monthOf(state.today);
      const last = shiftMonth(first, MONTHS_AHEAD);
      if (month < first || month > last) return;
      state.month = month;
      panes[0].title.textContent = A._("%(month)s (loading…)", { month: MONTH_TITLE.format(A.parseDay(monthStart(month))) });
      const opened = state.opened;
      try {
        await Promise.all(shownMonths().map(loadMonth));
        if (superseded(opened)) return;
        A.setMessage(status, "");
      } catch (error) {
        if (superseded(opened)) return;
        A.setMessage(status, error.message);
      }
      state.focused = focusDay || (month === first ? state.today : monthStart(month));
      render(Boolean(focusDay));
    }

    function describe(iso, day) {
      if (iso < state.today) return { cls: "past", word: "", spoken: A._("past"), pickable: false };
      if (!day) return { cls: "none", word: "", spoken: A._("no times"), pickable: false };
      const free = day.slots.reduce((sum, slot) => sum + slot.available_count, 0);
      const level = LEVELS[day.level];
      if (day.level === "full" && free > 0) {
        return {
          cls: "full",
          // Translators: a calendar day with its last few places, written small under the day's number.
          word: A._("Last few"),
          spoken: A.ngettext("nearly full, %(num)d place left", "nearly full, %(num)d places left", free),
          pickable: true,
        };
      }
      const spoken = free
        ? A.ngettext("%(level)s, %(num)d place", "%(level)s, %(num)d places", free, { level: level.spoken })
        : level.spoken;
      return { cls: day.level, word: level.word, spoken: spoken, pickable: true };
    }

    function render(moveFocus) {
      const months = shownMonths();
      prev.disabled = state.month <= monthOf(state.today);
      next.disabled = months[months.length - 1] >= shiftMonth(monthOf(state.today), MONTHS_AHEAD);
      if (!months.includes(monthOf(state.focused))) {
        state.focused = monthStart(state.month) < state.today ? state.today : monthStart(state.month);
      }
      months.forEach((month, i) => renderMonth(panes[i], month));
      if (moveFocus) focusDay(state.focused);
    }

    function renderMonth(pane, month) {
      const days = state.months.get(month) || new Map();
      pane.title.textContent = MONTH_TITLE.format(A.parseDay(monthStart(month)));
      const body = pane.body;
      body.replaceChildren();
      const first = A.parseDay(monthStart(month));
      const lead = (first.getUTCDay() + 6) % 7; // Monday first
      const count = Number(monthEnd(month).slice(8, 10));
      let row = A.el("tr");
      for (let i = 0; i < lead; i += 1) row.append(A.el("td"));
      for (let d = 1; d <= count; d += 1) {
        const iso = month + "-" + String(d).padStart(2, "0");
        const info = describe(iso, days.get(iso));
        const button = A.el("button", {
          type: "button",
          class: "day " + info.cls + (iso === state.today ? " today" : ""),
          "data-date": iso,
          "data-level": info.cls,
          tabindex: iso === state.focused ? "0" : "-1",
          "aria-label": iso === state.today
            ? A._("%(date)s, %(state)s, today", { date: A.longDate(iso), state: info.spoken })
            : A._("%(date)s, %(state)s", { date: A.longDate(iso), state: info.spoken }),
          "aria-disabled": info.pickable ? null : "true",
          "aria-pressed": info.pickable ? String(iso === state.selected) : null,
          "aria-current": iso === state.today ? "date" : null,
        }, A.el("span", { class: "num", "aria-hidden": "true" }, String(d)),
        A.el("span", { class: "lvl", "aria-hidden": "true" }, info.word));
        row.append(A.el("td", {}, button));
        if ((lead + d) % 7 === 0) {
          body.append(row);
          row = A.el("tr");
        }
      }
      if (row.children.length) {
        while (row.children.length < 7) row.append(A.el("td"));
        body.append(row);
      }
    }

    function dayButtons() {
      return monthsBox.querySelectorAll("button.day");
    }

    function focusDay(iso) {
      const button = monthsBox.querySelector('button[data-date="' + iso + '"]');
      if (button) button.focus();
    }

    function onKey(event) {
      const button = event.target.closest("button.day");
      if (!button) return;
      const iso = button.dataset.date;
      const weekday = (A.parseDay(iso).getUTCDay() + 6) % 7;
      const moves = {
        ArrowLeft: () => A.addDays(iso, -1),
        ArrowRight: () => A.addDays(iso, 1),
        ArrowUp: () => A.addDays(iso, -7),
        ArrowDown: () => A.addDays(iso, 7),
        Home: () => A.addDays(iso, -weekday),
        End: () => A.addDays(iso, 6 - weekday),
        PageUp: () => sameDayIn(iso, -1),
        PageDown: () => sameDayIn(iso, 1),
      };
      if (!moves[event.key]) return;
      event.preventDefault();
      let target = moves[event.key]();
      if (target < state.today) target = state.today;
      if (target === iso) return;
      const months = shownMonths();
      if (!months.includes(monthOf(target))) {
        // Forward past the last month shown: that month comes into view as the last one.
        const month = monthOf(target) > state.month ? shiftMonth(monthOf(target), 1 - months.length) : monthOf(target);
        goMonth(month, target);
        return;
      }
      dayButtons().forEach((b) => b.setAttribute("tabindex", b.dataset.date === target ? "0" : "-1"));
      state.focused = target;
      focusDay(target);
    }

    function pickDay(iso, moveFocus) {
      const days = state.months.get(monthOf(iso)) || new Map();
      const info = describe(iso, days.get(iso));
      state.focused = iso;
      if (!info.pickable) {
        const why = iso < state.today
          ? A._("This day has passed.")
          : A._("There are no times to book for %(day)s.", { day: A.dayText(iso, state.today) });
        A.setMessage(status, why, "info");
        dayButtons().forEach((b) => b.setAttribute("tabindex", b.dataset.date === iso ? "0" : "-1"));
        return;
      }
      A.setMessage(status, "");
      state.selected = iso;
      render(false);
      focusDay(iso);
      showSlots(iso, moveFocus);
    }

    function showSlots(iso, moveFocus) {
      const day = state.months.get(monthOf(iso)).get(iso);
      const places = options.places();
      slotsTitle.textContent = A._("Times for %(day)s", { day: A.dayText(iso, state.today) });
      slotList.replaceChildren();
      day.slots.forEach((slot) => {
        const enough = slot.available_count >= places;
        const level = enough ? slotLevel(slot) : "full";
        let note = A.available(slot);
        if (!enough && slot.available_count === 0) note = A._("Full");
        else if (!enough) {
          note = A.ngettext("Only %(num)d left: you need %(needed)d", "Only %(num)d left: you need %(needed)d",
            slot.available_count, { needed: places });
        }
        const button = A.el("button", {
          type: "button",
          class: "slot " + level,
          "data-slot-id": String(slot.slot_id),
          "aria-pressed": String(slot.slot_id === state.slotId),
          disabled: !enough,
          onclick: () => {
            state.slotId = slot.slot_id;
            // The chosen time stays marked while the visitor looks on (or moves a booking).
            slotList.querySelectorAll("button.slot").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
            options.onPick(slot);
          },
        }, A.el("span", { class: "time" }, A.timeRange(slot.start_time, slot.end_time)),
        A.el("span", { class: "avail" }, note));
        slotList.append(A.el("li", {}, button));
      });
      A.show(slotsPanel, true);
      if (moveFocus) {
        const firstOpen = slotList.querySelector("button:not(:disabled)");
        if (firstOpen) firstOpen.focus();
        else A.focus(slotsTitle);
      }
    }

    return {
      open: open,
      /** Forget what was loaded (places change after a booking or a refused one). */
      refresh: () => open(state.selected),
      /** The venue's today (YYYY-MM-DD) once the calendar has opened, else null. */
      today: () => (state.tz ? A.venueToday(state.tz) : null),
      select: (slot) => {
        state.selected = slot.date;
        state.slotId = slot.slot_id;
      },
    };
  }

  A.Calendar = Calendar;
})(window.Admit);
