// Reordering the queue by hand on the consoles: drag an entry onto another's place, or press
// Alt+↑ / Alt+↓ on it; either asks for the reason, as "Move…" does, and sends one `move`.

import { $, ask } from "/assets/app/common.js";

/** Move an entry to `to` (one-based), after asking the reason (the position can be changed). */
export async function moveWithReason(ctx, id, to) {
  const r = ctx.view.requests[id];
  if (!r) return;
  const a = await ask(ctx, "dialog.move_to_title", { params: { name: r.who.name }, position: { value: to, max: ctx.view.queue.length } });
  if (a) ctx.send({ type: "move", request: id, position: a.position, reason: a.reason }).catch(() => {});
}

/**
 * Reordering by hand: drag an entry onto another's place, or (the keyboard's way) Alt+↑ / Alt+↓
 * on an entry; either asks for the reason, as "Move…" does. Entries the moderator does not
 * manage are not draggable.
 */
export function dragToMove(ctx) {
  // An open actions menu closes on a click elsewhere, or Escape (focus back on its button).
  document.addEventListener("click", (e) => {
    for (const d of document.querySelectorAll("details.more[open]")) if (!d.contains(e.target)) d.open = false;
  });
  document.addEventListener("keydown", (e) => {
    const d = e.key === "Escape" && document.activeElement?.closest?.("details.more[open]");
    if (!d) return;
    d.open = false;
    d.querySelector("summary").focus();
  });
  const list = $("queue");
  let dragged = null;
  const indexOf = (id) => ctx.view.queue.findIndex((s) => s.request === id) + 1;
  const clear = () => list.querySelectorAll(".drop-target, .dragging").forEach((el) => el.classList.remove("drop-target", "dragging"));
  list.addEventListener("dragstart", (e) => {
    const li = e.target.closest?.("[data-request][draggable=true]");
    if (!li) return;
    dragged = Number(li.dataset.request);
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", li.dataset.request);
    li.classList.add("dragging");
  });
  list.addEventListener("dragover", (e) => {
    const li = e.target.closest?.("[data-request]");
    if (dragged == null || !li) return;
    e.preventDefault();
    clear();
    li.classList.add("drop-target");
  });
  list.addEventListener("dragend", () => {
    dragged = null;
    clear();
  });
  list.addEventListener("drop", (e) => {
    const li = e.target.closest?.("[data-request]");
    const id = dragged;
    dragged = null;
    clear();
    if (id == null || !li) return;
    e.preventDefault();
    const to = indexOf(Number(li.dataset.request));
    if (to > 0 && to !== indexOf(id)) moveWithReason(ctx, id, to);
  });
  list.addEventListener("keydown", (e) => {
    if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    const li = e.target.closest?.("[data-request][draggable=true]");
    if (!li) return;
    const id = Number(li.dataset.request);
    const to = indexOf(id) + (e.key === "ArrowUp" ? -1 : 1);
    if (to < 1 || to > ctx.view.queue.length) return;
    e.preventDefault();
    moveWithReason(ctx, id, to);
  });
}
