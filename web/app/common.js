// Shared by every page: boot (session, capability, language, connection, clock), rendering
// helpers that build DOM from data (text only, never HTML from the network), and the queue list.

import { Connection } from "/assets/lib/client.js";
import { Clock, remaining, phase, formatDuration } from "/assets/lib/clock.js";
import { LANGUAGES, RTL, pickLanguage, Catalog, reasonKey, errorKey } from "/assets/lib/i18n.js";
import { fromFragment } from "/assets/lib/link.js";
import { $, h } from "/assets/app/dom.js";

export { $, h };

/** The session id and role path from `/s/{id}/{role}`. */
function fromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return { session: parts[1] ?? "", role: parts[2] ?? "public" };
}

/** A catalogue's URL: the content-hashed one the page's head names (cached for good), else the plain one. */
function catalogueUrl(lang) {
  const named = document.querySelector('meta[name="rostrum-catalogues"]')?.content ?? "";
  for (const pair of named.split(" ")) {
    const [tag, url] = pair.split("=");
    if (tag === lang && url) return url;
  }
  return `/assets/i18n/${lang}.json`;
}

async function loadMessages(lang) {
  const res = await fetch(catalogueUrl(lang));
  if (!res.ok) throw new Error(`no catalog for ${lang}`);
  return res.json();
}

/** One id per page load: commands are numbered from 1 on each load, and the server answers a
 * resent (client, req) from its cache, so an id kept across reloads would replay old answers. */
function clientId() {
  return crypto.randomUUID();
}

/**
 * Start a page. `render(ctx)` redraws from `ctx.view`; `tick(ctx)` runs twice a second for
 * clocks; `onEvents(events, ctx, { prev, patch })` sees each update: its events (moderators
 * only), the view before it and its patch (for announcements).
 */
export async function boot({ render, tick = () => {}, onEvents = () => {}, token: pageToken, onJoined }) {
  const { session } = fromPath();
  const frag = fromFragment(location.hash);
  const ctx = { session, room: frag.room, view: null, clock: new Clock(), catalog: null, conn: null };
  await useLanguage(ctx, () => ctx.view && render(ctx));

  const token = pageToken ? pageToken(frag.token, session) : frag.token;
  ctx.token = token;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const conn = new Connection({ url: `${scheme}//${location.host}/ws`, session, token, clientId: clientId(), clock: ctx.clock });
  ctx.conn = conn;
  // Commands; refusals are shown, except those the caller handles itself (`expected` codes).
  ctx.send = (cmd, expected = []) =>
    conn.send(cmd).catch((err) => {
      if (!expected.includes(err.code)) showError(ctx, err.code, err.frame);
      throw err;
    });
  conn.addEventListener("status", (e) => setStatus(ctx, e.detail));
  conn.addEventListener("view", (e) => {
    ctx.view = e.detail.view;
    ctx.role = conn.role;
    ctx.participant = conn.participant;
    render(ctx);
    setStatus(ctx, conn.status); // "Ended" rather than "Live" once the session is over
    if (e.detail.patch) onEvents(e.detail.events ?? [], ctx, e.detail);
  });
  conn.addEventListener("presence", (e) => {
    ctx.presence = e.detail;
    if (ctx.view) render(ctx);
  });
  conn.addEventListener("error", (e) => showError(ctx, e.detail.code, e.detail));
  conn.addEventListener("fatal", (e) => showError(ctx, e.detail?.code ?? e.detail, null, true));
  if (onJoined) conn.addEventListener("joined", (e) => onJoined(e.detail, ctx));
  // The public is sent no update for a join: the ack itself makes the page a participant's.
  conn.addEventListener("joined", () => {
    ctx.participant = conn.participant;
    if (ctx.view) render(ctx);
  });
  addEventListener("offline", () => conn.networkLost());
  addEventListener("online", () => conn.networkBack());
  conn.start();
  setInterval(() => ctx.view && tick(ctx), 500);
  return ctx;
}

/**
 * The reader's language (the one picked before, else the browser's): its catalog, the page's
 * static text translated, and the language picker (`#lang`) filled. Sets `ctx.t(key, params)`,
 * `ctx.lang` and `ctx.setLanguage(lang)`; `onLanguage(ctx)` runs after each switch.
 */
