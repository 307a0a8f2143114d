// The organizer's event view: rooms x time, day by day, from the programme; which sessions are
// live, their queue, their remote share of turns and who speaks; and each session's links to hand its chair (copy, mail,
// the join QR code); deleting an entry or an empty room, after a confirmation. The admin token
// rides in the URL fragment and is sent only as
// `Authorization: Bearer`. It polls the programme and the sessions' summaries every 750 ms, so
// a change shows within 1 s. Words, days and times are the reader's language's.

import { $, h } from "/assets/app/dom.js";
import { startPage, apiErrorText, api } from "/assets/app/standalone.js";
import { confirmDialog } from "/assets/app/common.js";
import { tokenFrom } from "/assets/lib/link.js";
import { formats } from "/assets/lib/i18n.js";
import { stateOf } from "/assets/lib/organize.js";

const POLL_MS = 750;
const token = tokenFrom(location.hash) ?? "";
const ROLES = ["chair", "online_moderator", "participant", "display", "public"];

// Links fetched once per session, on demand (they carry the chair's capability).
const handouts = new Map();
const open = new Set();
/** The last programme and sessions, drawn again on a change of language. */
let last = null;

/** The JSON body of `GET path`; an error said in the reader's language when refused. */
async function getJson(ctx, path) {
  const res = await api(path, token);
  if (!res.ok) throw new Error(apiErrorText(ctx, res.body, res.status));
  return res.body;
}

async function handout(ctx, session, cell) {
  if (open.has(session)) {
    open.delete(session);
    cell.querySelector(".session-links")?.remove();
    return;
  }
  open.add(session);
  if (!handouts.has(session)) handouts.set(session, await getJson(ctx, `/api/sessions/${session}/links`));
  cell.append(links(ctx, handouts.get(session)));
}

function links(ctx, handout) {
  const { t } = ctx;
  const body = ROLES.map((k) => t("event.mail_line", { role: t(`rotate.${k}`), link: handout.links[k] })).join("\n");
  const mail = `mailto:?subject=${encodeURIComponent(t("event.mail_subject", { title: handout.title }))}&body=${encodeURIComponent(body)}`;
  const qr = new DOMParser().parseFromString(handout.participant_qr_svg, "image/svg+xml").documentElement;
  qr.setAttribute("role", "img");
  qr.setAttribute("aria-label", t("room.join_qr", { title: handout.title }));
  return h("div", { class: "session-links" },
    ...ROLES.map((k) => h("div", { class: "copy-row" },
      h("label", {}, t(`rotate.${k}`), " ", h("input", { readonly: true, value: handout.links[k], "data-role": k, dir: "ltr" })),
      h("button", { type: "button", "aria-label": t("org.copy_label", { role: t(`rotate.${k}`) }), onclick: () => navigator.clipboard?.writeText(handout.links[k]) }, t("org.copy")))),
    h("p", {}, h("a", { href: mail, "data-mail": "" }, t("event.mail"))),
    h("div", { class: "qr" }, document.importNode(qr, true)));
}

/** A session's state, in words, as the organizer's page says it: live (someone has it open),
 * idle, ended, damaged, or missing from the list. */
function badge(ctx, s) {
  if (!s) return h("span", { class: "badge badge-damaged" }, ctx.t("event.state_missing"));
  const state = stateOf(s);
  return h("span", { class: `badge badge-${state}` }, ctx.t(`org.state_${state}`));
}

/** What a live session's cell says of it: its queue, its people, its remote share, its speaker. */
function figures(ctx, s) {
  const { t } = ctx;
  return [
    t("event.waiting", { count: s.queued }),
    t("event.participants", { count: s.participants }),
    s.turns > 0 ? t("event.remote_share", { share: formats(ctx.lang).percent(s.remote_turns / s.turns) }) : null,
    s.floor ? t("event.speaking", { name: s.floor.name }) : null,
  ].filter(Boolean).join(" · ");
}

function cell(ctx, entry, summary) {
  const f = formats(ctx.lang);
  const td = h("td", { "data-session": entry.session, "data-state": summary ? stateOf(summary) : "missing" },
    h("strong", { dir: "auto" }, entry.title), " ", badge(ctx, summary),
    h("div", { class: "note" }, f.range(entry.start, entry.end), " · ", h("bdi", {}, entry.external_id)));
  if (summary && stateOf(summary) === "live") {
    td.append(h("div", { class: "figures-live" }, figures(ctx, summary)));
  }
  const button = h("button", { type: "button", "aria-expanded": String(open.has(entry.session)) }, ctx.t("org.links"));
  button.addEventListener("click", () => handout(ctx, entry.session, td).then(() => button.setAttribute("aria-expanded", String(open.has(entry.session)))).catch((e) => alertText(String(e.message ?? e))));
  const del = h("button", { type: "button", class: "danger", "data-delete-entry": entry.external_id, "aria-label": ctx.t("event.delete_entry_label", { title: entry.title }) }, ctx.t("event.delete"));
  del.addEventListener("click", () => remove(ctx, "event.delete_entry_confirm", { title: entry.title, id: entry.external_id }, `/api/programme/entries/${encodeURIComponent(entry.external_id)}`));
  td.append(button, " ", del);
  if (open.has(entry.session) && handouts.has(entry.session)) td.append(links(ctx, handouts.get(entry.session)));
  return td;
}

