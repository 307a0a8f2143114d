// A room's programme, to print and hand to the room's technicians and chairs: each session in
// the room by day and time with its role links and the QR code of its join link. Fetched with
// the admin token from the URL fragment.

import { $, h } from "/assets/app/dom.js";
import { tokenFrom } from "/assets/lib/link.js";
import { getJson } from "/assets/lib/api.js";

const room = location.pathname.split("/").filter(Boolean)[1];
const token = tokenFrom(location.hash) ?? "";
const ROLES = [["chair", "Chair"], ["online_moderator", "Online moderator"], ["participant", "Participants"]];

const when = (start, end) => {
  const day = new Date(start).toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });
  const t = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return `${day}, ${t(start)}–${t(end)}`;
};

$("print").addEventListener("click", () => print());
try {
  const programme = await getJson("/api/programme", token);
  const here = programme.rooms.find((r) => r.id === room);
  if (!here) throw new Error("no such room");
  $("room-name").textContent = here.name;
  $("room-facts").textContent = `${here.capacity} seats${here.hub ? " · a remote hub's room" : ""}`;
  const entries = programme.sessions.filter((s) => s.room === room);
  const cards = [];
  for (const e of entries) {
    const handout = await getJson(`/api/sessions/${e.session}/links`, token);
    const qr = new DOMParser().parseFromString(handout.participant_qr_svg, "image/svg+xml").documentElement;
    qr.setAttribute("role", "img");
    qr.setAttribute("aria-label", `Join QR code: ${e.title}`);
    cards.push(h("section", { class: "card", "data-session": e.session },
      h("h2", { dir: "auto" }, e.title),
      h("p", {}, `${when(e.start, e.end)} · ${e.external_id}`),
      h("dl", {}, ...ROLES.flatMap(([k, label]) => [h("dt", {}, label), h("dd", { "data-role": k }, handout.links[k])])),
      h("div", { class: "qr" }, document.importNode(qr, true))));
  }
  $("sessions").replaceChildren(...cards);
  document.body.dataset.ready = "true";
} catch (e) {
  $("error").textContent = String(e.message ?? e);
  $("error").hidden = false;
}
