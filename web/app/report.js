// The printable session report: the JSON of /api/sessions/{id}/report, fetched with the link's
// moderator token, laid out as headings and tables (text only, never HTML from the network).

import { h } from "/assets/app/dom.js";
import { tokenFrom } from "/assets/lib/link.js";
import { startPage } from "/assets/app/standalone.js";
import { SECTIONS, splitSections } from "/assets/lib/sections.js";

const mmss = (ms) => `${Math.floor(ms / 60000)}:${String(Math.floor(ms / 1000) % 60).padStart(2, "0")}`;

function table(t, head, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, t(c))))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => (i === 0 ? h("th", { scope: "row" }, c) : h("td", {}, c)))))));
}

function takeaways(text, t) {
  const parts = splitSections(text);
  const written = SECTIONS.filter((s) => parts[s.key]);
  if (!written.length) return [h("p", {}, t("report.none"))];
  return written.flatMap((s) => [h("h3", {}, t(`igf.${s.key}`)), h("p", { class: "takeaways" }, parts[s.key])]);
}

function render(r, t) {
  const main = document.getElementById("main");
  document.getElementById("report-title").textContent = r.title;
  const section = (key, ...body) => h("section", {}, h("h2", {}, t(key)), ...body);
  const label = (prefix, k) => { const key = `${prefix}.${k}`; const s = t(key); return s === key ? k.replaceAll("_", " ") : s; };
  const splits = ["by_modality", "by_kind", "by_stakeholder", "by_gender"].map((axis) => {
    const keys = [...new Set([...Object.keys(r.requests[axis]), ...Object.keys(r.turns[axis])])].sort();
    const prefix = { by_modality: "modality", by_kind: "kind", by_stakeholder: "stakeholder", by_gender: "gender" }[axis];
    return table(t, [`report.${axis}`, "report.requests", "report.turns"], keys.map((k) => [label(prefix, k), r.requests[axis][k] ?? 0, r.turns[axis][k] ?? 0]));
  });
  const q = r.remote_questions;
  main.replaceChildren(
    h("p", {}, `${r.date.slice(0, 10)} · ${t(r.ended ? "report.ended" : "report.in_progress")} · ${r.moderators.map((m) => `${label("report", m.role)} (${m.actions})`).join(", ")}`),
    r.agenda.length ? section("agenda.title", h("ol", {}, r.agenda.map((a) => h("li", {}, a)))) : null,
    section("report.participation",
      table(t, ["report.modality", "report.participants", "report.people"], [...Object.entries(r.attendance).map(([m, a]) => [label("modality", m), a.participants, a.people]), [t("report.all"), "", r.people]]),
      r.hubs.length ? h("ul", {}, r.hubs.map((hub) => h("li", {}, `${hub.name} (${hub.affiliation}): ${hub.head_count}`))) : null),
    section("report.requests_turns", h("p", {}, t("report.totals", { requests: r.requests.total, turns: r.turns.total })), splits),
    section("report.times", table(t, ["report.modality", "report.wait_mean", "report.wait_median", "report.wait_p90", "report.turns", "report.speaking_total"],
      Object.entries(r.waits).map(([m, w]) => [label("modality", m), mmss(w.mean_ms), mmss(w.median_ms), mmss(w.p90_ms), w.count, mmss(r.speaking[m]?.total_ms ?? 0)]))),
    Object.keys(r.unserved).length
      ? section("report.unserved", table(t, ["report.modality", "report.requests", "report.longest_wait"], Object.entries(r.unserved).map(([m, u]) => [label("modality", m), u.count, mmss(u.longest_ms)])))
      : null,
    section("remote.title", h("p", {}, t("counts.remote", q))),
    section("report.overrides", r.overrides.length
      ? h("ul", {}, r.overrides.map((o) => h("li", {}, `${new Date(o.at).toISOString().slice(11, 19)} · ${label("report", o.action)} · `, h("bdi", {}, o.who ?? ""), `: ${o.reason ?? t("report.no_reason")}`)))
      : h("p", {}, t("report.none"))),
    // Who spoke, in order, with how long (OpenSlides keeps the same as "finished speakers").
    section("report.speakers", r.speakers?.length
      ? table(t, ["report.n", "report.time", "report.name", "report.modality", "form.kind", "report.spoke"],
        r.speakers.map((sp, i) => [String(i + 1), new Date(sp.at).toISOString().slice(11, 19), h("bdi", {}, sp.affiliation ? `${sp.name} (${sp.affiliation})` : sp.name),
          sp.origin === "relay" ? `${label("modality", sp.modality)} · ${t("origin.relay")}` : label("modality", sp.modality), label("kind", sp.kind), mmss(sp.spoken_ms)]))
      : h("p", {}, t("report.none"))),
    // The rapporteur's text, section by section as the console's boxes hold it.
    section("report.takeaways", ...takeaways(r.takeaways, t)),
  );
}

async function start() {
  const { t } = await startPage();
  document.getElementById("print").addEventListener("click", () => print());
  const session = location.pathname.split("/").filter(Boolean)[1];
  const token = tokenFrom(location.hash);
  const res = await fetch(`/api/sessions/${session}/report`, { headers: { Authorization: `Bearer ${token}` } });
  const body = await res.json();
  if (!res.ok) {
    const el = document.getElementById("error");
    el.textContent = t(`error.${body.code}`) === `error.${body.code}` ? body.message : t(`error.${body.code}`);
    el.hidden = false;
    return;
  }
  render(body, t);
  document.body.dataset.ready = "true";
}

start();
