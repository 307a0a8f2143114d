// The view a console holds, and the patches that move it along: a direct port of the server's
// `View::apply` (src/protocol/view.rs), so pages never run the queue's rules themselves.

/** The view no longer matches the server's: ask for a fresh snapshot. */
export class Diverged extends Error {}

/** Apply an update's patch; returns a new view and leaves the input untouched. */
export function applyPatch(view, patch) {
  const next = { ...view, requests: { ...view.requests } };
  if (patch.session) next.session = patch.session;
  for (const id of patch.closed ?? []) delete next.requests[id];
  for (const r of patch.requests ?? []) next.requests[r.id] = r;
  if ("floor" in patch) next.floor = patch.floor;
  if (patch.fairness) next.fairness = patch.fairness;
  next.queue = patch.order ? applyOrderPatch(view.queue, patch.order) : view.queue;
  return next;
}

function applyOrderPatch(queue, order) {
  const gone = new Set(order.remove ?? []);
  const out = queue.filter((s) => !gone.has(s.request));
  for (const [index, slot] of order.insert ?? []) {
    if (index > out.length) throw new Diverged(`insert at ${index} past the end (${out.length})`);
    out.splice(index, 0, slot);
  }
  for (const slot of order.reasons ?? []) {
    const at = out.findIndex((s) => s.request === slot.request);
    if (at < 0) throw new Diverged(`reason for unknown entry ${slot.request}`);
    out[at] = slot;
  }
  if (out.length !== order.len) throw new Diverged(`length ${out.length}, expected ${order.len}`);
  return out;
}

/** Replace the queue with an `order` frame's. */
export function applyOrder(view, queue) {
  return { ...view, queue };
}

/** One-based position of a request in the queue, or 0. */
export function positionOf(view, requestId) {
  return view.queue.findIndex((s) => s.request === requestId) + 1;
}

/** The open request of a participant, or null. */
export function myRequest(view, participantId) {
  return Object.values(view.requests).find((r) => r.participant === participantId) ?? null;
}

/** Waiting requests by side: onsite is the room; online and hubs are remote. */
export function waitingBySide(view) {
  const out = { room: 0, remote: 0 };
  for (const s of view.queue) {
    const r = view.requests[s.request];
    if (r) out[r.who.modality === "onsite" ? "room" : "remote"] += 1;
  }
  return out;
}

/** The first `n` slots with their requests. */
export function nextUp(view, n) {
  return view.queue.slice(0, n).map((slot) => ({ slot, request: view.requests[slot.request] }));
}
