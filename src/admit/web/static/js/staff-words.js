/* What the office pages say alike: the door's results and reasons as a manager reads them, and counts. */
"use strict";

window.AdmitStaff = (function (A) {
  // Translators: the door's results are named by their colours, as the scanner shows them.
  const RESULT_NAMES = { GREEN: A._("GREEN"), YELLOW: A._("YELLOW"), RED: A._("RED") };
  const RESULT_MEANINGS = { GREEN: A._("valid"), YELLOW: A._("warning"), RED: A._("refused") };
  // The door's reasons; one this page does not know yet shows as its code in words.
  const REASONS = {
    VALID: A._("valid"),
    ALREADY_VERIFIED: A._("already verified"),
    NO_RESERVATION: A._("no reservation"),
    NO_RESERVATION_ALLOWED: A._("no reservation, allowed"),
    WRONG_DATE: A._("wrong date"),
    TOO_EARLY: A._("too early"),
    INVALID_TICKET: A._("invalid ticket"),
    VOID: A._("cancelled ticket"),
    EXPIRED: A._("expired"),
    PAYMENT_PENDING: A._("payment pending"),
    NOT_ACTIVATED: A._("not activated"),
  };
  const NUMBER = new Intl.NumberFormat(A.locale);

  function resultName(result) {
    return RESULT_NAMES[result] || result;
  }

  function resultMeaning(result) {
    return RESULT_MEANINGS[result] || "";
  }

  function reasonWords(code) {
    return REASONS[code] || String(code).toLowerCase().replace(/_/g, " ");
  }

  /** "GREEN · valid", "RED · invalid ticket": a result with its meaning or reason. */
  function resultWith(result, meaning) {
    return A._("%(result)s · %(meaning)s", { result: resultName(result), meaning: meaning });
  }

  /** A count as the page's language writes numbers (1,234 or 1.234). */
  function count(n) {
    return NUMBER.format(n || 0);
  }

  return { resultName, resultMeaning, reasonWords, resultWith, count };
})(window.Admit);
