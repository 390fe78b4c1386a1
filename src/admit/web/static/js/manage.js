/* A reservation's own page: see it, move it to another time, or cancel it, where the policy allows. */
"use strict";

(function (A) {
  const $ = A.$;
  const data = document.body.dataset;
  const id = data.reservationId;
  const base = "/api/reservations/" + encodeURIComponent(id);
  let reservation = null;

  const panels = A.changePanels({
    current: () => reservation,
    code: () => reservation.ticket.code,
    places: () => 1,
    question: (from, to) => A._("Move your visit from %(old)s to %(new)s?", { old: from, new: to }),
    move: (slot) => A.api("PUT", base, { body: { slot_id: slot.slot_id } }),
    cancel: () => A.api("DELETE", base),
    moved: (answer) => {
      reservation = answer;
      render();
      done(A._("Your reservation is moved to %(when)s. Your QR code stays the same.", { when: A.visitWhen(reservation) }));
    },
    cancelled: (answer) => {
      reservation = answer;
      render();
      done(A._("Your reservation is cancelled. Your ticket can be booked for another time."));
    },
  });

  function done(text) {
    A.setMessage($("details-message"), text, "ok");
    $("announce").textContent = text;
    A.focus($("details-title"));
  }

  function render() {
    const r = reservation;
    const shown = A.formatCode(r.ticket.code);
    const live = r.status === "RESERVED";
    const body = $("details-body");
    const list = A.el("dl", { class: "summary" },
      A.el("dt", {}, A._("Status")), A.el("dd", {}, A.el("span", { class: "status-pill " + r.status }, A.statusWord(r.status))),
      A.el("dt", {}, A._("Venue")), A.el("dd", {}, r.venue.name),
      A.el("dt", {}, A._("Date")), A.el("dd", { id: "res-date" }, A.visitDay(r)),
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
    panels.render(live);
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

  load();
  A.showVenue(data.orq);
})(window.Admit);
