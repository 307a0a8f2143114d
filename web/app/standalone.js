// Pages with no live session behind them (the organizer's page, the room poster): the language,
// its catalog and the page's static text, a language picker, and errors said in that language.

import { useLanguage } from "/assets/app/common.js";
import { errorKey } from "/assets/lib/i18n.js";

export { api } from "/assets/lib/api.js";

/**
 * Load the reader's language and translate the page; `onLanguage(ctx)` runs after each switch.
 * Returns `ctx` with `t(key, params)` and `lang`.
 */
export async function startPage(onLanguage = () => {}) {
  const ctx = {};
  await useLanguage(ctx, onLanguage);
  return ctx;
}

/** The text for an API error `{code, message}`: the translation, with the server's detail. */
export function apiErrorText(ctx, body, status) {
  const code = body?.code ?? "unavailable";
  const key = errorKey(code);
  const said = ctx.t(key);
  if (said === key) return body?.message || `${status ?? ""} ${code}`.trim();
  // The server's message names the field or the limit; the translation alone may not.
  return body?.message && !["unauthorized", "rate_limited", "unavailable"].includes(code) ? `${said} (${body.message})` : said;
}

/** Show `text` in the page's alert region until `hideAfterMs` (0: until replaced). */
export function alertText(text, hideAfterMs = 8000) {
  const el = document.getElementById("error");
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(el._timer);
  if (hideAfterMs) el._timer = setTimeout(() => (el.hidden = true), hideAfterMs);
}
