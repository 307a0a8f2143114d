// The organizer's page: create sessions, watch every session live (the list is polled every few
// seconds), hand out each session's role links, open its room poster and report, end it. The
// admin token rides in the URL fragment and goes to the API only as `Authorization: Bearer`.

import { $, h, announce, confirmDialog } from "/assets/app/common.js";
import { startPage, apiErrorText, alertText, api } from "/assets/app/standalone.js";
import { tokenFrom } from "/assets/lib/link.js";
import { newSession, stateOf, arrange, totals } from "/assets/lib/organize.js";

const POLL_MS = 5000;
const ROLES = ["chair", "online_moderator", "participant", "display", "public"];

const page = { ctx: null, token: null, sessions: [], updatedAt: null, inflight: null };

/** Copy `input`'s text: the clipboard API where the page is a secure context, else a selection. */
async function copy(input, button) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand("copy");
  }
  announce(page.ctx.t("org.copied"));
  // Seen as well as heard: the button says so for a moment.
  button.textContent = `✓ ${page.ctx.t("org.copied")}`;
  button.classList.add("copied");
  clearTimeout(button._reset);
  button._reset = setTimeout(() => {
    button.textContent = page.ctx.t("org.copy");
    button.classList.remove("copied");
  }, 2000);
}

/** One session's card, kept across polls so focus and an open links panel stay put. */
class SessionCard extends HTMLElement {
  build() {
    const id = this.dataset.id;
    this.heading = h("h3", { id: `s-${id}-h`, dir: "auto" });
    this.state = h("span", { class: "badge" });
    this.created = h("span", { class: "created" });
    this.figures = h("dl", { class: "figures" });
    this.linksButton = h("button", { type: "button", "aria-expanded": "false", "aria-controls": `s-${id}-links`, onclick: () => this.toggleLinks() });
    this.poster = h("a", { class: "button-link", target: "_blank", rel: "noopener" });
    this.report = h("a", { class: "button-link", target: "_blank", rel: "noopener" });
    this.endButton = h("button", { type: "button", class: "danger", onclick: () => this.end() });
    this.damage = h("p", { class: "alert" });
    this.links = h("div", { id: `s-${id}-links`, class: "session-links", hidden: true });
    this.article = h("article", { class: "session-card", "aria-labelledby": `s-${id}-h` },
      this.heading,
      h("p", { class: "session-meta" }, this.state, " ", this.created, " ", h("span", { class: "session-id" }, id)),
      this.figures,
      this.damage,
      h("div", { class: "controls" }, this.linksButton, this.poster, this.report, this.endButton),
      this.links);
    this.append(this.article);
    this.built = true;
  }

