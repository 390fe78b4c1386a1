/* The door's words in the scanner page's language: the page's own (common.js: Admit._, Admit.locale),
   read when a word is needed, so these modules may load before it. Where there is no page (the node
   tests, a worker) the words stay English, the language the messages are written in. */

function page() {
  return globalThis.Admit;
}

function fill(text, values) {
  return text.replace(/%\((\w+)\)[sd]/g, (whole, name) => (values && name in values ? String(values[name]) : whole));
}

/** The message in the page's language: _("Entry from %(time)s", { time: "09:30" }). */
export function _(message, values) {
  const A = page();
  return A ? A._(message, values) : fill(message, values);
}

/** The plural form for `n`, which fills %(num)d. */
export function ngettext(singular, plural, n, values) {
  const A = page();
  return A ? A.ngettext(singular, plural, n, values) : fill(n === 1 ? singular : plural, { num: n, ...values });
}

/** Marks a message for the catalogues where it is defined; it is translated where it is shown. */
export function N_(message) {
  return message;
}

/** The locale for Intl: the page's; English as in Britain (24-hour, day before month) without one. */
export function locale() {
  return page()?.locale ?? "en-GB";
}
