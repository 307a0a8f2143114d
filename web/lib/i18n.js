// Translations: the server sends codes, the page says them in the reader's language.

export const LANGUAGES = ["en", "fr", "es", "ar", "zh", "ru"];
export const RTL = new Set(["ar"]);

/** The language to use: the stored choice if supported, else the browser's first supported. */
export function pickLanguage(preferred = [], stored = null) {
  if (stored && LANGUAGES.includes(stored)) return stored;
  for (const tag of preferred ?? []) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(primary)) return primary;
  }
  return "en";
}

/** A language's messages, with English behind them. */
export class Catalog {
  constructor(lang, messages, fallback = {}) {
    this.lang = lang;
    this.messages = messages;
    this.fallback = fallback;
    this.plural = new Intl.PluralRules(lang);
  }

  /** The message for `key` with `{name}` placeholders filled; the key itself if unknown. */
  t(key, params = {}) {
    let m = this.messages[key] ?? this.fallback[key];
    if (m == null) return key;
    if (typeof m === "object") {
      const form = this.plural.select(Number(params.count ?? 0));
      m = m[form] ?? m.other ?? Object.values(m)[0];
    }
    return m.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }
}

/**
 * A message whose `{name}` placeholders stand for elements (a title in its own direction, a
 * code in bold): the parts, text and nodes, in the translation's order. Unknown names stay
 * as text, so a missing node shows as `{name}` rather than vanishing.
 */
export function splice(message, nodes) {
  return message.split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    return name && name in nodes ? nodes[name] : part;
  });
}

/**
 * A language's ways of writing days, times and shares, in the reader's time zone. The pages
 * write no date or time by hand, so the order, the separators and the digits are the language's.
 */
export function formats(lang) {
  const day = new Intl.DateTimeFormat(lang, { weekday: "long", day: "numeric", month: "long" });
  const time = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  const dayTime = new Intl.DateTimeFormat(lang, { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
  const seconds = new Intl.DateTimeFormat(lang, { timeStyle: "medium" });
  const percent = new Intl.NumberFormat(lang, { style: "percent" });
  return {
    /** "Tuesday, December 1" */
    day: (ms) => day.format(ms),
    /** "09:00 AM" */
    time: (ms) => time.format(ms),
    /** "9:00 – 10:30 AM": one range, shared parts written once. */
    range: (start, end) => time.formatRange(start, end),
    /** "Tuesday, December 1 at 09:00 AM" */
    dayTime: (ms) => dayTime.format(ms),
    /** "9:41:07 AM" */
    clock: (ms) => seconds.format(ms),
    /** "42%" of 0.42 */
    percent: (x) => percent.format(x),
  };
}

/** The message key and parameters for a queue slot's reason. */
export function reasonKey(slot) {
  switch (slot.reason) {
    case "starved":
      return ["reason.starved", { minutes: Math.round(slot.waited_ms / 60000) }];
    case "alternating":
      return [`reason.alternating_${slot.after}`, {}];
    case "moved":
      return slot.note ? ["reason.moved", { note: slot.note }] : ["reason.moved_plain", {}];
    default:
      return [`reason.${slot.reason}`, {}];
  }
}

/** The message key of an error code. */
export function errorKey(code) {
  return `error.${code}`;
}
