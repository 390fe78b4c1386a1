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
      $("org-line").textContent = "Organization " + org.orq + " · time zone " + org.timezone;
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
    // The country chosen, or else the time zone's, named in the default choice.
    const byZone = identity.country_is_default;
    form.elements.country.value = byZone ? "" : identity.country;
    $("i-country-default").textContent = "From the time zone" + (byZone && identity.country ? " (" + identity.country + ")" : "");
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
    try {
      const identity = await session.call("PATCH", "/api/organizations/" + session.operator.orq + "/identity", { body: body });
      fillIdentity(identity);
      A.setMessage($("identity-message"), "✓ Venue details saved.", "ok");
    } catch (error) {
      fail("identity-message", error);
    }
  });

  $("logo-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("logo-file").files[0];
    if (!file) {
      A.setMessage($("logo-message"), "Choose an image file first.");
      return;
    }
    try {
      const identity = await session.call("PUT", "/api/organizations/" + session.operator.orq + "/logo", { file: file });
      fillIdentity(identity);
      $("logo-file").value = "";
      A.setMessage($("logo-message"), "✓ Logo saved.", "ok");
    } catch (error) {
      fail("logo-message", error);
    }
  });

  $("logo-remove").addEventListener("click", async () => {
    try {
      fillIdentity(await session.call("DELETE", "/api/organizations/" + session.operator.orq + "/logo"));
      A.setMessage($("logo-message"), "✓ Logo removed.", "ok");
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
      A.setMessage($("policy-message"), "✓ Policy saved.", "ok");
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
      A.setMessage($("schedule-message"), "Choose the first and last day and at least one weekday.");
      return;
    }
    try {
      const answer = await session.call("POST", "/api/reservation-slots/create", { body: body });
      const made = answer.slots.length;
      const skipped = answer.skipped_existing || 0;
      const clockChanges = (answer.skipped_clock_changes || []).map((s) => s.date + " " + s.start_time);
      A.setMessage($("schedule-message"), "✓ Created " + made + " slot" + (made === 1 ? "" : "s") +
        (skipped ? "; " + skipped + " existed already and were skipped" : "") +
        (clockChanges.length ? "; skipped at a clock change: " + clockChanges.join(", ") : "") + ".", "ok");
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

  function slotRow(slot) {
    const time = A.timeRange(slot.start_time, slot.end_time);
    const capacity = A.el("input", {
      type: "number", min: "0", max: "100000", value: String(slot.total_capacity), "aria-label": "Capacity of " + time,
    });
    const closed = slot.status === "CLOSED";
    const save = A.el("button", { type: "button", class: "button small" }, "Save");
    const toggle = A.el("button", { type: "button", class: "button small" + (closed ? "" : " danger") }, closed ? "Reopen" : "Close");
    save.setAttribute("aria-label", "Save capacity of " + time);
    toggle.setAttribute("aria-label", (closed ? "Reopen " : "Close ") + time);
    async function patch(body, done) {
      try {
        const changed = await session.call("PATCH", "/api/reservation-slots/" + slot.slot_id, { body: body });
        const told = body.notify ? " " + visitors(changed.notified) + " told." : "";
        A.setMessage($("slots-message"), "✓ " + time + ": " + done + told, "ok");
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
          A.setMessage($("slots-message"), time + ": " + error.message + " " + visitors(error.details.booked_count) +
            " booked. To have them move, close the slot and e-mail them.");
          return;
        }
        fail("slots-message", error);
      }
    }
    save.addEventListener("click", () => patch({ total_capacity: Number(capacity.value) }, "capacity saved."));
    toggle.addEventListener("click", () => patch({ status: closed ? "ACTIVE" : "CLOSED" }, closed ? "reopened." : "closed for booking."));
    return A.el("tr", { "data-slot-id": String(slot.slot_id) },
      A.el("td", {}, time),
      A.el("td", {}, String(slot.booked_count)),
      A.el("td", {}, capacity),
      A.el("td", {}, slot.status.toLowerCase()),
      A.el("td", {}, A.el("div", { class: "actions" }, save, toggle)));
  }

  function visitors(count) {
    return count + (count === 1 ? " visitor" : " visitors");
  }

  /** The confirm dialog for closing a booked slot: resolves to { notify } to close, or null to keep it. */
  function askToClose(time, booked) {
    const dialog = $("close-dialog");
    $("close-title").textContent = "Close " + time + "?";
    $("close-text").textContent = visitors(booked) + (booked === 1 ? " is" : " are") + " booked in this slot. " +
      "Closing it takes no more bookings; their reservations stay until they choose another time.";
    $("close-notify-text").textContent = "E-mail " + (booked === 1 ? "them" : "the " + booked) +
      " a link to choose another time";
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

  function roleCell(member, self) {
    if (self) return A.el("span", {}, member.role);  // no one changes their own role: an admin always remains
    const select = A.el("select", { class: "staff-role" },
      ...ROLES.map((role) => A.el("option", { value: role }, role)));
    select.value = member.role;
    select.setAttribute("aria-label", "Role of " + member.username);
    select.addEventListener("change", () => change("PATCH", "/api/operators/" + member.id, { role: select.value },
      (changed) => "✓ " + changed.username + " is now " + (changed.role === "operator" ? "an " : "a ") + changed.role + "."));
    return select;
  }

  function staffRow(member) {
    const self = member.id === session.operator.id;
    const path = "/api/operators/" + member.id;
    const action = member.disabled ? "enable" : "disable";
    const toggle = A.el("button", { type: "button", class: "button small" + (member.disabled ? "" : " danger") },
      member.disabled ? "Enable" : "Disable");
    toggle.setAttribute("aria-label", (member.disabled ? "Enable " : "Disable ") + member.username);
    toggle.addEventListener("click", () => change("POST", path + "/" + action, undefined,
      () => "✓ " + member.username + " is " + action + "d."));
    const pin = A.el("button", { type: "button", class: "button small" }, "New PIN");
    pin.setAttribute("aria-label", "New PIN for " + member.username);
    pin.addEventListener("click", () => change("POST", path + "/pin", {},
      (answer) => "New PIN for " + member.username + ": " + answer.generated_pin +
        ". It is shown only now: give it to them; their current logins have ended."));
    // Not for oneself: disabling is refused (no one would be left to undo it), and a new PIN would end
    // this very login.
    const actions = self ? [A.el("span", { class: "muted" }, "you")] : [pin, toggle];
    return A.el("tr", { "data-operator-id": String(member.id), "data-username": member.username },
      A.el("td", { class: "staff-member" }, member.name, A.el("div", { class: "muted" }, member.username)),
      A.el("td", {}, roleCell(member, self)),
      A.el("td", { class: "staff-status" }, member.disabled ? "disabled" : "active"),
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
      A.setMessage($("staff-message"), "✓ " + created.username + " can now log in as " + created.role + ".", "ok");
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