/** Delete what `path` names once the organizer confirms `key`; a refusal is said in the page. */
async function remove(ctx, key, params, path) {
  if (!(await confirmDialog(ctx, key, params))) return;
  const res = await api(path, token, { method: "DELETE" }).catch(() => null);
  if (!res) return alertText(ctx.t("alert.unreachable"));
  if (!res.ok) return alertText(apiErrorText(ctx, res.body, res.status), 15000);
  alertText("");
  // (The next poll draws it if this refresh cannot.)
  await refresh(ctx).catch(() => {});
}

/** Every room, with how many sessions the programme has in it and a button to delete it. */
function roomList(ctx, programme) {
  const { t } = ctx;
  return programme.rooms.map((r) => {
    const count = programme.sessions.filter((e) => e.room === r.id).length;
    const del = h("button", { type: "button", class: "danger", "data-delete-room": r.id, "aria-label": t("event.delete_room_label", { name: r.name }) }, t("event.delete"));
    del.addEventListener("click", () => remove(ctx, "event.delete_room_confirm", { name: r.name }, `/api/rooms/${r.id}`));
    return h("li", { "data-room": r.id }, h("bdi", {}, r.name), " · ", t("event.room_sessions", { count }), " ", del);
  });
}

function render(ctx) {
  if (!last) return;
  const { programme, sessions } = last;
  const { t } = ctx;
  const f = formats(ctx.lang);
  const byId = new Map(sessions.map((s) => [s.id, s]));
  const days = new Map();
  for (const e of programme.sessions) {
    const d = f.day(e.start);
    if (!days.has(d)) days.set(d, []);
    days.get(d).push(e);
  }
  const live = programme.sessions.filter((e) => byId.has(e.session) && stateOf(byId.get(e.session)) === "live").length;
  $("totals").textContent = t("event.totals", { sessions: programme.sessions.length, rooms: programme.rooms.length, live });
  // Keep the reader's focus and open links across a redraw.
  const focused = document.activeElement?.closest?.("td")?.dataset.session;
  $("days").replaceChildren(...[...days].map(([d, entries]) => {
    const starts = [...new Set(entries.map((e) => e.start))].sort((a, b) => a - b);
    const rooms = programme.rooms.filter((r) => entries.some((e) => e.room === r.id));
    return h("section", {},
      h("h2", {}, d),
      h("div", { class: "event-scroll" },
        h("table", { class: "event-grid" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("event.start")), ...rooms.map((r) => h("th", { scope: "col", dir: "auto" }, r.name)))),
          h("tbody", {}, ...starts.map((start) => h("tr", {},
            h("th", { scope: "row" }, f.time(start)),
            ...rooms.map((r) => {
              const e = entries.find((x) => x.start === start && x.room === r.id);
              return e ? cell(ctx, e, byId.get(e.session)) : h("td", {});
            })))))));
  }));
  $("rooms").replaceChildren(...roomList(ctx, programme));
  if (focused) document.querySelector(`td[data-session="${focused}"] button`)?.focus();
  if (last.at) $("updated").textContent = t("org.updated", { time: f.clock(last.at) });
}

/** Until when a deletion's refusal stays said (the poll clears other alerts when it succeeds). */
let saidUntil = 0;

function alertText(text, holdMs = 0) {
  $("error").textContent = text;
  $("error").hidden = !text;
  saidUntil = holdMs ? Date.now() + holdMs : 0;
}

async function refresh(ctx) {
  const [programme, list] = await Promise.all([getJson(ctx, "/api/programme"), getJson(ctx, "/api/sessions")]);
  last = { programme, sessions: list.sessions, at: Date.now() };
  render(ctx);
}

async function loop(ctx) {
  try {
    await refresh(ctx);
    // (A deletion's refusal stays said for a while.)
    if (Date.now() > saidUntil) alertText("");
    document.body.dataset.ready = "true";
  } catch (e) {
    // A refusal comes said; a server out of reach is said as one.
    alertText(e instanceof TypeError ? ctx.t("alert.unreachable") : String(e.message ?? e));
  }
  setTimeout(() => loop(ctx), POLL_MS);
}

startPage(render).then(loop, (err) => alertText(String(err)));