  /** Redraw from the latest listing. */
  update(s) {
    if (!this.built) this.build();
    const { t, lang } = page.ctx;
    this.data = s;
    const state = stateOf(s);
    const damaged = state === "damaged";
    this.heading.textContent = damaged ? t("org.damaged_heading") : s.title;
    this.state.textContent = t(`org.state_${state}`);
    this.state.className = `badge badge-${state}`;
    this.created.textContent = t("org.created_at", { time: new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(s.created_at)) });
    const floor = s.floor ? [s.floor.name, s.floor.affiliation ? ` (${s.floor.affiliation})` : "", ` · ${t(`modality.${s.floor.modality}`)}`].join("") : t("org.floor_none");
    const figure = (key, value, cls = "") => h("div", { class: cls }, h("dt", {}, t(key)), h("dd", { dir: "auto" }, String(value)));
    this.figures.hidden = damaged;
    if (!damaged) {
      this.figures.replaceChildren(
        figure("org.connections", s.connections),
        figure("org.participants", s.participants),
        figure("org.waiting", s.queued),
        figure("org.floor", floor, "figure-wide"),
      );
    }
    this.damage.hidden = !damaged;
    this.damage.textContent = damaged ? t("org.damaged_note", { seq: s.damaged.seq }) : "";
    this.linksButton.textContent = t("org.links");
    this.linksButton.hidden = damaged;
    const frag = `#t=${encodeURIComponent(page.token)}`;
    this.poster.textContent = t("org.poster");
    this.poster.href = `/s/${s.id}/poster${frag}`;
    this.poster.hidden = damaged;
    this.report.textContent = t("org.report");
    this.report.href = `/s/${s.id}/report${frag}`;
    this.report.hidden = damaged;
    this.endButton.textContent = t("org.end");
    this.endButton.hidden = damaged || state === "ended";
    if (damaged && !this.links.hidden) this.toggleLinks();
    // Relabelled on a language switch only: a poll must not take a selection away.
    if (this.handout && this.linksLang !== lang) this.renderLinks();
  }

  async toggleLinks() {
    const open = this.links.hidden;
    this.linksButton.setAttribute("aria-expanded", String(open));
    this.links.hidden = !open;
    if (open) await this.loadLinks();
  }

  /** The links as they work now (after any rotation), fetched each time the panel opens. */
  async loadLinks() {
    const res = await api(`/api/sessions/${this.dataset.id}/links`, page.token);
    if (!res.ok) {
      alertText(apiErrorText(page.ctx, res.body, res.status));
      return;
    }
    this.handout = res.body;
    this.renderLinks();
  }

  renderLinks() {
    const t = page.ctx.t;
    const focused = document.activeElement?.dataset?.copy;
    const rows = ROLES.map((role) => {
      const id = `s-${this.dataset.id}-${role}`;
      const input = h("input", { id, readonly: true, value: this.handout.links[role], dir: "ltr", onfocus: (e) => e.target.select() });
      return h("div", { class: "link-row" },
        h("label", { for: id }, t(`rotate.${role}`)),
        h("div", { class: "copy-row" }, input,
          h("button", { type: "button", "data-copy": role, "aria-label": t("org.copy_label", { role: t(`rotate.${role}`) }), onclick: (e) => copy(input, e.currentTarget) }, t("org.copy"))));
    });
    const shortId = `s-${this.dataset.id}-short`;
    const shortInput = h("input", { id: shortId, readonly: true, value: this.handout.short_url, dir: "ltr", onfocus: (e) => e.target.select() });
    rows.push(h("div", { class: "link-row" },
      h("label", { for: shortId }, t("org.short")),
      h("div", { class: "copy-row" }, shortInput,
        h("button", { type: "button", "data-copy": "short", "aria-label": t("org.copy_label", { role: t("org.short") }), onclick: (e) => copy(shortInput, e.currentTarget) }, t("org.copy")))));
    this.links.replaceChildren(h("p", { class: "note" }, t("org.links_note")), ...rows);
    this.linksLang = page.ctx.lang;
    if (focused) this.links.querySelector(`[data-copy="${focused}"]`)?.focus();
  }

  async end() {
    const s = this.data;
    if (!(await confirmDialog(page.ctx, "org.end_confirm", { title: s.title }))) return;
    const res = await api(`/api/sessions/${s.id}/end`, page.token, { method: "POST" });
    if (!res.ok) {
      alertText(apiErrorText(page.ctx, res.body, res.status));
      return;
    }
    announce(page.ctx.t("org.ended", { title: s.title }));
    await refresh(true);
    this.linksButton.focus();
  }
}
customElements.define("rostrum-session", SessionCard);

/** Redraw the list from `page.sessions`, reusing each session's card. */
function renderList() {
  const { t } = page.ctx;
  const list = $("sessions");
  const shown = arrange(page.sessions, { query: $("find").value, showEnded: $("show-ended").checked });
  list.querySelector(".empty")?.remove();
  const cards = new Map([...list.querySelectorAll("rostrum-session")].map((c) => [c.dataset.id, c]));
  const next = shown.map((s) => {
    const card = cards.get(s.id) ?? document.createElement("rostrum-session");
    card.dataset.id = s.id;
    card.update(s);
    return card;
  });
  // Move only what moved, so a focused button inside a card keeps its focus.
  next.forEach((card, i) => {
    if (list.children[i] !== card) list.insertBefore(card, list.children[i] ?? null);
  });
  for (const c of [...list.querySelectorAll("rostrum-session")]) if (!next.includes(c)) c.remove();
  if (!shown.length) list.append(h("p", { class: "empty" }, t(page.sessions.length ? "org.no_match" : "org.none")));
  $("totals").textContent = t("org.totals", totals(page.sessions));
  $("updated").textContent = page.updatedAt ? t("org.updated", { time: new Intl.DateTimeFormat(page.ctx.lang, { timeStyle: "medium" }).format(page.updatedAt) }) : "";
}