export async function useLanguage(ctx, onLanguage = () => {}) {
  const first = pickLanguage(navigator.languages ?? [navigator.language], localStorage.getItem("rostrum:lang"));
  // English (behind every language) and the reader's at once: the page preloads both.
  const [en, firstMessages] = await Promise.all([loadMessages("en"), first === "en" ? null : loadMessages(first)]);
  ctx.setLanguage = async (lang, loaded = null) => {
    const messages = lang === "en" ? en : loaded ?? (await loadMessages(lang));
    ctx.catalog = new Catalog(lang, messages, en);
    ctx.lang = lang;
    document.documentElement.lang = lang;
    document.documentElement.dir = RTL.has(lang) ? "rtl" : "ltr";
    localStorage.setItem("rostrum:lang", lang);
    translateStatic(ctx);
    onLanguage(ctx);
  };
  ctx.t = (key, params) => ctx.catalog.t(key, params);
  await ctx.setLanguage(first, firstMessages);
  languagePicker(ctx);
}

/** Fill `[data-i18n]` elements and `[data-i18n-label]` aria-labels and placeholders. */
export function translateStatic(ctx) {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = ctx.t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", ctx.t(el.dataset.i18nLabel));
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = ctx.t(el.dataset.i18nPlaceholder);
  document.title = ctx.t(document.body.dataset.titleKey ?? "app.name");
  const status = document.getElementById("status");
  if (status) status.textContent = ctx.t(`status.${status.dataset.state}`);
}

function languagePicker(ctx) {
  const select = document.getElementById("lang");
  if (!select) return;
  select.replaceChildren(...LANGUAGES.map((l) => h("option", { value: l, lang: l }, ctx.t(`lang.${l}`))));
  select.value = document.documentElement.lang;
  select.addEventListener("change", () => ctx.setLanguage(select.value));
}

function setStatus(ctx, status) {
  const el = document.getElementById("status");
  if (!el) return;
  if (status === "online" && ctx.view?.session.controls.ended) status = "ended";
  el.dataset.state = status;
  el.textContent = ctx.t(`status.${status}`);
}

/** Show an error code, translated, in the page's alert region. */
export function showError(ctx, code, frame, fatal = false) {
  const el = document.getElementById("error");
  if (!el) return;
  const key = errorKey(code);
  let text = ctx.t(key);
  if (text === key) text = frame?.message ?? code;
  el.textContent = text;
  el.hidden = false;
  el.dataset.fatal = fatal ? "true" : "false";
  clearTimeout(el._timer);
  if (!fatal) el._timer = setTimeout(() => (el.hidden = true), 8000);
}

/** Say something to screen readers; what one update says is said together, none lost. */
let saying = null;
export function announce(text) {
  const el = document.getElementById("announce");
  if (!el) return;
  if (saying) return void saying.push(text);
  saying = [text];
  queueMicrotask(() => {
    el.textContent = saying.join(" ");
    saying = null;
  });
}

/**
 * Announcements for an update, read from its patch (the public gets no events): someone added
 * (a request new to the view), someone moved (a queued request taken out and put back at
 * another place), someone given the floor (a new turn).
 */
export function announceEvents(_events, ctx, { prev, patch } = {}) {
  if (!prev || !patch) return;
  const who = (id) => ctx.view.requests[id]?.who?.name ?? "";
  for (const r of patch.requests ?? []) {
    if (!prev.requests[r.id]) announce(ctx.t("announce.added", { name: who(r.id) }));
  }
  // Someone a moderator moved: their slot now says `moved` (placed again, or kept in place
  // while others were).
  const slots = [...(patch.order?.insert ?? []).map(([, slot]) => slot), ...(patch.order?.reasons ?? [])];
  for (const slot of slots) {
    if (slot?.reason !== "moved" || !prev.requests[slot.request]) continue;
    const position = ctx.view.queue.findIndex((s) => s.request === slot.request) + 1;
    announce(ctx.t("announce.moved", { name: who(slot.request), position }));
  }
  if (patch.floor && patch.floor.turn !== prev.floor?.turn) announce(ctx.t("announce.floor", { name: patch.floor.who?.name ?? "" }));
}

/** "m:ss" since a server timestamp. */
export function since(ctx, at) {
  return formatDuration(Math.max(0, ctx.clock.now() - at));
}

/** The floor's clock: text and phase (normal, warning, overtime). */
export function floorClock(ctx, floor) {
  const left = remaining(floor, ctx.clock.now());
  return { text: formatDuration(left), phase: phase(left, ctx.view.session.limits.warning_ms), paused: floor.paused_at != null };
}

/** A modality badge: text (never colour alone). */
export function modalityBadge(ctx, who) {
  const label = who.modality === "hub" ? ctx.t("modality.hub_count", { count: who.head_count }) : ctx.t(`modality.${who.modality}`);
  return h("span", { class: `badge badge-${who.modality}` }, label);
}

