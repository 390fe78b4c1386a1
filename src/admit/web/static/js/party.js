/* A party's page (the tickets booked together): everyone's QR code, moving or cancelling all of them
 * where the policy allows, and each member's own page to change one person alone. */
"use strict";

(function (A) {
  const $ = A.$;
  const data = document.body.dataset;
  const base = "/api/parties/" + encodeURIComponent(data.partyId);
  let party = null;

  /** The members a move or cancel of the whole party acts on, as the API names them: those still booked. */
  function live() {
    return party.reservations.filter((r) => party.still_booked.includes(r.reservation_id));
  }

  /** How many of the party are in already: a change of the party leaves them as they are. */
  function admitted() {
    return party.reservations.filter((r) => r.status === "VERIFIED").length;
  }

  /** How many of the party let their time pass without coming: a change of the party leaves them out too. */
  function expired() {
    return party.reservations.filter((r) => r.status === "EXPIRED").length;
  }

  /** Said after a change, beside what it did: those it left out because their visit had expired. */
  function expiredLeftOut() {
    return A.ngettext(
      "%(num)d person whose visit had expired is left out.",
      "%(num)d people whose visit had expired are left out.",
      expired());
  }

  /** The party's time: its first member still booked (or, with none, its first member). */
  function lead() {
    return live()[0] || party.reservations[0];
  }

  function sameTime(a, b) {
    return a.date === b.date && a.start_time === b.start_time && a.end_time === b.end_time;
  }

  const panels = A.changePanels({
    current: lead,
    code: () => lead().ticket.code,
    places: () => live().length,
    question: (from, to) => expired()
      ? A.ngettext(
        "Move the visit of the %(num)d person still booked from %(old)s to %(new)s?",
        "Move the visit of the %(num)d people still booked from %(old)s to %(new)s?",
        live().length, { old: from, new: to })
      : admitted()
      ? A.ngettext(
        "Move the visit of the %(num)d person not yet in from %(old)s to %(new)s?",
        "Move the visit of the %(num)d people not yet in from %(old)s to %(new)s?",
        live().length, { old: from, new: to })
      : A.ngettext(
        "Move the visit of %(num)d person from %(old)s to %(new)s?",
        "Move the visit of all %(num)d people from %(old)s to %(new)s?",
        live().length, { old: from, new: to }),
    move: (slot) => A.api("PUT", base, { body: { slot_id: slot.slot_id } }),
    cancel: () => A.api("DELETE", base),
    moved: (answer) => {
      party = answer;
      render();
      const when = A.visitWhen(lead());
      if (expired()) {
        done(A.ngettext(
          "The %(num)d person still booked is moved to %(when)s. Your QR codes stay the same.",
          "The %(num)d people still booked are moved to %(when)s. Your QR codes stay the same.",
          live().length, { when: when }) + " " + expiredLeftOut());
        return;
      }
      done(admitted()
        ? A.ngettext(
          "The %(num)d person not yet in is moved to %(when)s. Your QR codes stay the same.",
          "The %(num)d people not yet in are moved to %(when)s. Your QR codes stay the same.",
          live().length, { when: when })
        : A._("Everyone is moved to %(when)s. Your QR codes stay the same.", { when: when }));
    },
    cancelled: (answer) => {
      const booked = new Set(party.still_booked);
      party = answer;
      render();
      const cancelled = party.reservations.filter((r) => booked.has(r.reservation_id) && r.status === "CANCELLED");
      if (expired()) {
        done(A.ngettext(
          "The visit is cancelled for the %(num)d person who was still booked. The ticket can be booked for another time.",
          "The visit is cancelled for the %(num)d people who were still booked. The tickets can be booked for another time.",
          cancelled.length) + " " + expiredLeftOut());
        return;
      }
      done(admitted()
        ? A.ngettext(
          "The visit is cancelled for the %(num)d person not yet in. The ticket can be booked for another time.",
          "The visit is cancelled for the %(num)d people not yet in. The tickets can be booked for another time.",
          cancelled.length)
        : A._("The visit is cancelled for everyone in this group. The tickets can be booked for another time."));
    },
  });
  const cancelEveryone = $("cancel-question").textContent;

  function done(text) {
    A.setMessage($("details-message"), text, "ok");
    $("announce").textContent = text;
    A.focus($("details-title"));
  }

  // How many are in each state: "3 booked and 1 cancelled".
  const COUNTS = {
    RESERVED: (n) => A.ngettext("%(num)d booked", "%(num)d booked", n),
    VERIFIED: (n) => A.ngettext("%(num)d used for entry", "%(num)d used for entry", n),
    CANCELLED: (n) => A.ngettext("%(num)d cancelled", "%(num)d cancelled", n),
    EXPIRED: (n) => A.ngettext("%(num)d expired", "%(num)d expired", n),
  };
  const LIST = new Intl.ListFormat(A.locale, { style: "long", type: "conjunction" });

  function counts() {
    const tally = new Map();
    party.reservations.forEach((r) => tally.set(r.status, (tally.get(r.status) || 0) + 1));
    return LIST.format(Object.keys(COUNTS).filter((s) => tally.has(s)).map((s) => COUNTS[s](tally.get(s))));
  }

  function render() {
    const first = lead();
    const people = live();
    const body = $("details-body");
    body.replaceChildren(A.el("dl", { class: "summary" },
      A.el("dt", {}, A._("Venue")), A.el("dd", {}, first.venue.name),
      A.el("dt", {}, A._("Date")), A.el("dd", { id: "party-date" }, A.visitDay(first)),
      A.el("dt", {}, A._("Time")), A.el("dd", { id: "party-time" }, A.timeRange(first.start_time, first.end_time)),
      A.el("dt", {}, A._("People")), A.el("dd", { id: "party-counts" }, counts())));
    if (people.length && first.slot && first.slot.status === "CLOSED") {
      body.prepend(A.el("p", { class: "notice", id: "slot-closed" },
        A._("The venue has closed this time. Your tickets are still valid: please choose another time below.")));
    }
    // Some of the party are in already, or let their time pass: what a change of the party acts on is
    // said before it is asked.
    const cancelQuestion = $("cancel-question");
    cancelQuestion.textContent = cancelEveryone;
    if (people.length && expired()) {
      const others = [[admitted(), COUNTS.VERIFIED], [expired(), COUNTS.EXPIRED]].filter(([n]) => n).map(([n, count]) => count(n));
      body.append(A.el("p", { class: "notice", id: "party-scope" }, A.ngettext(
        "%(num)d of %(total)d still booked: moving or cancelling applies to that person only, not to the others (%(others)s).",
        "%(num)d of %(total)d still booked: moving or cancelling applies to them only, not to the others (%(others)s).",
        people.length, { total: people.length + admitted() + expired(), others: LIST.format(others) })));
      cancelQuestion.textContent = A.ngettext(
        "Cancel the visit of the %(num)d person still booked? Their place is given back and the ticket can be booked for another time.",
        "Cancel the visit of the %(num)d people still booked? Their places are given back and the tickets can be booked for another time.",
        people.length);
    } else if (people.length && admitted()) {
      body.append(A.el("p", { class: "notice", id: "party-scope" }, A.ngettext(
        "%(num)d of %(total)d not yet in: moving or cancelling applies to that person only, not to those already in.",
        "%(num)d of %(total)d not yet in: moving or cancelling applies to them only, not to those already in.",
        people.length, { total: people.length + admitted() })));
      cancelQuestion.textContent = A.ngettext(
        "Cancel the visit of the %(num)d person not yet in? Their place is given back and the ticket can be booked for another time.",
        "Cancel the visit of the %(num)d people not yet in? Their places are given back and the tickets can be booked for another time.",
        people.length);
    }
    if (people.length) {
      const calendarOf = "/api/reservations/" + encodeURIComponent(people[0].reservation_id) + "/calendar.ics";
      body.append(A.el("div", { class: "actions" },
        A.el("a", { class: "button", href: party.pdf_url, target: "_blank", rel: "noopener" }, A._("Printable tickets (PDF)")),
        A.el("a", { class: "button", href: calendarOf, download: "visit.ics" }, A._("Add to calendar"))));
    }
    renderMembers(first);
    panels.render(people.length > 0);
  }

  function renderMembers(first) {
    const list = $("member-list");
    list.replaceChildren();
    party.reservations.forEach((r, index) => {
      const shown = A.formatCode(r.ticket.code);
      const own = "/reserve/" + encodeURIComponent(r.reservation_id);
      const booked = r.status === "RESERVED";
      list.append(A.el("li", { "data-reservation-id": r.reservation_id, "data-status": r.status },
        A.el("h3", {}, A._("Person %(num)d", { num: index + 1 })),
        A.el("p", {}, A.el("span", { class: "status-pill " + r.status }, A.statusWord(r.status))),
        // Someone moved alone keeps their own time: show it where it is not the group's.
        sameTime(r, first) ? null : A.el("p", { class: "member-when" }, A.visitWhen(r)),
        r.status === "EXPIRED"
          ? A.el("p", { class: "member-expired" },
            A._("This person's visit has expired: its time passed without the ticket being used. Moving or cancelling the group leaves them out."))
          : null,
        booked
          ? A.el("img", {
            class: "qr", src: "/api/reservations/" + encodeURIComponent(r.reservation_id) + "/qr.png", width: "220", height: "220",
            alt: A._("QR code of ticket %(code)s", { code: shown }),
          })
          : null,
        A.el("p", {}, ...A.withElements(A._("Ticket %(code)s"), { code: A.el("span", { class: "ticket-code" }, shown) })),
        booked ? A.el("p", {}, A.el("a", { href: own }, A._("Move or cancel just this person"))) : null));
    });
    A.show($("members"), true);
  }

  async function load() {
    try {
      party = await A.api("GET", base);
      render();
    } catch (error) {
      A.setMessage($("details-message"), error.message);
      $("details-body").replaceChildren();
    }
  }

  load();
  A.showVenue(data.orq);
})(window.Admit);