function setStatus(state) {
  const el = $("status");
  el.dataset.state = state;
  el.textContent = page.ctx.t(`status.${state}`);
}

/** Ask for the token: none was given, or the one given is refused (polling stops until another
 * is given). */
function askForToken(refused) {
  page.token = null;
  $("token-section").hidden = false;
  $("create-section").hidden = true;
  $("sessions-section").hidden = true;
  setStatus("offline");
  if (refused) alertText(page.ctx.t("error.unauthorized"), 0);
  $("token").focus();
}

/**
 * Fetch the list and redraw. A timer's poll joins one in flight; `afterChange` (a session was
 * just created or ended) waits for it and asks again, so the answer includes the change.
 */
async function refresh(afterChange = false) {
  if (page.inflight && !afterChange) return page.inflight;
  while (page.inflight) await page.inflight;
  page.inflight = poll();
  try {
    await page.inflight;
  } finally {
    page.inflight = null;
  }
}

/** One poll; the first success shows the page's sections. Never throws. */
async function poll() {
  try {
    const res = await api("/api/sessions", page.token);
    if (res.status === 401) return askForToken(true);
    if (!res.ok) throw new Error(apiErrorText(page.ctx, res.body, res.status));
    page.sessions = res.body.sessions;
    page.updatedAt = new Date();
    $("token-section").hidden = true;
    if ($("create-section").hidden) {
      // Open beside the list on a wide screen, or when there is nothing to watch yet; on a phone
      // the sessions come first and the form is one tap away.
      $("create-section").open = matchMedia("(min-width: 70rem)").matches || !page.sessions.length;
    }
    $("create-section").hidden = false;
    $("sessions-section").hidden = false;
    setStatus("online");
    renderList();
    document.body.dataset.ready = "true";
  } catch (e) {
    setStatus("offline");
    alertText(e instanceof TypeError ? page.ctx.t("status.offline") : e.message);
  }
}

async function create(e) {
  e.preventDefault();
  const form = e.target;
  const f = new FormData(form);
  const out = newSession({ title: f.get("title"), policy: f.get("policy"), minutes: f.get("minutes"), agenda: f.get("agenda") });
  const err = $("create-error");
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  if (out.error) {
    err.textContent = page.ctx.t(out.error);
    err.hidden = false;
    const field = form.elements[out.field];
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", "create-error");
    field.focus();
    return;
  }
  err.hidden = true;
  const res = await api("/api/sessions", page.token, { method: "POST", body: out.body });
  if (!res.ok) {
    err.textContent = apiErrorText(page.ctx, res.body, res.status);
    err.hidden = false;
    return;
  }
  form.reset();
  announce(page.ctx.t("org.created", { title: out.body.title }));
  $("find").value = "";
  await refresh(true);
  const card = $("sessions").querySelector(`rostrum-session[data-id="${res.body.id}"]`);
  if (card) {
    await card.toggleLinks();
    card.scrollIntoView({ block: "nearest" });
    card.linksButton.focus();
  }
}

/** Take the token from the fragment and start (again). */
function useFragment() {
  page.token = tokenFrom(location.hash);
  $("error").hidden = true;
  // The event view (rooms by time) opens with the same token, in the fragment.
  $("event-link").href = `/event#t=${encodeURIComponent(page.token ?? "")}`;
  if (page.token) refresh();
  else askForToken(false);
}

startPage(() => {
  if (page.ctx && !$("sessions-section").hidden) renderList();
}).then((ctx) => {
  page.ctx = ctx;
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    // Into the fragment, like every capability: never sent to the server in a URL.
    const hash = `#t=${encodeURIComponent($("token").value.trim())}`;
    if (location.hash === hash) useFragment();
    else location.hash = hash;
  });
  addEventListener("hashchange", useFragment);
  $("create-form").addEventListener("submit", create);
  $("find").addEventListener("input", renderList);
  $("show-ended").addEventListener("change", renderList);
  useFragment();
  setInterval(() => document.hidden || !page.token || refresh(), POLL_MS);
  document.addEventListener("visibilitychange", () => document.hidden || refresh());
}, (err) => alertText(String(err), 0));
