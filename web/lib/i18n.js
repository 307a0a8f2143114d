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
