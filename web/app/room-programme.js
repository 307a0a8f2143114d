// A room's programme, to print and hand to the room's technicians and chairs: each session in
// the room by day and time with its role links and the QR code of its join link. Fetched with
// the admin token from the URL fragment; drawn again in the language picked on the page.

import { $, h } from "/assets/app/dom.js";
import { startPage, apiErrorText, alertText, api } from "/assets/app/standalone.js";
import { tokenFrom } from "/assets/lib/link.js";
import { formats } from "/assets/lib/i18n.js";

const room = location.pathname.split("/").filter(Boolean)[1];
const token = tokenFrom(location.hash) ?? "";
const ROLES = ["chair", "online_moderator", "participant"];

/** The room and each of its sessions with its links, once fetched. */
let printed = null;

/** The JSON body of `GET path`; an error said in the reader's language when refused. */
async function getJson(ctx, path) {
  const res = await api(path, token);
  if (!res.ok) throw new Error(apiErrorText(ctx, res.body, res.status));
  return res.body;
}

function render(ctx) {
  if (!printed) return;
  const { t } = ctx;
  const f = formats(ctx.lang);
  const { here, cards } = printed;
  $("room-name").textContent = here.name;
  $("room-facts").textContent = [t("room.seats", { count: here.capacity }), here.hub ? t("room.hub") : null].filter(Boolean).join(" · ");
  $("sessions").replaceChildren(...cards.map(({ entry: e, handout }) => {
    const qr = new DOMParser().parseFromString(handout.participant_qr_svg, "image/svg+xml").documentElement;
    qr.setAttribute("role", "img");
    qr.setAttribute("aria-label", t("room.join_qr", { title: e.title }));
    return h("section", { class: "card", "data-session": e.session },
      h("h2", { dir: "auto" }, e.title),
      h("p", {}, t("room.when", { day: f.day(e.start), times: f.range(e.start, e.end) }), " · ", h("bdi", {}, e.external_id)),
      h("dl", {}, ...ROLES.flatMap((k) => [h("dt", {}, t(`rotate.${k}`)), h("dd", { "data-role": k, dir: "ltr" }, handout.links[k])])),
      h("div", { class: "qr" }, document.importNode(qr, true)));
  }));
}

startPage(render).then(async (ctx) => {
  $("print").addEventListener("click", () => print());
  try {
    const programme = await getJson(ctx, "/api/programme");
    const here = programme.rooms.find((r) => r.id === room);
    if (!here) throw new Error(ctx.t("error.unknown_room"));
    const cards = [];
    for (const entry of programme.sessions.filter((s) => s.room === room)) {
      cards.push({ entry, handout: await getJson(ctx, `/api/sessions/${entry.session}/links`) });
    }
    printed = { here, cards };
    render(ctx);
    document.body.dataset.ready = "true";
  } catch (e) {
    alertText(String(e.message ?? e), 0);
  }
}, (err) => alertText(String(err), 0));
