/* Moving and cancelling from a visitor's page, for one reservation or for a whole party: the calendar,
 * the confirmations, and the policy's refusals in the page's language (from the page's data-* answers,
 * and again from the API when it refuses). The page says what is moved and shows the result. */
"use strict";

(function (A) {
  const $ = A.$;

  // Translators: a reservation's status, shown as a small label.
  const STATUS_WORDS = {
    RESERVED: A._("Booked"),
    VERIFIED: A._("Used for entry"),
    CANCELLED: A._("Cancelled"),
    EXPIRED: A._("Expired"),
  };

  function statusWord(status) {
    return STATUS_WORDS[status] || status;
  }

  // How the visitor's pages write a visit's day and hours: the one place to change it. "Today" and
  // "tomorrow" are the venue's, wherever the visitor is: `booking` (the item itself, or for an offered
  // slot the booking it would replace) carries the venue's time zone.
  function venueToday(item, booking) {
    return A.venueToday((booking || item).venue.timezone);
  }

  function visitDay(item, booking) {
    return A.dayText(item.date, venueToday(item, booking), { opening: true });
  }

  function visitWhen(item, booking) {
    return A.when(item.date, item.start_time, item.end_time, venueToday(item, booking));
  }

  /**
   * options.current(): the booking as shown (date, start_time, end_time, slot_id); options.code(): a
   * ticket code whose venue's times to offer; options.places(): the places a new time needs;
   * options.question(from, to): the words asking to move; options.move(slot), options.cancel(): the
   * API's calls; options.moved(answer), options.cancelled(answer): show the answer.
   */
  function changePanels(options) {
    const data = document.body.dataset;
    let target = null;

    const calendar = A.Calendar($("calendar"), {
      code: options.code,
      places: options.places,
      onPick: (slot) => {
        if (slot.slot_id === options.current().slot_id) {
          A.setMessage($("change-message"), A._("This is your current time already: pick another one."), "info");
          return;
        }
        target = slot;
        $("move-question").textContent = options.question(visitWhen(options.current()), visitWhen(slot, options.current()));
        A.setMessage($("change-message"), "");
        A.show($("move-confirm"), true);
        $("move-go").focus();
      },
    });

    function render(live) {
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
        render(true);
      }
    }

    $("change-start").addEventListener("click", () => {
      A.show($("change-picker"), true);
      A.show($("move-confirm"), false);
      A.show($("change-start"), false);
      const current = options.current();
      calendar.select(current); // the current time stays marked among the others
      calendar.open(current.date).then(() => {
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
        const answer = await options.move(target);
        A.show($("move-confirm"), false);
        A.show($("change-picker"), false);
        A.setMessage($("change-message"), "");
        options.moved(answer);
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
        const answer = await options.cancel();
        A.show($("cancel-confirm"), false);
        options.cancelled(answer);
      } catch (error) {
        refused(error, "cancel-message");
      } finally {
        button.disabled = false;
      }
    });

    return { render: render };
  }

  A.statusWord = statusWord;
  A.visitDay = visitDay;
  A.visitWhen = visitWhen;
  A.changePanels = changePanels;
})(window.Admit);
