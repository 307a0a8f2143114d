// Pages with no live session behind them (the organizer's page, the room poster): the language,
// its catalog and the page's static text, a language picker, and errors said in that language.

import { h, translateStatic } from "/assets/app/common.js";
import { LANGUAGES, RTL, pickLanguage, Catalog, errorKey } from "/assets/lib/i18n.js";

async function messages(lang) {
  const res = await fetch(`/assets/i18n/${lang}.json`);
  if (!res.ok) throw new Error(`no catalog for ${lang}`);
  return res.json();
}

/**
 * Load the reader's language and translate the page; `onLanguage(ctx)` runs after each switch.
 * Returns `ctx` with `t(key, params)` and `lang`.
 */
export async function startPage(onLanguage = () => {}) {
  const en = await messages("en");
  const ctx = {};
  const setLanguage = async (lang) => {
    ctx.catalog = new Catalog(lang, lang === "en" ? en : await messages(lang), en);
    ctx.lang = lang;
    document.documentElement.lang = lang;
    document.documentElement.dir = RTL.has(lang) ? "rtl" : "ltr";
    localStorage.setItem("rostrum:lang", lang);
    translateStatic(ctx);
    onLanguage(ctx);
  };
  ctx.t = (key, params) => ctx.catalog.t(key, params);
  await setLanguage(pickLanguage(navigator.languages ?? [navigator.language], localStorage.getItem("rostrum:lang")));
  const select = document.getElementById("lang");
  if (select) {
    select.replaceChildren(...LANGUAGES.map((l) => h("option", { value: l, lang: l }, ctx.t(`lang.${l}`))));
    select.value = ctx.lang;
    select.addEventListener("change", () => setLanguage(select.value));
  }
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

/** Fetch JSON from the API with the bearer token; `{ok, status, body}` (body null if not JSON). */
export async function api(path, token, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  let json = null;
  try {
    json = await res.json();
  } catch {}
  return { ok: res.ok, status: res.status, body: json };
}
