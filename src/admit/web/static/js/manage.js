/* A reservation's own page: see it, move it to another time, or cancel it, where the policy allows. */
"use strict";

(function (A) {
  const $ = A.$;
  const data = document.body.dataset;
  const id = data.reservationId;
  const base = "/api/reservations/" + encodeURIComponent(id);
  let reservation = null;
  let target = null;

  // Translators: a reservation's status, shown as a small label.
  const STATUS_WORDS = {
    RESERVED: A._("Booked"),
    VERIFIED: A._("Used for entry"),
    CANCELLED: A._("Cancelled"),
    EXPIRED: A._("Expired"),
  };

  const calendar = A.Calendar($("calendar"), {
    code: () => reservation.ticket.code,
    places: () => 1,
    onPick: (slot) => {
      if (slot.slot_id === reservation.slot_id) {
        A.setMessage($("change-message"), A._("This is your current time already: pick another one."), "info");
        return;
      }
      target = slot;
      $("move-question").textContent = A._("Move your visit from %(old)s to %(new)s?", { old: when(reservation), new: when(slot) });
      A.setMessage($("change-message"), "");
      A.show($("move-confirm"), true);
      $("move-go").focus();
    },
  });

  function when(item) {
    return A.when(item.date, item.start_time, item.end_time, today());
  }

  /** The venue's today: "today" and "tomorrow" on this page are the venue's, wherever the visitor is. */
  function today() {
    return A.venueToday(reservation.venue.timezone);
  }

  function announce(text) {
    $("announce").textContent = text;
  }

  function render() {
    const r = reservation;
    const shown = A.formatCode(r.ticket.code);
    const live = r.status === "RESERVED";
    const body = $("details-body");
    const list = A.el("dl", { class: "summary" },
      A.el("dt", {}, A._("Status")), A.el("dd", {}, A.el("span", { class: "status-pill " + r.status }, STATUS_WORDS[r.status] || r.status)),
      A.el("dt", {}, A._("Venue")), A.el("dd", {}, r.venue.name),
      A.el("dt", {}, A._("Date")), A.el("dd", { id: "res-date" }, A.dayText(r.date, today(), { opening: true })),
      A.el("dt", {}, A._("Time")), A.el("dd", { id: "res-time" }, A.timeRange(r.start_time, r.end_time)),
      A.el("dt", {}, A._("Ticket")), A.el("dd", {}, A.el("span", { class: "ticket-code" }, shown)),
      A.el("dt", {}, A._("E-mail")), A.el("dd", {}, r.customer_email),
      A.el("dt", {}, A._("Phone")), A.el("dd", {}, r.customer_phone));
    body.replaceChildren(list);
    if (live && r.slot && r.slot.status === "CLOSED") {
      // The venue closed this time and e-mailed the visitor this page: say so above the details.
      body.prepend(A.el("p", { class: "notice", id: "slot-closed" },
        A._("The venue has closed this time. Your ticket is still valid: please choose another time below.")));
    }
    if (live) {
      body.append(A.el("div", { class: "qr-block" },
        A.el("img", {
          class: "qr", src: base + "/qr.png", width: "220", height: "220", alt: A._("QR code of ticket %(code)s", { code: shown }),
        }),
        A.el("div", { class: "actions" },
          A.el("a", { class: "button", href: base + "/qr.png", download: "ticket-" + r.ticket.code.slice(-4) + ".png" }, A._("Download QR")),
          A.el("a", { class: "button", href: base + "/calendar.ics", download: "visit.ics" }, A._("Add to calendar")),
          A.el("a", { class: "button", href: base + "/ticket.pdf", target: "_blank", rel: "noopener" }, A._("Printable ticket")),
          // Offered only where the venue has its Apple Wallet pass certificate configured.
          data.walletPass === "true"
            ? A.el("a", { class: "button", href: base + "/pass.pkpass" }, A._("Add to Apple Wallet"))
            : "")));
    } else if (r.status === "CANCELLED") {
      body.append(A.el("p", {}, A._("This reservation is cancelled.") + " ",
        r.ticket.status === "ACTIVATED"
          ? A.el("a", { href: "/reserve?code=" + encodeURIComponent(r.ticket.code) }, A._("Book a new time with this ticket"))
          : ""));
    } else if (r.status === "VERIFIED") {
      body.append(A.el("p", {}, A._("This ticket was used for entry. We hope you enjoyed your visit.")));
    } else if (r.status === "EXPIRED") {
      body.append(A.el("p", {}, A._("The time of this reservation has passed without the ticket being used.")));
    }
    renderActions(live);
  }

  function renderActions(live) {
    A.show($("change"), live);
    A.show($("cancel"), live);
    if (!live) return;
    const moveAllowed = data.moveAllowed === "true";
    const cancelAllowed = data.cancelAllowed === "true";
    A.show($("change-start"), moveAllowed);
    A.show($("change-refusal"), !moveAllowed);
    if (!moveAllowed) $("change-refusal").textContent = A._("Changes are not possible: %(reason)s", { reason: data.moveMessage });
    A.show($("cancel-start"), cancelAllowed);
    A.show($("cancel-refusal"), !cancelAllowed);
    if (!cancelAllowed) $("cancel-refusal").textContent = A._("Cancelling is not possible: %(reason)s", { reason: data.cancelMessage });
  }

  /** The API refused (a policy can change, a cutoff can pass while the page is open): say why. */
  function refused(error, where) {
    A.setMessage($(where), error.message);
    if (error.status === 403) {
      if (where === "change-message") {
        data.moveAllowed = "false";
        data.moveMessage = error.message;
        A.show($("change-picker"), false);
      } else {
        data.cancelAllowed = "false";
        data.cancelMessage = error.message;
        A.show($("cancel-confirm"), false);
      }
      renderActions(true);
    }
  }

  async function load() {
    try {
      reservation = await A.api("GET", base);
      render();
    } catch (error) {
      A.setMessage($("details-message"), error.message);
      $("details-body").replaceChildren();
    }
  }

  $("change-start").addEventListener("click", () => {
    A.show($("change-picker"), true);
    A.show($("move-confirm"), false);
    A.show($("change-start"), false);
    calendar.select(reservation); // the current time stays marked among the others
    calendar.open(reservation.date).then(() => {
      const focusable = document.querySelector("#calendar button.day[tabindex='0']");
      if (focusable) focusable.focus();
    });
  });

  $("move-cancel").addEventListener("click", () => {
    A.show($("move-confirm"), false);
    A.show($("change-picker"), false);
    A.show($("change-start"), true);
    $("change-start").focus();
  });

  $("move-go").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      reservation = await A.api("PUT", base, { body: { slot_id: target.slot_id } });
      A.show($("move-confirm"), false);
      A.show($("change-picker"), false);
      render();
      A.setMessage($("change-message"), "");
      const text = A._("Your reservation is moved to %(when)s. Your QR code stays the same.", { when: when(reservation) });
      A.setMessage($("details-message"), text, "ok");
      announce(text);
      A.focus($("details-title"));
    } catch (error) {
      if (error.code === "SLOT_FULL") {
        A.setMessage($("change-message"), A._("Sorry, that time has just been fully booked: pick another one."));
        A.show($("move-confirm"), false);
        calendar.refresh();
      } else {
        refused(error, "change-message");
      }
    } finally {
      button.disabled = false;
    }
  });

  $("cancel-start").addEventListener("click", () => {
    A.show($("cancel-confirm"), true);
    $("cancel-keep").focus();
  });
  $("cancel-keep").addEventListener("click", () => {
    A.show($("cancel-confirm"), false);
    $("cancel-start").focus();
  });
  $("cancel-go").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      reservation = await A.api("DELETE", base);
      A.show($("cancel-confirm"), false);
      render();
      const text = A._("Your reservation is cancelled. Your ticket can be booked for another time.");
      A.setMessage($("details-message"), text, "ok");
      announce(text);
      A.focus($("details-title"));
    } catch (error) {
      refused(error, "cancel-message");
    } finally {
      button.disabled = false;
    }
  });

  load();
  A.showVenue(data.orq);
})(window.Admit);
