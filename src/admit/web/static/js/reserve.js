/* The visitor's portal: ticket(s) → date and time → contact → confirm → QR code. From an order's link
 * (?order=…) the first step lists the order's tickets instead, to activate and book together. */
"use strict";

(function (A) {
  const $ = A.$;
  const STEPS = ["ticket", "date", "contact", "summary", "done"];
  const state = { tickets: [], email: "", phone: "", phoneCountry: "", slot: null, venue: null };

  // What each ticket state means for the visitor, in plain words.
  const EXPLAIN = {
    INACTIVE: A._("This ticket has not been activated yet. Activate it to book a date: activation is permanent."),
    ACTIVATED: A._("Ready to book: choose a date and time next."),
    PENDING_PAYMENT: A._(
      "The payment for this ticket has not been completed yet, so it cannot be booked. Please finish the payment or contact the seller.",
    ),
    EXPIRED: A._("This ticket has expired and can no longer be used."),
    VOID: A._("This ticket has been cancelled by the venue and can no longer be used."),
  };

  const calendar = A.Calendar($("calendar"), {
    code: () => state.tickets[0].code,
    places: () => state.tickets.length,
    onPick: (slot) => {
      state.slot = slot;
      // Contact details given already (the visitor came back to change the time): straight to Confirm.
      go(state.email && state.phone ? "summary" : "contact");
    },
  });

  function announce(text) {
    $("announce").textContent = text;
  }

  function go(step) {
    STEPS.forEach((name) => A.show($("step-" + name), name === step));
    const index = STEPS.indexOf(step);
    document.querySelectorAll(".steps li").forEach((li, i) => {
      li.classList.toggle("done", i < index);
      if (i === index) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    });
    A.show(document.querySelector(".steps"), step !== "done");
    if (step === "date") calendar.open(state.slot && state.slot.date);
    if (step === "summary") fillSummary();
    const heading = $("step-" + step).querySelector("h2");
    A.focus(heading);
    announce(heading.textContent);
  }

  document.querySelectorAll("[data-back]").forEach((button) => {
    button.addEventListener("click", () => go(button.dataset.back));
  });

  // ---- Step 1: tickets ----
  const ticketForm = $("ticket-form");
  const ticketInput = $("ticket-code");
  const ticketMessage = $("ticket-message");

  function ready() {
    return state.tickets.length > 0 && state.tickets.every((t) => t.status === "ACTIVATED");
  }

  function renderTickets() {
    const list = $("ticket-list");
    list.replaceChildren();
    state.tickets.forEach((ticket, index) => {
      const inactive = ticket.status === "INACTIVE";
      const line = A.el("div", { class: "ticket-line" },
        A.el("span", {}, A.el("span", { class: "visually-hidden" }, A._("Ticket") + " "),
          A.el("span", { class: "ticket-code" }, A.formatCode(ticket.code))));
      const remove = A.el("button", {
        type: "button", class: "button small", "aria-label": A._("Remove ticket %(code)s", { code: A.formatCode(ticket.code) }),
        onclick: () => {
          state.tickets.splice(index, 1);
          renderTickets();
          announce(A._("Ticket removed."));
          ticketInput.focus();
        },
      }, A._("Remove"));
      line.append(remove);
      const item = A.el("li", { class: inactive ? "inactive" : "ready", "data-code": ticket.code },
        line,
        A.el("p", { class: "ticket-state" }, A.el("strong", {}, (inactive ? "! " + A._("Not activated.") : "✓ " + A._("Activated.")) + " "),
          EXPLAIN[ticket.status]));
      if (inactive) {
        item.append(A.el("button", {
          type: "button", class: "button primary", onclick: (event) => activate(ticket, event.currentTarget),
        }, A._("Activate ticket")));
      }
      list.append(item);
    });
    const any = state.tickets.length > 0;
    $("ticket-code-label").textContent = any ? A._("Add another ticket from the same order") : A._("Ticket code");
    $("ticket-submit").textContent = any ? A._("Add ticket") : A._("Check ticket");
    A.show($("ticket-more-hint"), any);
    renderContinue();
  }

  function renderContinue() {
    A.show($("ticket-continue"), state.tickets.length > 0);
    $("ticket-continue").disabled = !ready();
    $("ticket-continue").textContent = state.tickets.length > 1
      ? A.ngettext("Continue with %(num)d ticket", "Continue with %(num)d tickets", state.tickets.length)
      : A._("Continue");
  }

  async function activate(ticket, button) {
    button.disabled = true;
    try {
      const answer = await A.api("POST", "/api/tickets/" + encodeURIComponent(ticket.code) + "/activate");
      ticket.status = answer.status;
      renderTickets();
      A.setMessage(ticketMessage, "");
      announce(A._("Ticket %(code)s is activated and ready to book.", { code: A.formatCode(ticket.code) }));
      (ready() ? $("ticket-continue") : ticketInput).focus();
    } catch (error) {
      if (error.code === "ALREADY_ACTIVATED") {
        ticket.status = "ACTIVATED";
        renderTickets();
      } else {
        button.disabled = false;
        A.setMessage(ticketMessage, error.message);
      }
    }
  }

  /**
   * The venue's today for a ticket's booking: the booking's own answer carries the venue's time zone
   * (null where it cannot be read: the date is then written alone).
   */
  async function bookingToday(r) {
    try {
      const booking = await A.api("GET", "/api/reservations/" + encodeURIComponent(r.reservation_id));
      return A.venueToday(booking.venue.timezone);
    } catch (_unread) {
      return null;
    }
  }

  async function refusal(ticket) {
    const shown = A.formatCode(ticket.code);
    if (ticket.status === "RESERVED" || ticket.status === "VERIFIED") {
      const r = ticket.reservation;
      const when = r ? A.when(r.date, r.start_time, r.end_time, await bookingToday(r)) : "";
      let text;
      if (ticket.status === "RESERVED") text = A._("Ticket %(code)s is already booked for %(when)s.", { code: shown, when: when });
      else if (when) text = A._("Ticket %(code)s has already been used for entry (booked for %(when)s).", { code: shown, when: when });
      else text = A._("Ticket %(code)s has already been used for entry.", { code: shown });
      const fragment = document.createDocumentFragment();
      fragment.append(text + " ");
      if (ticket.status === "RESERVED" && r) {
        fragment.append(A.el("a", { href: "/reserve/" + encodeURIComponent(r.reservation_id) }, A._("See, change or cancel that reservation")));
      }
      return fragment;
    }
    const why = EXPLAIN[ticket.status] || A._("This ticket cannot be booked (%(status)s).", { status: ticket.status });
    return A._("Ticket %(code)s: %(explanation)s", { code: shown, explanation: why });
  }

  async function checkTicket(raw) {
    const code = A.normaliseCode(raw);
    A.setMessage(ticketMessage, "");
    ticketInput.removeAttribute("aria-invalid");
    if (!code) {
      A.setMessage(ticketMessage, A._("Enter the code printed on your ticket."));
      ticketInput.setAttribute("aria-invalid", "true");
      ticketInput.focus();
      return;
    }
    if (state.tickets.some((t) => t.code === code)) {
      A.setMessage(ticketMessage, A._("Ticket %(code)s is in this booking already.", { code: A.formatCode(code) }));
      return;
    }
    const button = $("ticket-submit");
    button.disabled = true;
    try {
      const ticket = await A.api("GET", "/api/tickets/" + encodeURIComponent(code) + "/status");
      if (state.tickets.length && ticket.orq !== state.tickets[0].orq) {
        A.setMessage(ticketMessage, A._("Ticket %(code)s is for another venue: book it separately.", { code: A.formatCode(ticket.code) }));
        return;
      }
      if (ticket.status !== "INACTIVE" && ticket.status !== "ACTIVATED") {
        ticketMessage.replaceChildren(await refusal(ticket));
        ticketInput.focus();
        return;
      }
      state.tickets.push({ code: ticket.code, orq: ticket.orq, status: ticket.status });
      if (state.tickets.length === 1) loadVenue(ticket.orq);
      state.slot = null;
      ticketInput.value = "";
      renderTickets();
      announce(A._("Ticket %(code)s added. %(explanation)s", { code: A.formatCode(ticket.code), explanation: EXPLAIN[ticket.status] }));
      const next = document.querySelector("#ticket-list li:last-child button.primary");
      (next || $("ticket-continue")).focus();
    } catch (error) {
      if (error.status === 404) {
        A.setMessage(ticketMessage, A._("We could not find a ticket with the code %(code)s. Check it for typos: codes have 20 letters and digits.", {
          code: A.formatCode(code),
        }));
      } else {
        A.setMessage(ticketMessage, error.message);
      }
      ticketInput.setAttribute("aria-invalid", "true");
      ticketInput.focus();
    } finally {
      button.disabled = false;
    }
  }

  ticketForm.addEventListener("submit", (event) => {
    event.preventDefault();
    checkTicket(ticketInput.value);
  });
  $("ticket-continue").addEventListener("click", () => {
    if (ready()) go("date");
  });

  /** The venue's name, logo and colours on the page, and its country as the phone number's default. */
  async function loadVenue(orq) {
    if (state.venue && state.venue.orq === orq) return;
    state.venue = await A.showVenue(orq);
    const country = $("phone-country");
    if (state.venue && state.venue.country && !country.dataset.chosen) country.value = state.venue.country;
  }

  // ---- Step 3: contact, checked as the visitor types (the server checks again on Confirm) ----
  const contactForm = $("contact-form");
  const email = $("email");
  const phone = $("phone");
  const phoneCountry = $("phone-country");
  phoneCountry.addEventListener("change", () => {
    phoneCountry.dataset.chosen = "true";
    if (touched.has("phone")) showProblem(phone, phoneProblem(phone.value));
  });
  const touched = new Set();

  function emailProblem(value) {
    if (!value.trim()) return A._("Enter your e-mail address.");
    if (!/^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/.test(value.trim())) return A._("Enter an e-mail address like name@example.com.");
    return "";
  }

  // A number with + carries its country; one without is read in the country chosen beside it (the
  // venue's by default). The server reads both with the full numbering plans and has the last word.
  function phoneProblem(value) {
    const text = value.trim();
    if (!text) return A._("Enter your phone number.");
    const international = text.startsWith("+");
    if (/[^\d\s().\-+\/]/.test(text) || text.indexOf("+", 1) !== -1) return A._("Use only digits, spaces and dashes.");
    const digits = text.replace(/\D/g, "").length;
    if (international && (digits < 8 || digits > 15)) return A._("A phone number with its country code has 8 to 15 digits.");
    if (!international && !phoneCountry.value) return A._("Choose the country of the number, or start with + and the country code.");
    if (!international && (digits < 4 || digits > 15)) return A._("This number is too short or too long.");
    return "";
  }

  function showProblem(input, problem) {
    const error = $(input.id + "-error");
    error.textContent = problem;
    if (problem) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  [[email, emailProblem], [phone, phoneProblem]].forEach(([input, check]) => {
    input.addEventListener("blur", () => {
      if (input.value) touched.add(input.id);
      if (touched.has(input.id)) showProblem(input, check(input.value));
    });
    input.addEventListener("input", () => {
      if (touched.has(input.id)) showProblem(input, check(input.value));
    });
  });

  contactForm.addEventListener("submit", (event) => {
    event.preventDefault();
    touched.add("email");
    touched.add("phone");
    const problems = [[email, emailProblem(email.value)], [phone, phoneProblem(phone.value)]];
    problems.forEach(([input, problem]) => showProblem(input, problem));
    const first = problems.find(([, problem]) => problem);
    if (first) {
      first[0].focus();
      return;
    }
    state.email = email.value.trim();
    state.phone = phone.value.trim();
    state.phoneCountry = state.phone.startsWith("+") ? "" : phoneCountry.value;
    go("summary");
  });

  // ---- Step 4: summary and confirm ----
  const summaryMessage = $("summary-message");

  function fillSummary() {
    const slot = state.slot;
    $("sum-tickets").replaceChildren(...state.tickets.map((t) => A.el("span", { class: "ticket-code" }, A.formatCode(t.code), A.el("br"))));
    $("sum-date").textContent = A.dayText(slot.date, calendar.today(), { opening: true });
    $("sum-time").textContent = A.timeRange(slot.start_time, slot.end_time);
    $("sum-email").textContent = state.email;
    const country = state.phoneCountry && phoneCountry.selectedOptions[0];
    $("sum-phone").textContent = country ? "+" + country.dataset.calling + " · " + state.phone : state.phone;
    document.querySelector("#step-summary dt").textContent = state.tickets.length > 1 ? A._("Tickets") : A._("Ticket");
  }

  function showAlternatives(alternatives) {
    const list = $("alternatives-list");
    list.replaceChildren();
    alternatives.forEach((slot) => {
      list.append(A.el("li", {}, A.el("button", {
        type: "button",
        class: "slot",
        onclick: () => {
          state.slot = slot;
          calendar.select(slot);
          A.show($("alternatives"), false);
          A.setMessage(summaryMessage, "");
          fillSummary();
          announce(A._("Time changed to %(when)s. Press Confirm to book it.", { when: A.when(slot.date, slot.start_time, slot.end_time, calendar.today()) }));
          $("confirm").focus();
        },
      }, A.el("span", { class: "time" }, A.dayText(slot.date, calendar.today(), { opening: true, short: true }) + " · " + A.timeRange(slot.start_time, slot.end_time)),
      A.el("span", { class: "avail" }, A.available(slot)))));
    });
    A.show($("alternatives"), alternatives.length > 0);
  }

  $("confirm").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    A.setMessage(summaryMessage, "");
    A.show($("alternatives"), false);
    try {
      const answer = await A.api("POST", "/api/reservations", {
        body: {
          ticket_codes: state.tickets.map((t) => t.code),
          slot_id: state.slot.slot_id,
          customer_email: state.email,
          customer_phone: state.phone,
          ...(state.phoneCountry ? { phone_country: state.phoneCountry } : {}),
        },
      });
      done(answer);
    } catch (error) {
      if (error.code === "SLOT_FULL") {
        const alternatives = error.details.alternatives || [];
        A.setMessage(summaryMessage, alternatives.length
          ? A._("Sorry, this time has just been fully booked. Pick one of the times below that still has room.")
          : A._("Sorry, this time has just been fully booked. Please choose another time."));
        showAlternatives(alternatives);
        calendar.refresh();
      } else if (error.code === "INVALID_CONTACT" || (error.code === "VALIDATION_ERROR" && error.details.fields)) {
        const fields = error.details.fields || {};
        go("contact");
        if (fields.customer_email) showProblem(email, fields.customer_email);
        const phoneField = fields.customer_phone || fields.phone_country;
        if (phoneField) showProblem(phone, phoneField);
        (fields.customer_email ? email : phone).focus();
      } else {
        A.setMessage(summaryMessage, error.message);
      }
    } finally {
      button.disabled = false;
    }
  });

  // ---- Step 5: done ----

  /** v…@example.org: enough for the visitor to know which address, not enough for a passer-by. */
  function masked(address) {
    const at = address.lastIndexOf("@");
    return at < 1 ? address : address.slice(0, 1) + "\u2026" + address.slice(at);
  }

  function done(answer) {
    const reservations = answer.reservations;
    const list = $("done-list");
    const party = reservations.length > 1;
    A.show($("done-party"), party);
    if (party) {
      const first = reservations[0];
      $("done-party").replaceChildren(
        A.ngettext("%(num)d person is booked for %(when)s.", "%(num)d people are booked for %(when)s.", reservations.length, {
          when: A.when(first.date, first.start_time, first.end_time, calendar.today()),
        }) + " ",
        A.el("a", { href: "/reserve/party/" + encodeURIComponent(answer.party_id) }, A._("See, move or cancel the whole group")));
    }
    const offers = document.body.dataset;
    $("done-sent").replaceChildren(...A.withElements(A._("Confirmation sent to %(address)s."), {
      address: A.el("strong", { class: "nowrap" }, masked(state.email)),
    }));
    list.replaceChildren();
    reservations.forEach((r) => {
      const base = "/api/reservations/" + encodeURIComponent(r.reservation_id);
      const shown = A.formatCode(r.ticket_code);
      const suffix = r.ticket_code.slice(-4);
      list.append(A.el("li", { "data-reservation-id": r.reservation_id },
        A.el("h3", {}, A.dayText(r.date, calendar.today(), { opening: true })),
        A.el("p", {}, A.el("strong", {}, A.timeRange(r.start_time, r.end_time))),
        A.el("img", { class: "qr", src: base + "/qr.png", width: "220", height: "220", alt: A._("QR code of ticket %(code)s", { code: shown }) }),
        A.el("p", {}, ...A.withElements(A._("Ticket %(code)s"), { code: A.el("span", { class: "ticket-code" }, shown) })),
        A.el("div", { class: "actions" },
          A.el("a", { class: "button", href: base + "/qr.png", download: "ticket-" + suffix + ".png" }, A._("Download QR")),
          A.el("a", { class: "button", href: base + "/calendar.ics", download: "visit.ics" }, A._("Add to calendar")),
          offers.ticketPdf === "true"
            ? A.el("a", { class: "button", href: base + "/ticket.pdf", download: "ticket-" + suffix + ".pdf" }, A._("Ticket as PDF"))
            : null,
          offers.walletPass === "true"
            ? A.el("a", { class: "button", href: base + "/pass.pkpass", download: "ticket-" + suffix + ".pkpass" }, A._("Add to wallet"))
            : null),
        A.el("p", {}, A.el("a", { href: "/reserve/" + encodeURIComponent(r.reservation_id) }, A._("Change or cancel this reservation"))),
        A.el("p", { class: "hint" }, A._("Keep this link: it is also how you change or cancel later."))));
    });
    if (order.token) {
      // The order's other tickets may still wait for a time: back to the order, as it is now.
      const again = $("done-again");
      again.href = "/reserve?order=" + encodeURIComponent(order.token);
      again.textContent = A._("Back to your order");
    }
    state.tickets = [];
    go("done");
  }

  // ---- An order's link: its tickets as they are now; the visitor books all or some for one time ----
  const order = { token: "", tickets: [], chosen: new Set(), timezone: "" };

  function bookable(ticket) {
    return ticket.status === "INACTIVE" || ticket.status === "ACTIVATED";
  }

  /** What a ticket of the order is now, in words, with the way to its booking where it has one. */
  function orderState(ticket) {
    const r = ticket.reservation;
    if (ticket.status === "RESERVED" && r) {
      return [A._("Booked for %(when)s.", { when: A.when(r.date, r.start_time, r.end_time, A.venueToday(order.timezone)) }) + " ",
        A.el("a", { href: "/reserve/party/" + encodeURIComponent(r.party_id) }, A._("See or change this booking"))];
    }
    const words = {
      INACTIVE: A._("Not activated yet."),
      ACTIVATED: A._("Ready to book."),
      VERIFIED: A._("Used for entry."),
      EXPIRED: A._("Expired: it can no longer be used."),
      PENDING_PAYMENT: A._("Not paid yet: it can be booked once the payment is complete."),
    };
    const parts = [words[ticket.status] || A._("This ticket cannot be booked (%(status)s).", { status: ticket.status })];
    if (bookable(ticket) && ticket.valid_until) {
      parts.push(" " + A._("Valid until %(date)s.", { date: A.longDate(ticket.valid_until) }));
    }
    return parts;
  }

  function renderOrder() {
    const list = $("order-list");
    list.replaceChildren();
    order.tickets.forEach((ticket, index) => {
      const shown = A.formatCode(ticket.code);
      const open = bookable(ticket);
      const code = A.el("span", { class: "ticket-code" }, shown);
      const head = open
        ? A.el("label", { class: "ticket-line order-choice", for: "order-ticket-" + index },
          A.el("input", {
            type: "checkbox", id: "order-ticket-" + index, value: ticket.code, checked: order.chosen.has(ticket.code),
            onchange: (event) => {
              if (event.currentTarget.checked) order.chosen.add(ticket.code);
              else order.chosen.delete(ticket.code);
              state.slot = null;
              renderOrder();
              $("order-ticket-" + index).focus(); // the list was drawn again: keep the keyboard's place
            },
          }),
          A.el("span", {}, A.el("span", { class: "visually-hidden" }, A._("Ticket") + " "), code))
        : A.el("div", { class: "ticket-line" }, A.el("span", {}, A.el("span", { class: "visually-hidden" }, A._("Ticket") + " "), code));
      const kind = ticket.status === "ACTIVATED" ? "ready" : ticket.status === "INACTIVE" ? "inactive" : "closed";
      list.append(A.el("li", { class: kind, "data-code": ticket.code, "data-status": ticket.status },
        head, A.el("p", { class: "ticket-state" }, ...orderState(ticket))));
    });
    state.tickets = order.tickets.filter((t) => order.chosen.has(t.code)).map((t) => ({ code: t.code, orq: t.orq, status: t.status }));
    const inactive = state.tickets.filter((t) => t.status === "INACTIVE").length;
    A.show($("order-activate"), inactive > 0);
    $("order-activate-count").textContent = A.ngettext(
      "%(num)d of the chosen tickets is not activated yet: activate it to book.",
      "%(num)d of the chosen tickets are not activated yet: activate them to book.",
      inactive,
    );
    $("order-activate-go").textContent = A.ngettext("Activate %(num)d ticket", "Activate %(num)d tickets", inactive);
    renderContinue();
    if (!order.tickets.some(bookable)) {
      A.setMessage(ticketMessage, A._("None of this order's tickets can be booked now."), "info");
    }
  }

  $("order-activate-go").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    A.setMessage(ticketMessage, "");
    try {
      for (const ticket of order.tickets) {
        if (!order.chosen.has(ticket.code) || ticket.status !== "INACTIVE") continue;
        try {
          const answer = await A.api("POST", "/api/tickets/" + encodeURIComponent(ticket.code) + "/activate");
          ticket.status = answer.status;
        } catch (error) {
          if (error.code !== "ALREADY_ACTIVATED") throw error;
          ticket.status = "ACTIVATED";
        }
      }
      announce(A._("The chosen tickets are activated and ready to book."));
    } catch (error) {
      A.setMessage(ticketMessage, error.message);
    } finally {
      button.disabled = false;
      renderOrder();
      if (ready()) $("ticket-continue").focus();
    }
  });

  async function loadOrder(token) {
    order.token = token;
    A.show(ticketForm, false);
    $("ticket-title").textContent = A._("Your order");
    try {
      const answer = await A.api("GET", "/api/order-links/" + encodeURIComponent(token));
      order.tickets = answer.tickets;
      order.timezone = answer.venue.timezone;
      order.chosen = new Set(answer.tickets.filter(bookable).map((t) => t.code));
      $("order-venue").textContent = A._("Your tickets for %(venue)s.", { venue: answer.venue.name });
      A.show($("order"), true);
      renderOrder();
      loadVenue(answer.orq);
    } catch (error) {
      // A link cut short or mistyped: say so, and offer the ticket code instead.
      A.setMessage(ticketMessage, error.status === 404
        ? A._("We could not find this order. Check that the whole link from your e-mail was copied, or enter a ticket code below.")
        : error.message);
      $("ticket-title").textContent = A._("Your ticket");
      A.show(ticketForm, true);
    }
  }

  const query = new URLSearchParams(window.location.search);
  if (query.get("order")) {
    loadOrder(query.get("order"));
  } else {
    // A link from the order e-mail can carry the code: /reserve?code=…
    const fromLink = query.get("code");
    if (fromLink) {
      ticketInput.value = fromLink;
      checkTicket(fromLink);
    }
    renderTickets();
  }
})(window.Admit);