export function reasonText(ctx, slot) {
  const [key, params] = reasonKey(slot);
  return ctx.t(key, params);
}

/**
 * Render the queue into `list` (an <ol>), reusing each entry's element so focus stays put.
 * `actions(request, slot, index)` returns extra controls for moderators. The reader's own entry
 * (a participant's) is marked, in words as well as in colour. An open actions menu (a
 * `<details>` in an entry) stays open across renders.
 */
export function renderQueue(list, ctx, { actions, filter } = {}) {
  const view = ctx.view;
  const focusedId = document.activeElement?.closest?.("[data-request]")?.dataset.request;
  const focusedAction = document.activeElement?.dataset?.action;
  const openMenu = list.querySelector("details[open]")?.closest("[data-request]")?.dataset.request;
  const items = [];
  view.queue.forEach((slot, i) => {
    const r = view.requests[slot.request];
    if (!r || (filter && !filter(r))) return;
    const mine = ctx.participant != null && r.participant === ctx.participant && ctx.role === "participant";
    const label = ctx.t(mine ? "queue.entry_label_mine" : "queue.entry_label", { position: i + 1, name: r.who.name });
    items.push(
      h("li", { class: `entry entry-${r.state}${mine ? " entry-mine" : ""}`, "data-request": r.id, "aria-label": label },
        h("span", { class: "pos", "aria-hidden": "true" }, String(i + 1)),
        h("div", { class: "who" },
          h("span", { class: "name", dir: "auto" }, r.who.name),
          r.who.affiliation ? h("span", { class: "affiliation", dir: "auto" }, r.who.affiliation) : null,
          mine ? h("span", { class: "badge badge-mine" }, ctx.t("queue.you")) : null),
        h("div", { class: "meta" },
          presenceBadge(ctx, r.participant),
          modalityBadge(ctx, r.who),
          originBadge(ctx, r),
          h("span", { class: "kind" }, ctx.t(`kind.${r.kind}`)),
          r.state === "ready" ? h("span", { class: "badge badge-ready" }, ctx.t("state.ready")) : null,
          h("span", { class: "wait", "data-since": r.queued_at }, since(ctx, r.queued_at)),
          h("span", { class: "reason" }, reasonText(ctx, slot)),
          r.note ? h("span", { class: "note", dir: "auto", title: r.note }, r.note) : null),
        actions ? h("div", { class: "actions" }, actions(r, slot, i)) : null),
    );
  });
  list.replaceChildren(...items);
  if (!items.length) list.append(h("li", { class: "empty" }, ctx.t("queue.empty")));
  if (openMenu) {
    const menu = list.querySelector(`[data-request="${openMenu}"] details`);
    if (menu) menu.open = true;
  }
  if (focusedId) {
    const sel = focusedAction ? `[data-request="${focusedId}"] [data-action="${focusedAction}"]` : `[data-request="${focusedId}"]`;
    list.querySelector(sel)?.focus();
  }
}

/** A participant's connection, for moderators (people entered by a moderator have none). */
export function presenceBadge(ctx, participant) {
  const status = ctx.presence?.[participant];
  if (!status) return null;
  return h("span", { class: `presence presence-${status}` }, ctx.t(`presence.${status}`));
}

/** "via chat" or "added by the chair": an entry a moderator made, not one the person raised. */
export function originBadge(ctx, r) {
  if (r.origin === "relay") return h("span", { class: "badge badge-origin" }, ctx.t("origin.relay"));
  if (r.origin === "chair_proxy") return h("span", { class: "badge badge-origin" }, ctx.t("origin.chair_proxy"));
  return null;
}

/** Refresh the wait times shown (cheap: text only). */
export function tickWaits(ctx) {
  if (ctx.view.session.controls.ended) return; // a record: its waits are over
  for (const el of document.querySelectorAll("[data-since]")) el.textContent = since(ctx, Number(el.dataset.since));
}

