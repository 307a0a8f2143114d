// The room display (projector): the speaker and a large countdown, the agenda item, the next
// six with their kind, counts by modality, and the room's rotating join code with its QR code
// (only while the room can join: not once the list is closed, locked or ended).

import { $, boot, h, renderFloor, tickFloor, modalityBadge, originBadge, counts, showError } from "/assets/app/common.js";

/** How many next speakers the display lists. */
const NEXT = 6;

function render(ctx) {
  const s = ctx.view.session;
  const { locked, suspended, ended } = s.controls;
  renderFloor($("floor"), ctx);
  $("agenda").textContent = s.item == null || ended ? "" : ctx.t("display.agenda", { title: s.agenda[s.item] });
  // The kind is shown so the room sees why a point of order or a direct reply went first.
  const next = ctx.view.queue.slice(0, NEXT).map((slot, i) => {
    const r = ctx.view.requests[slot.request];
    return h("li", {},
      h("span", { class: "pos" }, String(i + 1)),
      h("div", { class: "who" },
        h("p", { class: "line" },
          h("span", { class: "name", dir: "auto" }, r.who.name), " ",
          r.who.affiliation ? h("span", { class: "affiliation", dir: "auto" }, r.who.affiliation) : null),
        // The room needs to know what was relayed from the chat, not who typed an entry in.
        h("span", { class: "tags" }, modalityBadge(ctx, r.who), " ", r.origin === "relay" ? originBadge(ctx, r) : null, " ", h("span", { class: `badge badge-kind kind-${r.kind}` }, ctx.t(`kind.${r.kind}`)))));
  });
  // After the end nobody is next: the display says the session is over instead.
  $("next-section").hidden = ended;
  $("next").replaceChildren(...(next.length ? next : [h("li", { class: "empty" }, ctx.t("queue.empty"))]));
  const c = counts(ctx.view);
  $("counts").replaceChildren(
    ...["onsite", "online", "hub"].map((m) => h("div", { class: "count" }, h("span", { class: "count-n" }, String(c[m])), h("span", {}, ctx.t(`modality.${m}`)))),
  );
  $("session-title").textContent = s.title;
  // No invitation to join while joining is closed: ended, locked, paused, or the list closed.
  // (Once ended, the floor box says so, large: nothing to repeat here.)
  const key = ended ? null : locked ? "join.locked" : suspended ? "me.suspended" : !s.list_open ? "display.list_closed" : null;
  const closed = $("join-closed");
  closed.hidden = key == null;
  closed.textContent = key ? ctx.t(key) : "";
  const inviting = key == null && !ended;
  $("join-h").hidden = !inviting;
  for (const id of ["qr", "room-code"]) $(id).hidden = !inviting;
  document.querySelector(".room-code-label").hidden = !inviting;
}

/** Fetch the room code and QR, and again when the code rotates. */
async function roomCode(ctx, token) {
  let delay = 5000;
  try {
    const res = await fetch(`/api/sessions/${ctx.session}/room`, { headers: { Authorization: `Bearer ${token}` } });
    if (res.ok) {
      const room = await res.json();
      $("room-code").textContent = room.code.replace(/(\d{3})(\d{3})/, "$1 $2");
      const svg = new DOMParser().parseFromString(room.qr_svg, "image/svg+xml").documentElement;
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", ctx.t("display.qr_label"));
      $("qr").replaceChildren(document.importNode(svg, true));
      delay = Math.max(1000, room.next_at - ctx.clock.now() + 500);
    }
  } catch {}
  setTimeout(() => roomCode(ctx, token), delay);
}

boot({ render, tick: (ctx) => tickFloor($("floor"), ctx) }).then(
  (ctx) => roomCode(ctx, ctx.token),
  (err) => showError({ t: (k) => k }, "unavailable", { message: String(err) }, true),
);
