// The organizer's event view: rooms x time, day by day, from the programme; which sessions are
// live, their queue, their remote share of turns and who speaks; and each session's links to hand its chair (copy, mail,
// the join QR code). The admin token rides in the URL fragment and is sent only as
// `Authorization: Bearer`. It polls the programme and the sessions' summaries every 750 ms, so
// a change shows within 1 s.

import { $, h } from "/assets/app/dom.js";
import { tokenFrom } from "/assets/lib/link.js";
import { getJson } from "/assets/lib/api.js";

const POLL_MS = 750;
const token = tokenFrom(location.hash) ?? "";
const ROLES = [["chair", "Chair"], ["online_moderator", "Online moderator"], ["participant", "Participants"], ["display", "Display"], ["public", "Public view"]];

const day = (ms) => new Date(ms).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

// Links fetched once per session, on demand (they carry the chair's capability).
const handouts = new Map();
const open = new Set();

async function handout(session, cell) {
  if (open.has(session)) {
    open.delete(session);
    cell.querySelector(".session-links")?.remove();
    return;
  }
  open.add(session);
  if (!handouts.has(session)) handouts.set(session, await getJson(`/api/sessions/${session}/links`, token));
  cell.append(links(handouts.get(session)));
}

function links(handout) {
  const body = ROLES.map(([k, label]) => `${label}: ${handout.links[k]}`).join("\n");
  const mail = `mailto:?subject=${encodeURIComponent(`Your links: ${handout.title}`)}&body=${encodeURIComponent(body)}`;
  const qr = new DOMParser().parseFromString(handout.participant_qr_svg, "image/svg+xml").documentElement;
  qr.setAttribute("role", "img");
  qr.setAttribute("aria-label", `Join QR code: ${handout.title}`);
  return h("div", { class: "session-links" },
    ...ROLES.map(([k, label]) => h("div", { class: "copy-row" },
      h("label", {}, label, " ", h("input", { readonly: true, value: handout.links[k], "data-role": k })),
      h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(handout.links[k]) }, "Copy"))),
    h("p", {}, h("a", { href: mail, "data-mail": "" }, "Mail the links")),
    h("div", { class: "qr" }, document.importNode(qr, true)));
}

function badge(s) {
  if (!s) return h("span", { class: "badge badge-damaged" }, "missing");
  if (s.ended) return h("span", { class: "badge badge-ended" }, "ended");
  return h("span", { class: `badge badge-${s.state}` }, s.state);
}

function cell(entry, summary) {
  const td = h("td", { "data-session": entry.session, "data-state": summary?.ended ? "ended" : summary?.state ?? "missing" },
    h("strong", { dir: "auto" }, entry.title), " ", badge(summary),
    h("div", { class: "note" }, `${clock(entry.start)}–${clock(entry.end)} · ${entry.external_id}`));
  if (summary && summary.state === "live" && !summary.ended) {
    td.append(h("div", { class: "figures-live" },
      `${summary.queued} waiting · ${summary.participants} participants`,
      summary.turns > 0 ? ` · remote share ${Math.round((100 * summary.remote_turns) / summary.turns)}%` : "",
      summary.floor ? ` · speaking: ${summary.floor.name}` : ""));
  }
  const button = h("button", { type: "button", "aria-expanded": String(open.has(entry.session)) }, "Links");
  button.addEventListener("click", () => handout(entry.session, td).then(() => button.setAttribute("aria-expanded", String(open.has(entry.session)))).catch((e) => alertText(String(e.message ?? e))));
  td.append(button);
  if (open.has(entry.session) && handouts.has(entry.session)) td.append(links(handouts.get(entry.session)));
  return td;
}

function render(programme, sessions) {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  const days = new Map();
  for (const e of programme.sessions) {
    const d = day(e.start);
    if (!days.has(d)) days.set(d, []);
    days.get(d).push(e);
  }
  const live = programme.sessions.filter((e) => byId.get(e.session)?.state === "live" && !byId.get(e.session)?.ended).length;
  $("totals").textContent = `${programme.sessions.length} sessions in ${programme.rooms.length} rooms; ${live} live now.`;
  // Keep the reader's focus and open links across a redraw.
  const focused = document.activeElement?.closest?.("td")?.dataset.session;
  $("days").replaceChildren(...[...days].map(([d, entries]) => {
    const starts = [...new Set(entries.map((e) => e.start))].sort((a, b) => a - b);
    const rooms = programme.rooms.filter((r) => entries.some((e) => e.room === r.id));
    return h("section", {},
      h("h2", {}, d),
      h("table", { class: "event-grid" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Start"), ...rooms.map((r) => h("th", { scope: "col" }, r.name)))),
        h("tbody", {}, ...starts.map((t) => h("tr", {},
          h("th", { scope: "row" }, clock(t)),
          ...rooms.map((r) => {
            const e = entries.find((x) => x.start === t && x.room === r.id);
            return e ? cell(e, byId.get(e.session)) : h("td", {});
          }))))));
  }));
  if (focused) document.querySelector(`td[data-session="${focused}"] button`)?.focus();
}

function alertText(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

async function loop() {
  try {
    const [programme, list] = await Promise.all([getJson("/api/programme", token), getJson("/api/sessions", token)]);
    render(programme, list.sessions);
    alertText("");
    $("status").textContent = `Updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.ready = "true";
  } catch (e) {
    alertText(String(e.message ?? e));
  }
  setTimeout(loop, POLL_MS);
}

loop();
