// The room display (projector): the speaker and a large countdown, the next five, counts by
// modality, and the room's rotating join code with its QR code.

import { boot, h, renderFloor, tickFloor, modalityBadge, counts, showError } from "/assets/app/common.js";

const $ = (id) => document.getElementById(id);

function render(ctx) {
  renderFloor($("floor"), ctx);
  const next = ctx.view.queue.slice(0, 5).map((slot, i) => {
    const r = ctx.view.requests[slot.request];
    return h("li", {}, h("span", { class: "pos" }, String(i + 1)), h("span", { class: "name", dir: "auto" }, r.who.name), h("span", { class: "affiliation", dir: "auto" }, r.who.affiliation), " ", modalityBadge(ctx, r.who));
  });
  $("next").replaceChildren(...(next.length ? next : [h("li", { class: "empty" }, ctx.t("queue.empty"))]));
  const c = counts(ctx.view);
  $("counts").replaceChildren(
    ...["onsite", "online", "hub"].map((m) => h("div", { class: "count" }, h("span", { class: "count-n" }, String(c[m])), h("span", {}, ctx.t(`modality.${m}`)))),
  );
  $("session-title").textContent = ctx.view.session.title;
  // No join code while the session takes no newcomers.
  const { locked, suspended, ended } = ctx.view.session.controls;
  const key = ended ? "state.ended" : locked ? "join.locked" : suspended ? "me.suspended" : null;
  const closed = $("join-closed");
  closed.hidden = key == null;
  closed.textContent = key ? ctx.t(key) : "";
  for (const id of ["qr", "room-code"]) $(id).hidden = locked || ended;
  document.querySelector(".room-code-label").hidden = locked || ended;
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
  (ctx) => {
    const token = new URLSearchParams(location.hash.slice(1)).get("t") ?? location.hash.slice(1);
    roomCode(ctx, token);
  },
  (err) => showError({ t: (k) => k }, "unavailable", { message: String(err) }, true),
);