/** Render the floor box: speaker, affiliation, modality, countdown. */
export function renderFloor(box, ctx) {
  const floor = ctx.view.floor;
  if (!floor) {
    const ended = ctx.view.session.controls.ended;
    box.replaceChildren(h("p", { class: ended ? "floor-empty floor-ended" : "floor-empty" }, ctx.t(ended ? "state.ended" : "floor.empty")));
    box.dataset.phase = "none";
    return;
  }
  const c = floorClock(ctx, floor);
  box.dataset.phase = c.phase;
  // What to read out (moderators only: the public audience gets no notes), for the whole turn.
  // The display and the public view get the text only while a moderator shows it (`floor.text`).
  const request = ctx.view.requests[floor.request];
  const text = floor.text ?? (request?.note && (floor.kind === "text_intervention" || request.origin === "relay") ? request.note : null);
  box.replaceChildren(
    h("p", { class: "floor-label" }, ctx.t("floor.speaking")),
    // The line keeps the page's direction (the name sits at the start edge in Arabic too); the
    // name itself is isolated, so a Latin name in an Arabic page (or the reverse) reads right.
    h("p", { class: "floor-name" }, h("bdi", {}, floor.who.name)),
    h("p", { class: "floor-affiliation" }, h("span", { dir: "auto" }, floor.who.affiliation), " ", presenceBadge(ctx, floor.participant), " ", modalityBadge(ctx, floor.who), " ", request ? originBadge(ctx, request) : null, " ", h("span", { class: "kind" }, ctx.t(`kind.${floor.kind}`))),
    ...(text ? [h("div", { class: "floor-text" }, h("p", { class: "floor-text-label" }, ctx.t("floor.read_out")), h("blockquote", { dir: "auto" }, text))] : []),
    h("p", { class: "countdown", role: "timer", "aria-live": "off" }, c.text),
    h("p", { class: "floor-phase" }, c.paused ? ctx.t("floor.paused") : c.phase === "overtime" ? ctx.t("floor.overtime") : c.phase === "warning" ? ctx.t("floor.warning") : ""),
  );
}

/** Update only the countdown text and phase of a rendered floor box. */
export function tickFloor(box, ctx) {
  const floor = ctx.view.floor;
  if (!floor) return;
  const c = floorClock(ctx, floor);
  box.dataset.phase = c.phase;
  const cd = box.querySelector(".countdown");
  if (cd) cd.textContent = c.text;
  const ph = box.querySelector(".floor-phase");
  if (ph) ph.textContent = c.paused ? ctx.t("floor.paused") : c.phase === "overtime" ? ctx.t("floor.overtime") : c.phase === "warning" ? ctx.t("floor.warning") : "";
}

/** Counts of waiting requests by modality. */
export function counts(view) {
  const out = { onsite: 0, online: 0, hub: 0 };
  for (const slot of view.queue) {
    const r = view.requests[slot.request];
    if (r) out[r.who.modality] += 1;
  }
  return out;
}

/** "Waiting: 3 in the room, 2 online, 1 hub", each count with its plural. */
export function waitingText(ctx) {
  const c = counts(ctx.view);
  return ctx.t("counts.waiting", { onsite: c.onsite, online: c.online, hubs: ctx.t("counts.hubs", { count: c.hub }) });
}

/**
 * Ask for a reason (and, with `position`, a one-based position) in a modal dialog; resolves
 * `{reason, position}`, or null on cancel.
 */
export function ask(ctx, titleKey, { position = null, params = {} } = {}) {
  return new Promise((resolve) => {
    const input = h("input", { type: "text", maxlength: "200", id: "ask-input" });
    const pos = position == null ? null : h("input", { type: "number", min: "1", max: String(position.max), value: String(position.value), id: "ask-position", required: true });
    const dialog = h("dialog", { class: "ask", "aria-labelledby": "ask-title" },
      h("form", { method: "dialog" },
        h("h2", { id: "ask-title" }, ctx.t(titleKey, params)),
        pos ? [h("label", { for: "ask-position" }, ctx.t("dialog.position")), pos] : null,
        h("label", { for: "ask-input" }, ctx.t("dialog.reason")),
        input,
        h("div", { class: "dialog-buttons" },
          h("button", { value: "cancel", formnovalidate: true }, ctx.t("dialog.cancel")),
          h("button", { value: "ok", class: "primary" }, ctx.t("dialog.ok")))));
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      const ok = dialog.returnValue === "ok";
      dialog.remove();
      resolve(ok ? { reason: input.value.trim() || null, position: pos ? Number(pos.value) : null } : null);
    });
    dialog.showModal();
    (pos ?? input).focus();
  });
}

/** Ask a yes/no question in a modal dialog. */
export function confirmDialog(ctx, textKey, params = {}) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "ask", "aria-labelledby": "confirm-text" },
      h("form", { method: "dialog" },
        h("p", { id: "confirm-text" }, ctx.t(textKey, params)),
        h("div", { class: "dialog-buttons" },
          h("button", { value: "cancel" }, ctx.t("dialog.cancel")),
          h("button", { value: "ok", class: "primary" }, ctx.t("dialog.confirm")))));
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok");
    });
    dialog.showModal();
  });
}
