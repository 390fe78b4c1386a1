/* The admin page: the organization's policy, weekly slot schedules, one day's slots, and staff accounts. */
"use strict";

(function (A) {
  const $ = A.$;
  let session = null;

  function fail(where, error) {
    if (!error.handled) A.setMessage($(where), error.message + fieldList(error));
  }

  function fieldList(error) {
    const fields = (error.details && error.details.fields) || {};
    const names = Object.entries(fields).map(([name, why]) => name + ": " + why);
    return names.length ? " (" + names.join("; ") + ")" : "";
  }

  // ---- Policy ----
  function fillPolicy(policy) {
    const form = $("policy-form");
    form.elements.unreserved_entry.value = policy.unreserved_entry;
    form.elements.reservation_changes.value = policy.reservation_changes;
    form.elements.change_cutoff_hours.value = policy.change_cutoff_hours;
    form.elements.cancellation_allowed.checked = policy.cancellation_allowed;
    const byDay = policy.entry_window === "day";
    $("p-window-day").checked = byDay;
    $("p-window-minutes").checked = !byDay;
    $("p-before").value = byDay ? 30 : policy.entry_window.minutes_before_start;
    $("p-after").value = byDay ? 30 : policy.entry_window.minutes_after_end;
    windowInputs();
  }

  function windowInputs() {
    const byDay = $("p-window-day").checked;
    $("p-before").disabled = byDay;
    $("p-after").disabled = byDay;
  }
  $("p-window-day").addEventListener("change", windowInputs);
  $("p-window-minutes").addEventListener("change", windowInputs);

  async function loadOrganization() {
    const orq = session.operator.orq;
    try {
      const org = await session.call("GET", "/api/organizations/" + orq);
      $("org-title").textContent = org.name;
      $("org-line").textContent = A._("Organization %(number)s · time zone %(zone)s", { number: org.orq, zone: org.timezone });
      fillPolicy(org.policy);
      fillIdentity(org.identity);
    } catch (error) {
      fail("policy-message", error);
    }
  }

  // ---- The venue as visitors see it ----
  function fillIdentity(identity) {
    const form = $("identity-form");
    form.elements.display_name.value = identity.display_name || "";
    form.elements.address.value = identity.address || "";
    form.elements.opening_hours.value = identity.opening_hours || "";
    form.elements.brand_colour.value = identity.brand_colour || "";
    form.elements.default_language.value = identity.default_language;
    // The country chosen, or else the time zone's, named in the default choice.
    const byZone = identity.country_is_default;
    form.elements.country.value = byZone ? "" : identity.country;
    $("i-country-default").textContent = byZone && identity.country
      ? A._("From the time zone (%(country)s)", { country: identity.country }) : A._("From the time zone");
    A.show($("logo-preview"), Boolean(identity.logo_url));
    if (identity.logo_url) $("logo-preview").src = identity.logo_url;
    A.show($("logo-remove"), Boolean(identity.logo_url));
  }

  $("identity-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = {};
    ["display_name", "address", "opening_hours", "brand_colour", "country"].forEach((name) => {
      body[name] = form.elements[name].value.trim() || null;
    });
    body.default_language = form.elements.default_language.value;  // never empty: some language is the default
    try {
      const identity = await session.call("PATCH", "/api/organizations/" + session.operator.orq + "/identity", { body: body });
      fillIdentity(identity);
      A.setMessage($("identity-message"), A._("✓ Venue details saved."), "ok");
    } catch (error) {
      fail("identity-message", error);
    }
  });

  $("logo-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("logo-file").files[0];
    if (!file) {
      A.setMessage($("logo-message"), A._("Choose an image file first."));
      return;
    }
    try {
      const identity = await session.call("PUT", "/api/organizations/" + session.operator.orq + "/logo", { file: file });
      fillIdentity(identity);
      $("logo-file").value = "";
      A.setMessage($("logo-message"), A._("✓ Logo saved."), "ok");
    } catch (error) {
      fail("logo-message", error);
    }
  });

  $("logo-remove").addEventListener("click", async () => {
    try {
      fillIdentity(await session.call("DELETE", "/api/organizations/" + session.operator.orq + "/logo"));
      A.setMessage($("logo-message"), A._("✓ Logo removed."), "ok");
    } catch (error) {
      fail("logo-message", error);
    }
  });

  $("policy-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const cutoff = Number(form.elements.change_cutoff_hours.value);
    const body = {
      unreserved_entry: form.elements.unreserved_entry.value,
      reservation_changes: form.elements.reservation_changes.value,
      change_cutoff_hours: Number.isInteger(cutoff) ? cutoff : form.elements.change_cutoff_hours.value,
      cancellation_allowed: form.elements.cancellation_allowed.checked,
      entry_window: $("p-window-day").checked ? "day" : {
        minutes_before_start: Number($("p-before").value),
        minutes_after_end: Number($("p-after").value),
      },
    };
    try {
      const policy = await session.call("PATCH", "/api/organizations/" + session.operator.orq + "/policy", { body: body });
      fillPolicy(policy);
      A.setMessage($("policy-message"), A._("✓ Policy saved."), "ok");
    } catch (error) {
      fail("policy-message", error);
    }
  });

  // ---- Schedules ----
  $("schedule-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const weekdays = Array.from(form.querySelectorAll("input[name=weekday]:checked")).map((box) => Number(box.value));
    const body = {
      orq: session.operator.orq,
      from: form.elements.from.value,
      to: form.elements.to.value,
      weekdays: weekdays,
      first_start: form.elements.first_start.value,
      last_start: form.elements.last_start.value,
      every_minutes: Number(form.elements.every_minutes.value),
      duration_minutes: Number(form.elements.duration_minutes.value),
      total_capacity: Number(form.elements.total_capacity.value),
    };
    if (!body.from || !body.to || !weekdays.length) {
      A.setMessage($("schedule-message"), A._("Choose the first and last day and at least one weekday."));
      return;
    }
    try {
      const answer = await session.call("POST", "/api/reservation-slots/create", { body: body });
      const made = answer.slots.length;
      const skipped = answer.skipped_existing || 0;
      const clockChanges = (answer.skipped_clock_changes || []).map((s) => A.shortDate(s.date) + " " + A.clock(s.start_time));
      const told = [A.ngettext("✓ Created %(num)d slot.", "✓ Created %(num)d slots.", made)];
      if (skipped) {
        told.push(A.ngettext("%(num)d existed already and was skipped.", "%(num)d existed already and were skipped.", skipped));
      }
      if (clockChanges.length) told.push(A._("Skipped at a clock change: %(times)s.", { times: clockChanges.join(", ") }));
      A.setMessage($("schedule-message"), told.join(" "), "ok");
      if ($("slots-day").value >= body.from && $("slots-day").value <= body.to) loadSlots();
    } catch (error) {
      fail("schedule-message", error);
    }
  });

  // ---- One day's slots: capacity and closing ----
  // The day's live counts list every slot of a day, closed and started ones too, with its id.
  async function loadSlots() {
    const day = $("slots-day").value;
    try {
      const stats = await session.call("GET", "/api/operator/stats", { query: { date: day } });
      if (!day) $("slots-day").value = stats.date;
      if (!$("s-from").value) {
        $("s-from").value = stats.date;
        $("s-to").value = A.addDays(stats.date, 27);
      }
      const rows = stats.slots.map(slotRow);
      $("slots").replaceChildren(...rows);
      A.show($("slots-empty"), rows.length === 0);
    } catch (error) {
      fail("slots-message", error);
    }
  }

  const SLOT_STATUS = { ACTIVE: A._("active"), CLOSED: A._("closed") };

  function slotRow(slot) {
    const time = A.timeRange(slot.start_time, slot.end_time);
    const capacity = A.el("input", {
      type: "number", min: "0", max: "100000", value: String(slot.total_capacity),
      "aria-label": A._("Capacity of %(time)s", { time: time }),
    });
    const closed = slot.status === "CLOSED";
    const save = A.el("button", { type: "button", class: "button small" }, A._("Save"));
    const toggle = A.el("button", { type: "button", class: "button small" + (closed ? "" : " danger") },
      closed ? A._("Reopen") : A._("Close"));
    save.setAttribute("aria-label", A._("Save capacity of %(time)s", { time: time }));
    toggle.setAttribute("aria-label", closed ? A._("Reopen %(time)s", { time: time }) : A._("Close %(time)s", { time: time }));
    async function patch(body, done) {
      try {
        const changed = await session.call("PATCH", "/api/reservation-slots/" + slot.slot_id, { body: body });
        const told = body.notify
          ? " " + A.ngettext("%(num)d visitor told.", "%(num)d visitors told.", changed.notified) : "";
        A.setMessage($("slots-message"), done + told, "ok");
        loadSlots();
      } catch (error) {
        if (error.code === "SLOT_HAS_BOOKINGS") {
          // Visitors are booked: ask first, and offer to tell them (the server said how many).
          const choice = await askToClose(time, error.details.booked);
          if (choice) patch(Object.assign({}, body, { notify: choice.notify }), done);
          else toggle.focus();
          return;
        }
        if (error.code === "CAPACITY_BELOW_BOOKED") {
          const booked = error.details.booked_count;
          A.setMessage($("slots-message"), A._("%(time)s: %(reason)s", { time: time, reason: error.message }) + " " +
            A.ngettext("%(num)d visitor is booked. To have them move, close the slot and e-mail them.",
              "%(num)d visitors are booked. To have them move, close the slot and e-mail them.", booked));
          return;
        }
        fail("slots-message", error);
      }
    }
    save.addEventListener("click", () => patch({ total_capacity: Number(capacity.value) },
      A._("✓ %(time)s: capacity saved.", { time: time })));
    toggle.addEventListener("click", () => patch({ status: closed ? "ACTIVE" : "CLOSED" },
      closed ? A._("✓ %(time)s: reopened.", { time: time }) : A._("✓ %(time)s: closed for booking.", { time: time })));
    return A.el("tr", { "data-slot-id": String(slot.slot_id) },
      A.el("td", {}, time),
      A.el("td", {}, String(slot.booked_count)),
      A.el("td", {}, capacity),
      A.el("td", {}, SLOT_STATUS[slot.status] || slot.status.toLowerCase()),
      A.el("td", {}, A.el("div", { class: "actions" }, save, toggle)));
  }

  /** The confirm dialog for closing a booked slot: resolves to { notify } to close, or null to keep it. */
  function askToClose(time, booked) {
    const dialog = $("close-dialog");
    $("close-title").textContent = A._("Close %(time)s?", { time: time });
    $("close-text").textContent = A.ngettext(
      "%(num)d visitor is booked in this slot. Closing it takes no more bookings; their reservation stays until they choose another time.",
      "%(num)d visitors are booked in this slot. Closing it takes no more bookings; their reservations stay until they choose another time.",
      booked);
    $("close-notify-text").textContent = A.ngettext("E-mail them a link to choose another time",
      "E-mail the %(num)d a link to choose another time", booked);
    $("close-notify").checked = true;
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        resolve(dialog.returnValue === "close" ? { notify: $("close-notify").checked } : null);
      }, { once: true });
      dialog.showModal();
    });
  }

  // ---- Staff accounts: create, change role, new PIN, disable and enable ----
  const ROLES = ["operator", "manager", "admin"];
  const ROLE_NAMES = { operator: A._("operator"), manager: A._("manager"), admin: A._("admin") };

  async function loadStaff() {
    try {
      const answer = await session.call("GET", "/api/operators");
      $("staff").replaceChildren(...answer.operators.map(staffRow));
    } catch (error) {
      fail("staff-message", error);
    }
  }

  // One change to an account, then its message and the list read again.
  async function change(method, path, body, done) {
    try {
      const answer = await session.call(method, path, body === undefined ? {} : { body: body });
      A.setMessage($("staff-message"), done(answer), "ok");
      loadStaff();
    } catch (error) {
      fail("staff-message", error);
    }
  }

  function roleChanged(member) {
    const who = { username: member.username };
    if (member.role === "admin") return A._("✓ %(username)s is now an admin.", who);
    if (member.role === "manager") return A._("✓ %(username)s is now a manager.", who);
    return A._("✓ %(username)s is now an operator.", who);
  }

  function roleCell(member, self) {
    // No one changes their own role: an admin always remains.
    if (self) return A.el("span", {}, ROLE_NAMES[member.role] || member.role);
    const select = A.el("select", { class: "staff-role" },
      ...ROLES.map((role) => A.el("option", { value: role }, ROLE_NAMES[role])));
    select.value = member.role;
    select.setAttribute("aria-label", A._("Role of %(username)s", { username: member.username }));
    select.addEventListener("change", () => change("PATCH", "/api/operators/" + member.id, { role: select.value },
      (changed) => roleChanged(changed)));
    return select;
  }

  function staffRow(member) {
    const self = member.id === session.operator.id;
    const path = "/api/operators/" + member.id;
    const action = member.disabled ? "enable" : "disable";
    const who = { username: member.username };
    const toggle = A.el("button", { type: "button", class: "button small" + (member.disabled ? "" : " danger") },
      member.disabled ? A._("Enable") : A._("Disable"));
    toggle.setAttribute("aria-label", member.disabled ? A._("Enable %(username)s", who) : A._("Disable %(username)s", who));
    toggle.addEventListener("click", () => change("POST", path + "/" + action, undefined,
      () => (member.disabled ? A._("✓ %(username)s is enabled.", who) : A._("✓ %(username)s is disabled.", who))));
    const pin = A.el("button", { type: "button", class: "button small" }, A._("New PIN"));
    pin.setAttribute("aria-label", A._("New PIN for %(username)s", who));
    pin.addEventListener("click", () => change("POST", path + "/pin", {},
      (answer) => A._("New PIN for %(username)s: %(pin)s. It is shown only now: give it to them; their current logins have ended.",
        { username: member.username, pin: answer.generated_pin })));
    // Not for oneself: disabling is refused (no one would be left to undo it), and a new PIN would end
    // this very login.
    // Translators: in the admin's own row of the staff accounts, instead of the buttons.
    const actions = self ? [A.el("span", { class: "muted" }, A._("you"))] : [pin, toggle];
    return A.el("tr", { "data-operator-id": String(member.id), "data-username": member.username },
      A.el("td", { class: "staff-member" }, member.name, A.el("div", { class: "muted" }, member.username)),
      A.el("td", {}, roleCell(member, self)),
      A.el("td", { class: "staff-status" }, member.disabled ? A._("disabled") : A._("active")),
      A.el("td", {}, A.el("div", { class: "actions" }, ...actions)));
  }

  $("staff-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const value = (name) => form.elements[name].value.trim() || undefined;
    const body = {
      username: form.elements.username.value,
      name: value("name"),
      role: form.elements.role.value,
      pin: value("pin"),
      password: form.elements.password.value || undefined,
    };
    try {
      const created = await session.call("POST", "/api/operators", { body: body });
      A.setMessage($("staff-message"), A._("✓ %(username)s can now log in as %(role)s.",
        { username: created.username, role: ROLE_NAMES[created.role] || created.role }), "ok");
      form.reset();
      loadStaff();
    } catch (error) {
      fail("staff-message", error);
    }
  });

  $("slots-day-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadSlots();
  });

  session = A.staffPage({
    minRole: "admin",
    onReady: () => {
      A.show($("admin"), true);
      setTimeout(() => {
        loadOrganization();
        loadSlots();
        loadStaff();
      }, 0);
    },
    onLogout: () => A.show($("admin"), false),
  });
})(window.Admit);
