/* The door's scanner: camera or typed code → verdict in its colour. Admit on scan (the default, per
   device): a GREEN lets the visitor in with the scan itself, shows ADMITTED for a moment and goes back
   to the camera; a YELLOW that allows entry waits for one tap. Check only: verdict, then Mark as Verified.
   Its words are the page's language (the operator's, apart from the visitors'), from the door's catalogue. */
"use strict";

(function (A) {
  const $ = A.$;
  const DEVICE_KEY = "admit.device_id";
  const SOUND_KEY = "admit.sound";
  const CAMERA_KEY = "admit.camera";
  const CAMERA_DEVICE_KEY = "admit.camera_device"; // the camera chosen on this device, front or back
  const MODE_KEY = "admit.door_mode"; // "admit" (on scan, the default) or "check"
  const ADMITTED_MS = 1500; // how long ADMITTED stays before the camera is back
  const SAME_CODE_GONE_MS = 2000; // how long a code must be out of the camera's sight to be scanned again
  const ICONS = { GREEN: "✓", YELLOW: "!", RED: "✕" };
  // A tone pattern and a vibration per colour: told apart without looking, and without colour.
  const TONES = {
    GREEN: [[880, 0.12, "sine"], [1320, 0.18, "sine"]],
    YELLOW: [[660, 0.14, "triangle"], [0, 0.08], [660, 0.14, "triangle"]],
    RED: [[196, 0.5, "square"]],
  };
  const VIBRATION = { GREEN: [80], YELLOW: [120, 80, 120], RED: [400, 100, 400] };
  const N_ = (message) => message; // marks a word for the catalogues; A._ translates it where it is shown
  const NEEDS_CONNECTION = N_("Finding a visitor needs the connection: ask for the ticket code instead.");
  // The verdict's colour as a screen reader says it.
  const RESULTS = { GREEN: N_("Green"), YELLOW: N_("Yellow"), RED: N_("Red") };
  // Translators: a ticket's status in the verdict's details, after its code: "…K7QX · reserved · active".
  const STATUSES = {
    PENDING_PAYMENT: N_("payment pending"),
    INACTIVE: N_("not activated"),
    ACTIVATED: N_("activated"),
    RESERVED: N_("reserved"),
    VERIFIED: N_("verified"),
    EXPIRED: N_("expired"),
    VOID: N_("cancelled"),
    CANCELLED: N_("cancelled"),
    inactive: N_("inactive"),
    active: N_("active"),
  };

  function word(table, key) {
    return table[key] ? A._(table[key]) : String(key || "").toLowerCase().replace("_", " ");
  }

  // The venue's choices, written into the page by the server (and kept with it for offline loads).
  const SWITCH_MS = Number(document.body.dataset.offlineSwitchMs) || 1500;
  const STALE_MS = (Number(document.body.dataset.offlineStaleMinutes) || 30) * 60 * 1000;

  let session = null;
  let current = null; // { code, by, verdict }: `code` as shown, `by` as sent (see scanOnline)
  let audio = null;
  let door = null; // the offline door (offline-door.mjs) while someone is logged in
  let admittedTimer = null;
  let leaveAdmitted = null; // ADMITTED's way back to the scanner: when its moment is over, or Scan next sooner

  function deviceId() {
    let id = localStorage.getItem(DEVICE_KEY);
    if (!id) {
      id = "web-" + A.randomId();
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  }

  // ---- Admit on scan, or check first ----
  const admitToggle = $("admit-toggle");
  admitToggle.checked = localStorage.getItem(MODE_KEY) !== "check";
  admitToggle.addEventListener("change", () => {
    localStorage.setItem(MODE_KEY, admitToggle.checked ? "admit" : "check");
  });

  // ---- Sound and vibration ----
  const soundToggle = $("sound-toggle");
  soundToggle.checked = localStorage.getItem(SOUND_KEY) !== "off";
  soundToggle.addEventListener("change", () => {
    localStorage.setItem(SOUND_KEY, soundToggle.checked ? "on" : "off");
    unlockAudio();
  });

  /** Browsers start audio only after a gesture: every tap on this page may unlock it. */
  function unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
  }
  document.addEventListener("pointerdown", unlockAudio, { passive: true });
  document.addEventListener("keydown", unlockAudio);

  function signal(result) {
    if (navigator.vibrate) navigator.vibrate(VIBRATION[result] || 0);
    if (!soundToggle.checked || !audio || audio.state !== "running") return;
    let at = audio.currentTime + 0.01;
    (TONES[result] || []).forEach(([frequency, length, wave]) => {
      if (frequency) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.type = wave;
        oscillator.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.25, at + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(at);
        oscillator.stop(at + length + 0.02);
      }
      at += length;
    });
  }

  // ---- Screens ----
  /** The scanner again, with what just happened; `letIn`, the verdict that let a visitor in (after
      ADMITTED, or Mark as Verified when checking first), gives the line of their party, counting them,
      for the operator to know how many more to expect. */
  function showScan(statusText, letIn) {
    current = null;
    clearTimeout(admittedTimer);
    leaveAdmitted = null;
    const party = letIn && letIn.reservation && letIn.reservation.party;
    const verdict = $("verdict");
    verdict.hidden = true;
    verdict.removeAttribute("data-result");
    verdict.removeAttribute("data-code");
    verdict.removeAttribute("data-admitted");
    A.show($("scan"), true);
    A.setMessage($("scan-status"), statusText || "", statusText ? "ok" : null);
    const partyLine = $("scan-party");
    partyLine.textContent = partyText(party);
    partyLine.hidden = !party;
    if (statusText) $("announce").textContent = [statusText, partyLine.textContent].filter(Boolean).join(" ");
    const input = $("manual-code");
    input.value = "";
    $("manual-error").textContent = "";
    input.removeAttribute("aria-invalid");
    clearFind();
    camera.resume();
    if (!camera.running) input.focus();
  }

  function hideAll() {
    A.show($("scan"), false);
    $("verdict").hidden = true;
    camera.stop();
  }

  function detail(list, term, value) {
    if (!value) return;
    list.append(A.el("dt", {}, term), A.el("dd", {}, value));
  }

  function reservationText(reservation) {
    if (!reservation) return "";
    return A.longDate(reservation.date) + ", " + A.timeRange(reservation.start_time, reservation.end_time);
  }

  /** "Party of 4 · 2 in": how many more of the party to expect; "" for a visitor booked alone. */
  function partyText(party) {
    if (!party) return "";
    // Translators: under the slot at the door: the visitor's party booked together, and how many of it are in.
    return A._("Party of %(size)s · %(admitted)s in", { size: party.size, admitted: party.admitted });
  }

  /** The party line under the slot of a GREEN or an ADMITTED. */
  function showParty(verdict, admitted) {
    const line = $("verdict-party");
    const party = verdict.reservation && verdict.reservation.party;
    const shown = Boolean(party) && (admitted || verdict.result === "GREEN");
    line.textContent = shown ? partyText(party) : "";
    line.hidden = !shown;
    return line.textContent;
  }

  function showVerdict(code, verdict, by) {
    current = { code: code, by: by || { code: code }, verdict: verdict };
    clearTimeout(admittedTimer);
    leaveAdmitted = null;
    camera.pause();
    A.show($("scan"), false);
    const root = $("verdict");
    root.dataset.result = verdict.result;
    root.dataset.code = verdict.code;
    root.dataset.admitted = "false";
    root.dataset.offline = verdict.offline ? "true" : "false";
    $("verdict-icon").textContent = ICONS[verdict.result] || "";
    $("verdict-title").textContent = verdict.title;
    $("verdict-message").textContent = verdict.message;
    const party = showParty(verdict, false);
    A.setMessage($("verdict-error"), "");
    const list = $("verdict-details");
    list.replaceChildren();
    const ticket = verdict.ticket;
    // Translators: the labels of the verdict's details: when the visit is reserved for, who booked it.
    detail(list, A._("Reserved"), reservationText(verdict.reservation));
    if (verdict.customer) {
      detail(list, A._("Customer"), verdict.customer.email);
      detail(list, A._("Phone"), verdict.customer.phone);
    }
    if (verdict.offline) {
      detail(list, A._("Decided"), A._("offline, on this device"));
    }
    if (verdict.verified_at) {
      const time = A.clockTime(verdict.verified_at);
      detail(list, A._("Verified"), verdict.verified_by
        ? A._("%(time)s by %(name)s", { time: time, name: verdict.verified_by })
        : time);
    }
    if (ticket) {
      const activation = ticket.activation_status && word(STATUSES, ticket.activation_status);
      detail(list, A._("Ticket"), ["…" + (ticket.code_suffix || A.normaliseCode(code).slice(-4)),
        word(STATUSES, ticket.status), activation].filter(Boolean).join(" · "));
    } else {
      detail(list, A._("Code"), A.normaliseCode(code).slice(0, 24));
    }
    // Translators: whether the visitor may go in: "Entry: allowed", "Entry: not allowed".
    detail(list, A._("Entry"), verdict.entry_allowed ? A._("allowed") : A._("not allowed"));
    const verify = $("verify");
    const mayVerify = verdict.can_verify && verdict.code !== "ALREADY_VERIFIED";
    // In the one-scan mode only a warning is left to confirm: a tap lets the visitor in.
    verify.textContent = admitToggle.checked && verdict.result === "YELLOW" ? A._("Let in") : A._("Mark as Verified");
    A.show(verify, mayVerify);
    verify.disabled = false;
    root.hidden = false;
    $("announce").textContent = [A._("%(result)s: %(title)s. %(message)s", {
      result: word(RESULTS, verdict.result),
      title: verdict.title,
      message: verdict.message,
    }), party].filter(Boolean).join(" ");
    signal(verdict.result);
    (mayVerify ? verify : $("next")).focus();
  }

  /** The visitor is in: ADMITTED in green with the slot, for a moment, then the camera again. */
  function showAdmitted(code, verdict, by) {
    showVerdict(code, verdict, by);
    current = null;
    const root = $("verdict");
    root.dataset.admitted = "true";
    // Translators: the verdict title once the visitor is let in, in huge letters: short, in capitals.
    $("verdict-title").textContent = A._("ADMITTED");
    $("verdict-icon").textContent = ICONS.GREEN;
    $("verdict-message").textContent = verdict.reservation
      ? A.timeRange(verdict.reservation.start_time, verdict.reservation.end_time)
      : verdict.message;
    A.show($("verify"), false);
    const party = showParty(verdict, true);
    $("announce").textContent = [A._("Admitted. %(message)s", { message: verdict.message }), party].filter(Boolean).join(" ");
    $("next").focus();
    const suffix = (verdict.ticket && verdict.ticket.code_suffix) || A.normaliseCode(code).slice(-4);
    const values = { suffix: suffix, time: verdict.verified_at ? A.clockTime(verdict.verified_at) : "" };
    let text;
    if (verdict.offline) {
      text = values.time
        ? A._("✓ Admitted: ticket …%(suffix)s at %(time)s (offline: sent to the server when the connection is back).", values)
        : A._("✓ Admitted: ticket …%(suffix)s (offline: sent to the server when the connection is back).", values);
    } else {
      text = values.time
        ? A._("✓ Admitted: ticket …%(suffix)s at %(time)s.", values)
        : A._("✓ Admitted: ticket …%(suffix)s.", values);
    }
    leaveAdmitted = () => showScan(text, verdict);
    admittedTimer = setTimeout(leaveAdmitted, ADMITTED_MS);
  }

  /** A scan of a code, from the camera or typed. */
  async function scan(raw) {
    const code = raw.trim();
    if (!code) {
      $("manual-error").textContent = A._("Type the ticket code, or scan its QR code.");
      $("manual-code").setAttribute("aria-invalid", "true");
      $("manual-code").focus();
      return;
    }
    if (door && door.offline) {
      await scanOffline(code, false);
      return;
    }
    await scanOnline({ code: code }, code, false);
  }

  /** A visitor picked from a search, by the reference the search gave (the page never holds a found
      visitor's code, so this needs the server), and never admitted with the tap itself: the operator
      sees the verdict, then lets them in. */
  async function scanFound(found) {
    if (door && door.offline) {
      $("find-error").textContent = A._(NEEDS_CONNECTION);
      return;
    }
    await scanOnline({ ref: found.ref }, found.code_suffix, true);
  }

  /** The server's verdict for the ticket `by` its { code } or a search's { ref }; `code` is what the
      screen shows of it. `check`: never admit with the scan itself. */
  async function scanOnline(by, code, check) {
    const body = Object.assign({ nonce: A.randomId(), device_id: deviceId() }, by);
    // Admit on scan: one call lets a GREEN in; a YELLOW comes back for the operator to confirm.
    const admitting = admitToggle.checked && !check;
    const path = admitting ? "/venue/scan" : "/api/operator/validate-ticket";
    if (admitting) Object.assign(body, { action: "admit", admit_warnings: false });
    try {
      const verdict = await session.call("POST", path, { body: body, timeoutMs: door ? SWITCH_MS : undefined });
      if (verdict.verified_now) showAdmitted(code, verdict, by);
      else showVerdict(code, verdict, by);
    } catch (error) {
      if (error.handled) return;
      const unreachable = door && door.unreachable(error);
      if (unreachable) door.goOffline(); // no answer in time: this scan and the next are decided here
      if (by.ref) {
        $("find-error").textContent = unreachable
          ? A._(NEEDS_CONNECTION)
          : A._("Could not check the ticket: %(reason)s", { reason: error.message });
        return;
      }
      if (unreachable) {
        await scanOffline(code, check);
        return;
      }
      A.setMessage($("scan-status"), A._("Could not check the ticket: %(reason)s", { reason: error.message }));
      camera.resume();
    }
  }

  /** The verdict by the door's rules on this device, recorded for the server as an offline scan. */
  async function scanOffline(code, check) {
    const verdict = await door.decide(code);
    if (admitToggle.checked && !check && verdict.result === "GREEN" && verdict.can_verify) {
      await admitOffline(code, verdict);
      return;
    }
    showVerdict(code, verdict);
    try {
      await door.record(code, verdict, "validate");
    } catch (error) {
      A.setMessage($("verdict-error"), A._("This scan could not be kept on the device: %(reason)s", { reason: error.message }));
    }
  }

  /** Let in with no server: queued for it, and marked on the device so a second scan here is YELLOW. */
  async function admitOffline(code, verdict) {
    let kept;
    try {
      kept = await door.record(code, verdict, "admit");
    } catch (error) {
      showVerdict(code, verdict);
      A.setMessage($("verdict-error"), A._("Not verified: this device could not keep the scan (%(reason)s).", { reason: error.message }));
      return;
    }
    const at = kept.mark.verified_at_local;
    const reservation = verdict.reservation &&
      Object.assign({}, verdict.reservation, { party: door.admittedParty(verdict.reservation.party) });
    const letIn = Object.assign({}, verdict, { verified_at: at, reservation: reservation });
    if (admitToggle.checked) showAdmitted(code, letIn);
    else {
      showScan(A._("✓ Verified offline: ticket …%(suffix)s at %(time)s. It is sent to the server when the connection is back.", {
        suffix: verdict.ticket.code_suffix,
        time: A.clockTime(at),
      }), letIn);
    }
  }

  /** Mark as Verified with no server: decided again at this moment, queued, and marked on the device. */
  async function verifyOffline(code) {
    const verdict = await door.decide(code);
    if (!verdict.can_verify || verdict.code === "ALREADY_VERIFIED") {
      showVerdict(code, verdict); // it changed since it was shown: show why now
      return;
    }
    await admitOffline(code, verdict);
  }

  // ---- Find a visitor without their QR: today's and tomorrow's bookings ----
  function clearFind() {
    $("find-q").value = "";
    $("find-q").removeAttribute("aria-invalid");
    $("find-error").textContent = "";
    $("find-status").textContent = "";
    $("find-results").replaceChildren();
  }

  function foundItem(found) {
    // The API says whether the day is the venue's today or tomorrow.
    const today = found.day === "tomorrow" ? A.addDays(found.date, -1) : found.date;
    const when = A.when(found.date, found.start_time, found.end_time, today, { opening: true, short: true });
    const party = A.ngettext("%(num)d person", "party of %(num)d", found.party);
    const status = found.status === "VERIFIED" ? A._("already in") : word(STATUSES, found.status);
    const button = A.el("button", { type: "button", class: "button find-pick" },
      A.el("strong", {}, when),
      A.el("span", {}, [found.email, found.phone, party].join(" · ")),
      A.el("span", { class: "muted" }, A._("ticket …%(suffix)s", { suffix: found.code_suffix }) + " · " + status));
    button.addEventListener("click", () => scanFound(found));
    return A.el("li", {}, button);
  }

  $("find-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("find-q");
    const q = input.value.trim();
    const error = $("find-error");
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    $("find-results").replaceChildren();
    if (q.length < 4) {
      error.textContent = A._("Type at least 4 characters of the e-mail, phone or ticket code.");
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    if (door && door.offline) {
      error.textContent = A._(NEEDS_CONNECTION);
      return;
    }
    $("find-status").textContent = A._("Searching…");
    try {
      const answer = await session.call("GET", "/api/operator/search", { query: { q: q } });
      $("find-results").replaceChildren(...answer.results.map(foundItem));
      const count = answer.results.length;
      let found = A.ngettext("%(num)d booking found.", "%(num)d bookings found.", count);
      if (answer.more) found = A.ngettext("%(num)d booking shown; more match: type more.", "%(num)d bookings shown; more match: type more.", count);
      $("find-status").textContent = count === 0 ? A._("No booking today or tomorrow matches.") : found;
    } catch (failure) {
      $("find-status").textContent = "";
      if (failure.handled) return;
      const fields = (failure.details && failure.details.fields) || {};
      // The API's own words for the query (in the page's language), as a sentence.
      const refusal = fields.q && fields.q.charAt(0).toUpperCase() + fields.q.slice(1) + ".";
      error.textContent = refusal || A._("Could not search: %(reason)s", { reason: failure.message });
    }
  });

  $("manual-form").addEventListener("submit", (event) => {
    event.preventDefault();
    scan($("manual-code").value);
  });

  $("verify").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    if (!current) return;
    button.disabled = true;
    const code = current.code;
    const by = current.by;
    const offline = door && (door.offline || current.verdict.offline);
    if (offline && by.ref) {
      notVerifiedOffline(button); // a visitor found by a search: this device has no code to decide by
      return;
    }
    if (offline) {
      await verifyOffline(code);
      return;
    }
    try {
      const verdict = await session.call("POST", "/api/operator/verify-ticket", {
        body: Object.assign({ nonce: A.randomId(), device_id: deviceId() }, by),
        timeoutMs: door ? SWITCH_MS : undefined,
      });
      if (admitToggle.checked && verdict.verified_now) {
        showAdmitted(code, verdict, by);
        return;
      }
      const suffix = (verdict.ticket && verdict.ticket.code_suffix) || A.normaliseCode(code).slice(-4);
      const text = verdict.code === "ALREADY_VERIFIED"
        ? A._("Already verified: ticket …%(suffix)s (%(message)s).", { suffix: suffix, message: verdict.message })
        : A._("✓ Verified: ticket …%(suffix)s at %(time)s. Ready for the next ticket.", {
          suffix: suffix,
          time: A.clockTime(verdict.verified_at),
        });
      showScan(text, verdict.verified_now ? verdict : null);
    } catch (error) {
      if (error.handled) return;
      if (door && door.unreachable(error)) {
        door.goOffline();
        if (by.ref) notVerifiedOffline(button);
        else await scanOffline(code); // decided again here; Mark as Verified then queues the admit
        return;
      }
      if (error.status === 409 && error.details && error.details.result) {
        showVerdict(code, error.details, by); // the ticket changed since it was scanned: show why now
      } else {
        A.setMessage($("verdict-error"), A._("Not verified: %(reason)s", { reason: error.message }));
        button.disabled = false;
      }
    }
  });

  function notVerifiedOffline(button) {
    A.setMessage($("verdict-error"), A._(NEEDS_CONNECTION));
    button.disabled = false; // for when the connection is back
  }

  /** Back to scanning from a verdict; from ADMITTED, as its own timer would have gone back. */
  function scanNext() {
    if (leaveAdmitted) leaveAdmitted();
    else showScan("");
  }

  $("next").addEventListener("click", scanNext);
  document.addEventListener("keydown", (event) => {
    if ($("verdict").hidden) return;
    if (event.key === "Escape") {
      scanNext();
      return;
    }
    // A hand-held scanner types its code and Enter as a keyboard would. Typed while a verdict shows, the
    // next code goes to the code field, the verdict left as Scan next leaves it, instead of its Enter
    // pressing the focused button: Let in would admit the last visitor, whom nobody decided on. A space
    // is the keyboard's own press of that button, and never in a code.
    const typed = event.key.length === 1 && event.key !== " " && !event.ctrlKey && !event.metaKey && !event.altKey;
    if (typed && !event.target.matches("input, textarea, select")) {
      scanNext();
      $("manual-code").focus();
    }
  });

  // ---- Camera: BarcodeDetector where the browser has it, the vendored jsQR elsewhere ----
  const camera = (function () {
    const video = $("camera-video");
    const view = $("camera-view");
    const toggle = $("camera-toggle");
    const message = $("camera-message");
    const controls = $("camera-controls");
    const choice = $("camera-choice");
    const torch = $("torch-toggle");
    const canvas = document.createElement("canvas");
    const context2d = canvas.getContext("2d", { willReadFrequently: true });
    let stream = null;
    let paused = false;
    let decode = null;
    let timer = null;
    let last = { text: "", at: 0 };

    function loadJsQR() {
      if (window.jsQR) return Promise.resolve(window.jsQR);
      return new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = "/static/vendor/jsQR.js";
        script.onload = () => resolve(window.jsQR);
        script.onerror = () => reject(new Error(A._("The QR decoder could not be loaded.")));
        document.head.append(script);
      });
    }

    async function decoder() {
      if ("BarcodeDetector" in window) {
        try {
          const formats = await window.BarcodeDetector.getSupportedFormats();
          if (formats.includes("qr_code")) {
            const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
            return async () => {
              const found = await detector.detect(video);
              return found.length ? found[0].rawValue : null;
            };
          }
        } catch (_unsupported) {
          /* fall back to jsQR */
        }
      }
      const jsQR = await loadJsQR();
      return async () => {
        const width = video.videoWidth;
        const height = video.videoHeight;
        if (!width || !height) return null;
        const scale = Math.min(1, 640 / Math.max(width, height));
        canvas.width = Math.round(width * scale);
        canvas.height = Math.round(height * scale);
        context2d.drawImage(video, 0, 0, canvas.width, canvas.height);
        const image = context2d.getImageData(0, 0, canvas.width, canvas.height);
        const found = jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
        return found ? found.data : null;
      };
    }

    async function tick() {
      timer = null;
      if (!stream || paused) return;
      try {
        const text = await decode();
        const now = Date.now();
        // A code that stays in front of the lens after its verdict (a visitor lingering with the phone up)
        // is not a new scan: it counts again only once it has been out of sight for a moment.
        const sameShowing = text === last.text && now - last.at < SAME_CODE_GONE_MS;
        if (text) last = { text: text, at: now };
        if (text && !paused && !sameShowing) {
          scan(text);
          return;
        }
      } catch (_frame) {
        /* a frame that cannot be read yet */
      }
      timer = setTimeout(tick, 200);
    }

    async function start() {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        message.textContent = window.isSecureContext
          ? A._("This browser cannot use the camera: type the code below.")
          : A._("The camera needs a secure (https) connection: type the code below.");
        return;
      }
      toggle.disabled = true;
      message.textContent = A._("Starting the camera…");
      try {
        stream = await open(localStorage.getItem(CAMERA_DEVICE_KEY));
        video.srcObject = stream;
        await video.play();
        decode = await decoder();
        A.show(view, true);
        toggle.textContent = A._("Stop camera");
        message.textContent = A._("Hold the QR code in the frame.");
        localStorage.setItem(CAMERA_KEY, "on");
        paused = !$("verdict").hidden;
        showControls().catch(() => A.show(controls, false));
        tick();
      } catch (error) {
        stop();
        message.textContent = A._("The camera could not start (%(reason)s): type the code below.", { reason: error.message || error.name });
      } finally {
        toggle.disabled = false;
      }
    }

    /** The chosen camera, else the one facing away from the operator (the back of a phone). */
    async function open(deviceId) {
      if (deviceId) {
        try {
          return await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: deviceId } }, audio: false });
        } catch (_gone) {
          localStorage.removeItem(CAMERA_DEVICE_KEY); // unplugged, or another device's id
        }
      }
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }

    /** A choice of camera where there are several, and the torch where the camera has one. */
    async function showControls() {
      const track = stream && stream.getVideoTracks()[0];
      if (!track) return;
      const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
      const current = track.getSettings ? track.getSettings().deviceId : "";
      choice.replaceChildren(...cameras.map((camera, n) => {
        const option = A.el("option", { value: camera.deviceId }, camera.label || A._("Camera %(number)s", { number: n + 1 }));
        option.selected = camera.deviceId === current;
        return option;
      }));
      choice.disabled = cameras.length < 2;
      const capabilities = track.getCapabilities ? track.getCapabilities() : {};
      A.show(torch, Boolean(capabilities.torch));
      torch.setAttribute("aria-pressed", "false");
      A.show(controls, true);
    }

    choice.addEventListener("change", async () => {
      localStorage.setItem(CAMERA_DEVICE_KEY, choice.value);
      stop();
      await start();
    });

    torch.addEventListener("click", async () => {
      const track = stream && stream.getVideoTracks()[0];
      if (!track) return;
      const on = torch.getAttribute("aria-pressed") !== "true";
      try {
        await track.applyConstraints({ advanced: [{ torch: on }] });
        torch.setAttribute("aria-pressed", String(on));
      } catch (error) {
        message.textContent = A._("The torch could not be switched (%(reason)s).", { reason: error.message || error.name });
      }
    });

    function stop() {
      if (stream) stream.getTracks().forEach((track) => track.stop());
      stream = null;
      clearTimeout(timer);
      timer = null;
      A.show(view, false);
      A.show(controls, false);
      toggle.textContent = A._("Start camera");
    }

    toggle.addEventListener("click", () => {
      if (stream) {
        stop();
        localStorage.setItem(CAMERA_KEY, "off");
        message.textContent = A._("Camera off.");
      } else {
        start();
      }
    });

    return {
      get running() {
        return Boolean(stream);
      },
      autostart() {
        if (localStorage.getItem(CAMERA_KEY) === "on" && !stream) start();
      },
      pause() {
        paused = true;
      },
      resume() {
        paused = false;
        last.at = Date.now(); // the verdict's code may still be in view: that is the same showing
        if (stream && !timer) timer = setTimeout(tick, 300);
      },
      stop: stop,
    };
  })();

  // ---- Offline: the page kept by a service worker, the door's data kept in IndexedDB ----
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("controllerchange", markShellReady);
    navigator.serviceWorker.register("/operator-sw.js", { scope: "/operator" }).then(markShellReady, () => {});
  }

  /** For operators (and tests): the page now opens without a network. */
  function markShellReady() {
    if (navigator.serviceWorker.controller) document.body.dataset.offlineShell = "ready";
  }

  function minutesText(ms) {
    const minutes = Math.max(0, Math.floor(ms / 60000));
    if (minutes < 1) return A._("less than a minute");
    return A.ngettext("%(num)d minute", "%(num)d minutes", minutes);
  }

  function showOffline(state) {
    const badge = $("offline-badge");
    // Translators: the badge in the header while the scanner decides alone; %(age)s is "5 minutes".
    const withAge = () => A._("OFFLINE · data %(age)s old", { age: minutesText(state.ageMs) });
    badge.textContent = state.ageMs === null ? A._("OFFLINE") : withAge();
    A.show(badge, state.offline);
    const mode = state.offline ? "true" : "false";
    if (document.body.dataset.offline && document.body.dataset.offline !== mode) {
      $("announce").textContent = state.offline
        ? A._("Offline: verdicts are decided on this device.")
        : A._("Back online: verdicts come from the server again.");
    }
    document.body.dataset.offline = mode;
    const status = $("offline-status");
    status.dataset.tickets = String(state.tickets);
    status.dataset.generatedAt = state.generatedAt || "";
    status.textContent = state.hasBundle
      ? A.ngettext("Offline data: %(num)d ticket, %(age)s old.", "Offline data: %(num)d tickets, %(age)s old.", state.tickets, {
        age: minutesText(state.ageMs),
      })
      : A._("No offline data on this device yet.");
    const stale = state.hasBundle && state.ageMs > STALE_MS;
    const warning = state.refused ||
      (state.offline && !state.hasBundle ? A._("OFFLINE and no offline data: verdicts need the connection.") : "") ||
      (state.offline && stale
        ? A._("Offline data is %(age)s old: recent bookings, moves and entries elsewhere are missing. Check ID when in doubt.", {
          age: minutesText(state.ageMs),
        })
        : "");
    const box = $("offline-warning");
    if (box.textContent !== warning) A.setMessage(box, warning);
    box.dataset.stale = stale ? "true" : "false";
    const queue = $("sync-queue");
    queue.dataset.count = String(state.queueLength);
    queue.textContent = state.queueLength
      ? A.ngettext("%(num)d scan waiting to be sent to the server.", "%(num)d scans waiting to be sent to the server.", state.queueLength)
      : "";
  }

  async function startOffline(staff) {
    const operator = staff.operator;
    const module = await import("/static/js/offline-door.mjs");
    if (staff.operator !== operator || door) return; // logged out (or in again) meanwhile
    door = new module.OfflineDoor({
      call: staff.call,
      api: A.api,
      operator: operator,
      deviceId: deviceId(),
      now: A.serverNow,
      newId: A.randomId,
      switchMs: SWITCH_MS,
      onChange: showOffline,
    });
    door.start().catch((error) => {
      A.setMessage($("offline-warning"), A._("Offline mode is not available: %(reason)s", { reason: error.message }));
    });
  }

  setInterval(() => {
    if (door) showOffline(door.state()); // the data's age moves on
  }, 20000);

  session = A.staffPage({
    minRole: "operator",
    onGesture: unlockAudio,
    onReady: (staff) => {
      showScan("");
      camera.autostart();
      startOffline(staff);
    },
    onLogout: () => {
      if (door) door.stop();
      door = null;
      hideAll();
    },
  });
})(window.Admit);
