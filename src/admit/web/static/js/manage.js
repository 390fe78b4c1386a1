/* A reservation's own page: see it, move it to another time, or cancel it, where the policy allows. */
"use strict";

(function (A) {
  const $ = A.$;
  const data = document.body.dataset;
  const id = data.reservationId;
  const base = "/api/reservations/" + encodeURIComponent(id);
  let reservation = null;
  let target = null;

  const STATUS_WORDS = {
    RESERVED: "Booked",
    VERIFIED: "Used for entry",
    CANCELLED: "Cancelled",
    EXPIRED: "Expired",
  };

  const calendar = A.Calendar($("calendar"), {
    code: () => reservation.ticket.code,
    places: () => 1,
    onPick: (slot) => {
      if (slot.slot_id === reservation.slot_id) {
        A.setMessage($("change-message"), "This is your current time already: pick another one.", "info");
        return;
      }
      target = slot;
      $("move-question").textContent = "Move your visit from " + when(reservation) + " to " + when(slot) + "?";
      A.setMessage($("change-message"), "");
      A.show($("move-confirm"), true);
      $("move-go").focus();
    },
  });

  function when(item) {
    return A.longDate(item.date) + ", " + A.timeRange(item.start_time, item.end_time);
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
      A.el("dt", {}, "Status"), A.el("dd", {}, A.el("span", { class: "status-pill " + r.status }, STATUS_WORDS[r.status] || r.status)),
      A.el("dt", {}, "Venue"), A.el("dd", {}, r.venue.name),
      A.el("dt", {}, "Date"), A.el("dd", { id: "res-date" }, A.longDate(r.date)),
      A.el("dt", {}, "Time"), A.el("dd", { id: "res-time" }, A.timeRange(r.start_time, r.end_time)),
      A.el("dt", {}, "Ticket"), A.el("dd", {}, A.el("span", { class: "ticket-code" }, shown)),
      A.el("dt", {}, "E-mail"), A.el("dd", {}, r.customer_email),
      A.el("dt", {}, "Phone"), A.el("dd", {}, r.customer_phone));
    body.replaceChildren(list);
    if (live && r.slot && r.slot.status === "CLOSED") {
      // The venue closed this time and e-mailed the visitor this page: say so above the details.
      body.prepend(A.el("p", { class: "notice", id: "slot-closed" },
        "The venue has closed this time. Your ticket is still valid: please choose another time below."));
    }
    if (live) {
      body.append(A.el("div", { class: "qr-block" },
        A.el("img", {
          class: "qr", src: base + "/qr.png", width: "220", height: "220", alt: "QR code of ticket " + shown,
        }),
        A.el("div", { class: "actions" },
          A.el("a", { class: "button", href: base + "/qr.png", download: "ticket-" + r.ticket.code.slice(-4) + ".png" }, "Download QR"),
          A.el("a", { class: "button", href: base + "/calendar.ics", download: "visit.ics" }, "Add to calendar"),
          A.el("a", { class: "button", href: base + "/ticket.pdf", target: "_blank", rel: "noopener" }, "Printable ticket"),
          // Offered only where the venue has its Apple Wallet pass certificate configured.
          data.walletPass === "true"
            ? A.el("a", { class: "button", href: base + "/pass.pkpass" }, "Add to Apple Wallet")
            : "")));
    } else if (r.status === "CANCELLED") {
      body.append(A.el("p", {}, "This reservation is cancelled. ",
        r.ticket.status === "ACTIVATED"
          ? A.el("a", { href: "/reserve?code=" + encodeURIComponent(r.ticket.code) }, "Book a new time with this ticket")
          : ""));
    } else if (r.status === "VERIFIED") {
      body.append(A.el("p", {}, "This ticket was used for entry. We hope you enjoyed your visit."));
    } else if (r.status === "EXPIRED") {
      body.append(A.el("p", {}, "The time of this reservation has passed without the ticket being used."));
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
    if (!moveAllowed) $("change-refusal").textContent = "Changes are not possible: " + data.moveMessage;
    A.show($("cancel-start"), cancelAllowed);
    A.show($("cancel-refusal"), !cancelAllowed);
    if (!cancelAllowed) $("cancel-refusal").textContent = "Cancelling is not possible: " + data.cancelMessage;
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
      const text = "Your reservation is moved to " + when(reservation) + ". Your QR code stays the same.";
      A.setMessage($("details-message"), text, "ok");
      announce(text);
      A.focus($("details-title"));
    } catch (error) {
      if (error.code === "SLOT_FULL") {
        A.setMessage($("change-message"), "Sorry, that time has just been fully booked: pick another one.");
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
      const text = "Your reservation is cancelled. Your ticket can be booked for another time.";
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
